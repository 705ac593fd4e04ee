"""Reads of datasets and versions; every version read is one SQL query over the added/removed sequence numbers.

A version ``v`` sees a row when ``added_in_seq <= v.seq`` and (``removed_in_seq`` is null or
``> v.seq``) — see :mod:`apps.datasets.models`. No Python walks the lineage.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from .models import Caption, Dataset, DatasetVersion, Image, PhraseCount, TagAssignment


def _visible_at(seq: int) -> Q:
    return Q(added_in_seq__lte=seq) & (Q(removed_in_seq__isnull=True) | Q(removed_in_seq__gt=seq))


def dataset_list() -> QuerySet[Dataset]:
    return Dataset.objects.annotate(version_count=Count("versions")).order_by("name")


def dataset_version_list(*, dataset: Dataset | None = None) -> QuerySet[DatasetVersion]:
    qs = DatasetVersion.objects.select_related("dataset", "parent", "label_system_version", "job")
    return qs.filter(dataset=dataset) if dataset is not None else qs


def dataset_version_tip(*, dataset: Dataset) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(dataset=dataset).order_by("-seq").first()


def dataset_version_lineage(*, version: DatasetVersion) -> list[DatasetVersion]:
    """The version and its ancestors, oldest first (versions of a dataset form one line)."""
    return list(DatasetVersion.objects.filter(dataset_id=version.dataset_id, seq__lte=version.seq).order_by("seq"))


def version_images(*, version: DatasetVersion) -> QuerySet[Image]:
    return Image.objects.filter(dataset_id=version.dataset_id, added_in_seq__lte=version.seq)


def version_captions(*, version: DatasetVersion) -> QuerySet[Caption]:
    return Caption.objects.filter(_visible_at(version.seq), dataset_id=version.dataset_id)


def version_assignments(*, version: DatasetVersion) -> QuerySet[TagAssignment]:
    """The tag assignments a version sees, resolved in SQL (one query)."""
    return TagAssignment.objects.filter(_visible_at(version.seq), dataset_id=version.dataset_id)


def version_counts(*, version: DatasetVersion) -> dict[str, Any]:
    """Images, captions and assignments (total and per source) of a version, plus what it changed."""
    by_source = dict(version_assignments(version=version).values_list("source").annotate(n=Count("id"))
                     .order_by("source"))
    ds, seq = version.dataset_id, version.seq
    return {
        "images": version_images(version=version).count(),
        "captions": version_captions(version=version).count(),
        "assignments": sum(by_source.values()),
        "assignments_by_source": by_source,
        "assignments_added": TagAssignment.objects.filter(dataset_id=ds, added_in_seq=seq).count(),
        "assignments_removed": TagAssignment.objects.filter(dataset_id=ds, removed_in_seq=seq).count(),
    }


def dataset_version_counts(*, version: DatasetVersion) -> dict[str, Any]:
    """Cached counts for sealed versions, computed for open ones."""
    if version.sealed and version.counts:
        return version.counts
    return version_counts(version=version)


def tag_names(*, label_system_version_id: int | None) -> dict[int, str]:
    """Tag index → the group's primary tag text."""
    if label_system_version_id is None:
        return {}
    from apps.labels.models import Tag

    names: dict[int, str] = {}
    rows = (Tag.objects.filter(version_id=label_system_version_id)
            .order_by("group__index", "position", "id").values_list("group__index", "text"))
    for index, text in rows:
        names.setdefault(index, text)
    return names


def _changes(base: DatasetVersion, other: DatasetVersion) -> tuple[QuerySet, QuerySet]:
    """(rows ``other`` sees and ``base`` does not, rows ``base`` sees and ``other`` does not)."""
    if base.dataset_id != other.dataset_id:
        raise ValidationError("a diff needs two versions of the same dataset")
    lo, hi = sorted((base.seq, other.seq))
    rows = TagAssignment.objects.filter(dataset_id=base.dataset_id)
    appeared = rows.filter(added_in_seq__gt=lo, added_in_seq__lte=hi).filter(
        Q(removed_in_seq__isnull=True) | Q(removed_in_seq__gt=hi))
    vanished = rows.filter(added_in_seq__lte=lo, removed_in_seq__gt=lo, removed_in_seq__lte=hi)
    return (appeared, vanished) if base.seq <= other.seq else (vanished, appeared)


def _per_tag_source(qs: QuerySet, names: dict[int, str]) -> list[dict[str, Any]]:
    rows = (qs.values("tag_group__index", "source").annotate(count=Count("id"))
            .order_by("tag_group__index", "source"))
    return [{"tag_index": r["tag_group__index"], "tag": names.get(r["tag_group__index"], ""),
             "source": r["source"], "count": r["count"]} for r in rows]


def version_diff(*, base: DatasetVersion, other: DatasetVersion) -> dict[str, Any]:
    """Tag assignments added and removed from ``base`` to ``other``, per tag and per source."""
    added, removed = _changes(base, other)
    names = tag_names(label_system_version_id=other.label_system_version_id)
    added_rows, removed_rows = _per_tag_source(added, names), _per_tag_source(removed, names)

    def by_source(rows: list[dict[str, Any]]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for r in rows:
            totals[r["source"]] = totals.get(r["source"], 0) + r["count"]
        return dict(sorted(totals.items()))

    return {"base": base.pk, "other": other.pk, "added": added_rows, "removed": removed_rows,
            "added_total": sum(r["count"] for r in added_rows),
            "removed_total": sum(r["count"] for r in removed_rows),
            "added_by_source": by_source(added_rows), "removed_by_source": by_source(removed_rows)}


def version_tag_frequency(*, version: DatasetVersion, limit: int | None = None) -> list[dict[str, Any]]:
    """Images per tag in a version (all sources; an image counts once per tag), most frequent first."""
    names = tag_names(label_system_version_id=version.label_system_version_id)
    rows = (version_assignments(version=version).values("tag_group__index")
            .annotate(count=Count("image_id", distinct=True)).order_by("-count", "tag_group__index"))
    if limit:
        rows = rows[:limit]
    return [{"tag_index": r["tag_group__index"], "tag": names.get(r["tag_group__index"], ""), "count": r["count"]}
            for r in rows]


def version_phrase_frequency(*, version: DatasetVersion, unmapped_only: bool = False,
                             limit: int | None = None) -> QuerySet[PhraseCount]:
    """Phrases the parse job met in the captions that produced this version (counts recorded by the job)."""
    qs = PhraseCount.objects.filter(version=version).select_related("tag_group")
    if unmapped_only:
        qs = qs.filter(tag_group__isnull=True)
    return qs[:limit] if limit else qs
