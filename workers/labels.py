"""Label-system job bodies (thin: load ids, call the service, report)."""

from __future__ import annotations

from typing import Any

from apps.labels.models import LabelSystemVersion
from apps.labels.services import merge_proposals_suggest, wordnet_for_site

from .base import JobContext, JobParameterError


def run_suggest_merges(ctx: JobContext) -> dict[str, Any]:
    from ram_model.text.wordnet import WordNetMissingError

    version = LabelSystemVersion.objects.filter(pk=ctx.params["version"]).first()
    if version is None:
        raise JobParameterError(f"label system version {ctx.params['version']} no longer exists")
    ctx.progress(0, total=1, unit="versions")
    try:
        wordnet = wordnet_for_site()
    except WordNetMissingError as exc:
        raise JobParameterError(str(exc)) from None
    ctx.log(f"suggesting merges for {version} with WordNet from {wordnet.data_dir}")
    ctx.check_cancel()
    result = merge_proposals_suggest(
        version=version, wordnet=wordnet, reasons=ctx.params.get("reasons") or _all_reasons(),
        max_senses=int(ctx.params.get("max_senses", 3)), min_confidence=float(ctx.params.get("min_confidence", 0)))
    ctx.progress(1, total=1)
    ctx.log(f"{result['created']} new proposals ({result['suggested']} suggested for "
            f"{result['vocabulary']} tags)")
    return result


def _all_reasons() -> tuple[str, ...]:
    from ram_model.text.synonyms import REASONS

    return REASONS
