"""Merge proposals: suggest them for a draft version (WordNet, plurals, translations), accept or reject them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ram_model.text.synonyms import PLURAL, REASONS, SYNSET, TRANSLATION, suggest_merges
from ram_model.text.wordnet import DEFAULT_MAX_SENSES, WordNet

from ..models import LabelSystemVersion, MergeProposal, ProposalStatus, Provenance, Tag, TagGroup
from .groups import compact_group_indices, tag_groups_merge
from .versions import _user, refuse_if_published

REASON_PROVENANCE = {SYNSET: Provenance.WORDNET, PLURAL: Provenance.WORDNET, TRANSLATION: Provenance.TRANSLATION}


@transaction.atomic
def merge_proposals_suggest(*, version: LabelSystemVersion, wordnet: WordNet,
                            reasons: Iterable[str] = REASONS, max_senses: int = DEFAULT_MAX_SENSES,
                            min_confidence: float = 0.0) -> dict[str, Any]:
    """Store a pending proposal for each suggested pair of tags that are not yet in one group.

    Re-running adds only new pairs (a decided proposal is never re-opened).
    """
    refuse_if_published(version)
    tags = list(Tag.objects.filter(version=version).order_by("group__index", "position", "homonym")
                .values_list("id", "text", "name_zh", "group_id"))
    by_text: dict[str, tuple[int, int]] = {}
    translations: dict[str, str] = {}
    for pk, text, name_zh, group_id in tags:
        if text not in by_text:
            by_text[text] = (pk, group_id)
            translations[text] = name_zh
    suggestions = suggest_merges(wordnet, list(by_text), translations, max_senses=max_senses, reasons=reasons)
    rows = []
    for s in suggestions:
        (a, group_a), (b, group_b) = by_text[s.tag_a], by_text[s.tag_b]
        if group_a != group_b and s.confidence >= min_confidence:
            rows.append(MergeProposal(version=version, tag_a_id=a, tag_b_id=b, reason=s.reason,
                                      confidence=s.confidence, detail=s.detail[:300]))
    before = MergeProposal.objects.filter(version=version).count()
    MergeProposal.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    created = MergeProposal.objects.filter(version=version).count() - before
    by_reason = {reason: sum(1 for r in rows if r.reason == reason) for reason in REASONS}
    return {"vocabulary": len(by_text), "suggested": len(rows), "created": created, "by_reason": by_reason}


def _decide(proposals: Sequence[MergeProposal], status: str, user: AbstractBaseUser | None) -> None:
    now = timezone.now()
    for proposal in proposals:
        proposal.status, proposal.decided_by, proposal.decided_at = status, _user(user), now
    MergeProposal.objects.bulk_update(proposals, ["status", "decided_by", "decided_at"])


def _pending(proposals: Iterable[MergeProposal]) -> list[MergeProposal]:
    ids = [p.pk for p in proposals]
    found = list(MergeProposal.objects.select_for_update().filter(pk__in=ids).order_by("-confidence", "id"))
    decided = [p for p in found if p.status != ProposalStatus.PENDING]
    if decided:
        raise ValidationError(f"proposal #{decided[0].pk} was already {decided[0].status}")
    return found


@transaction.atomic
def merge_proposals_accept(*, proposals: Iterable[MergeProposal],
                           user: AbstractBaseUser | None = None) -> list[TagGroup]:
    """Accept pending proposals: merge each pair's groups (if not already one) with the proposal's provenance.

    Proposals are applied best confidence first; tag IDs are compacted once at the end.
    """
    pending = _pending(proposals)
    if not pending:
        return []
    versions = {p.version_id for p in pending}
    if len(versions) != 1:
        raise ValidationError("accept proposals of one version at a time")
    version = pending[0].version
    refuse_if_published(version)
    merged = []
    for proposal in pending:
        group_of = dict(Tag.objects.filter(pk__in=[proposal.tag_a_id, proposal.tag_b_id])
                        .values_list("pk", "group_id"))
        if group_of[proposal.tag_a_id] != group_of[proposal.tag_b_id]:
            groups = list(TagGroup.objects.filter(pk__in=set(group_of.values())))
            merged.append(tag_groups_merge(groups=groups, user=user, proposal=proposal, compact=False,
                                           provenance=REASON_PROVENANCE.get(proposal.reason, Provenance.MANUAL)))
    _decide(pending, ProposalStatus.ACCEPTED, user)
    compact_group_indices(version)
    return merged


@transaction.atomic
def merge_proposals_reject(*, proposals: Iterable[MergeProposal], user: AbstractBaseUser | None = None) -> int:
    pending = _pending(proposals)
    _decide(pending, ProposalStatus.REJECTED, user)
    return len(pending)
