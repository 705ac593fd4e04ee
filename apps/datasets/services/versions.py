"""Datasets, their line of versions, and the writers that add or remove rows in an open version.

Only the tip of a dataset's line can be open (a child needs a sealed parent), so writing to an open version
never changes what another version sees. Branching (a second child of an older version) is refused: versions
of one dataset form a single line. To branch, ``services.branching.dataset_version_branch`` copies the old
version once (in SQL) into the first version of a new dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import selectors
from ..errors import BranchingError, SealedVersionError
from ..models import AssignmentSource, Caption, CaptionSource, Dataset, DatasetVersion, Image, TagAssignment
from . import bulk
from .images import image_root_check


class AssignmentRow(NamedTuple):
    image_id: int
    tag_group_id: int
    source: str
    score: float | None = None
    caption_id: int | None = None


class CaptionRow(NamedTuple):
    image_id: int
    text: str
    source: str = CaptionSource.ORIGINAL
    box: list[float] | None = None


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


@transaction.atomic
def dataset_create(*, name: str, image_root: str = "", description: str = "",
                   user: AbstractBaseUser | None = None) -> Dataset:
    """A new, empty dataset whose image paths are relative to ``image_root`` (a configured image root)."""
    if Dataset.objects.filter(name=name).exists():
        raise ValidationError(f"a dataset named {name!r} already exists")
    root = image_root_check(image_root)
    return Dataset.objects.create(name=name, image_root=str(root), description=description, created_by=_user(user))


@transaction.atomic
def dataset_version_create(*, dataset: Dataset, label_system_version: Any = None, job: Any = None,
                           note: str = "", user: AbstractBaseUser | None = None) -> DatasetVersion:
    """The first version of a dataset, or a child of its sealed tip."""
    tip = DatasetVersion.objects.select_for_update().filter(dataset=dataset).order_by("-seq").first()
    if tip is not None:
        return dataset_version_create_child(parent=tip, label_system_version=label_system_version, job=job,
                                            note=note, user=user)
    return DatasetVersion.objects.create(dataset=dataset, seq=1, label_system_version=label_system_version,
                                         job=job, note=note, created_by=_user(user))


@transaction.atomic
def dataset_version_create_child(*, parent: DatasetVersion, job: Any = None, note: str = "",
                                 label_system_version: Any = None,
                                 user: AbstractBaseUser | None = None) -> DatasetVersion:
    """An open child of ``parent`` that sees everything the parent sees and stores only its own changes.

    The parent must be sealed and the tip of its dataset (refused otherwise: no branching). The child keeps
    the parent's label-system version unless the parent has none.
    """
    parent = DatasetVersion.objects.select_for_update().get(pk=parent.pk)
    if not parent.sealed:
        job = f", resume its job #{parent.job_id}" if parent.job_id else ""
        raise ValidationError(f"version {parent} is still open: seal it{job} or discard it before creating a "
                              "child version")
    child = DatasetVersion.objects.filter(dataset_id=parent.dataset_id, seq__gt=parent.seq).order_by("seq").first()
    if child is not None:
        raise BranchingError(
            f"version {parent} already has a child ({child}); versions of a dataset form one line, so a "
            f"second child is refused. Create the child from the tip, or branch {parent} into a new dataset "
            "(POST /api/dataset-versions/<id>/branch/, which copies it once).")
    lsv = parent.label_system_version
    if label_system_version is not None and lsv is not None and label_system_version.pk != lsv.pk:
        raise ValidationError(f"a child keeps its parent's label-system version ({lsv}); "
                              "migrate the assignments to another label system in a new dataset instead")
    return DatasetVersion.objects.create(dataset_id=parent.dataset_id, seq=parent.seq + 1, parent=parent,
                                         label_system_version=lsv or label_system_version, job=job, note=note,
                                         created_by=_user(user))


def _open_version(version: DatasetVersion) -> DatasetVersion:
    """The version row locked for writing; refuses sealed versions."""
    locked = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    if locked.sealed:
        raise SealedVersionError(locked)
    return locked


@transaction.atomic
def dataset_version_seal(*, version: DatasetVersion) -> DatasetVersion:
    """Make a version immutable and cache its counts (sealing twice is a no-op)."""
    version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
    if version.sealed:
        return version
    version.counts = selectors.version_counts(version=version)
    version.sealed = True
    version.sealed_at = timezone.now()
    version.save(update_fields=["counts", "sealed", "sealed_at"])
    return version


@transaction.atomic
def dataset_version_update_note(*, version: DatasetVersion, note: str) -> DatasetVersion:
    """The note is the one field of a sealed version that may still change."""
    version.note = note
    version.save(update_fields=["note"])
    return version


@transaction.atomic
def captions_add(*, version: DatasetVersion, rows: Sequence[CaptionRow], method: str = "auto") -> list[int]:
    """Add captions in an open version; returns their ids in order."""
    version = _open_version(version)
    sources = set(CaptionSource.values)
    for row in rows:
        if row.source not in sources:
            raise ValidationError(f"unknown caption source {row.source!r}")
    return bulk.captions_insert(
        rows=[(version.dataset_id, r.image_id, r.text, r.source, r.box, version.seq) for r in rows], method=method)


@transaction.atomic
def assignments_add(*, version: DatasetVersion, rows: Iterable[AssignmentRow], method: str = "auto") -> int:
    """Add tag assignments in an open version (the writer the parse, generation and review jobs use).

    A live duplicate (same image, tag, source and caption) is skipped. Returns the number of rows sent.
    """
    version = _open_version(version)
    sources = set(AssignmentSource.values)  # the enum property rebuilds its list on every access
    data = []
    for r in rows:
        if r.source not in sources:
            raise ValidationError(f"unknown assignment source {r.source!r}")
        data.append((version.dataset_id, r.image_id, r.tag_group_id, r.caption_id, r.source, r.score, version.seq))
    return bulk.assignments_insert(rows=data, method=method)


def _remove(version: DatasetVersion, rows: QuerySet) -> int:
    """Rows added by this very version are deleted; older live rows get ``removed_in_seq``."""
    version = _open_version(version)
    own = rows.filter(dataset_id=version.dataset_id, added_in_seq=version.seq)
    deleted, _ = own.delete()
    older = rows.filter(dataset_id=version.dataset_id, added_in_seq__lt=version.seq, removed_in_seq__isnull=True)
    return deleted + older.update(removed_in_seq=version.seq)


@transaction.atomic
def assignments_remove(*, version: DatasetVersion, assignments: QuerySet[TagAssignment]) -> int:
    """Remove assignments in an open version: cost proportional to the change (one update)."""
    return _remove(version, assignments)


@transaction.atomic
def captions_remove(*, version: DatasetVersion, captions: QuerySet[Caption]) -> int:
    """Remove captions in an open version, and the assignments parsed from them."""
    parsed = TagAssignment.objects.filter(caption__in=captions.values("pk"))
    _remove(version, parsed)
    return _remove(version, captions)



@transaction.atomic
def dataset_version_discard(*, version: DatasetVersion) -> None:
    """Drop an open version and everything it changed (e.g. after a failed import that will not be retried).

    Rows it added are deleted, rows it removed become live again, images it introduced are deleted; the
    parent becomes the tip again. Sealed versions are never discarded.
    """
    version = _open_version(version)
    if version.snapshots.exists():
        raise ValidationError(f"version {version} has snapshots; it cannot be discarded")
    ds, seq = version.dataset_id, version.seq
    TagAssignment.objects.filter(dataset_id=ds, added_in_seq=seq).delete()
    TagAssignment.objects.filter(dataset_id=ds, removed_in_seq=seq).update(removed_in_seq=None)
    Caption.objects.filter(dataset_id=ds, added_in_seq=seq).delete()
    Caption.objects.filter(dataset_id=ds, removed_in_seq=seq).update(removed_in_seq=None)
    Image.objects.filter(dataset_id=ds, added_in_seq=seq).delete()
    version.delete()
