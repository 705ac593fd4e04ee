"""Propose a label system from the most frequent phrases the parse job met (as RAM built its 4,585 tags)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from .. import selectors
from ..models import DatasetVersion


@transaction.atomic
def label_system_propose(*, version: DatasetVersion, top_k: int, name: str = "", unmapped_only: bool = False,
                         user: AbstractBaseUser | None = None) -> Any:
    """A draft label-system version whose tags are the ``top_k`` most frequent phrases of ``version``.

    Phrase counts come from the parse job that produced the version. The draft goes through the labels app's
    import service (validation, next version number), so curators review and publish it there.
    """
    from apps.labels.services.importing import LabelFiles, label_system_import

    if top_k < 1:
        raise ValidationError("top_k must be at least 1")
    phrases = [p.phrase.replace("\n", " ").strip() for p in
               selectors.version_phrase_frequency(version=version, unmapped_only=unmapped_only, limit=top_k)]
    phrases = [p for p in dict.fromkeys(phrases) if p]
    if not phrases:
        raise ValidationError(f"version {version} has no phrase counts; run parse_version on its parent first")
    system_name = slugify(name or f"{version.dataset.name}-v{version.seq}-top{top_k}")
    if not system_name:
        raise ValidationError("the label system needs a name made of letters, digits or hyphens")
    return label_system_import(
        name=system_name, user=user,
        label_files=LabelFiles(tags="\n".join(phrases).encode("utf-8"), tags_name=f"top-{top_k} phrases"),
        description=f"Proposed from the {len(phrases)} most frequent phrases of dataset version {version}.")
