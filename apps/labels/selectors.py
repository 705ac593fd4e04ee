"""Reads of the label system: exported files, version diffs, querysets for lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import LabelSystemVersion, MergeProposal, Tag, TagGroup
from .services.files import CHINESE_FILE, TAGS_FILE, THRESHOLDS_FILE, render_lines, threshold_text


def group_names(*, label_system_version_id: int | None = None,
                ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """Tag group id → its primary tag's text (lowest position), in tag-ID order, in one query: every group of
    a label-system version, or the groups ``ids`` (None entries are ignored)."""
    tags = Tag.objects.all()
    if label_system_version_id is not None:
        tags = tags.filter(version_id=label_system_version_id)
    if ids is not None:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        tags = tags.filter(group_id__in=wanted)
    names: dict[int, str] = {}
    for group_id, text in tags.order_by("group__index", "position", "id").values_list("group_id", "text"):
        names.setdefault(group_id, text)
    return names


def label_system_version_files(version: LabelSystemVersion) -> dict[str, bytes]:
    """The RAM files of a version (one line per tag ID, a group named by its primary tag), byte for byte.

    The Chinese file is left out when no tag has a Chinese name.
    """
    rows = _primary_rows(version, "text", "name_zh", "threshold", "threshold_text")
    fmt = version.file_format or {}
    exported = {TAGS_FILE: render_lines([r[0] for r in rows], fmt.get("tags_final_newline", False))}
    if any(r[1] for r in rows):  # a version without Chinese names has no Chinese file
        exported[CHINESE_FILE] = render_lines([r[1] for r in rows], fmt.get("chinese_final_newline", True))
    exported[THRESHOLDS_FILE] = render_lines([threshold_text(r[2], r[3]) for r in rows],
                                             fmt.get("thresholds_final_newline", True))
    return exported


def _primary_rows(version: LabelSystemVersion, *fields: str) -> list[tuple[Any, ...]]:
    """One row per group in tag-ID order: its first tag by position (robust to a gap at position 0)."""
    rows = (Tag.objects.filter(version=version).order_by("group__index", "position", "id")
            .values_list("group_id", *fields))
    first: dict[int, tuple[Any, ...]] = {}
    for group_id, *values in rows:
        first.setdefault(group_id, tuple(values))
    return list(first.values())  # dicts keep insertion order: tag-ID order


def version_tag_texts(version: LabelSystemVersion) -> list[str]:
    """The class names of a version in tag-ID order (what a model head of this version predicts)."""
    return [row[0] for row in _primary_rows(version, "text")]


def _group_size() -> Subquery:
    sizes = (Tag.objects.filter(group=OuterRef("group")).order_by().values("group")
             .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(sizes), 0)


def tag_list(*, version: LabelSystemVersion | None = None) -> QuerySet[Tag]:
    qs = Tag.objects.select_related("group", "version__label_system")
    return qs.filter(version=version) if version is not None else qs


def tag_list_with_group_size(queryset: QuerySet[Tag]) -> QuerySet[Tag]:
    return queryset.annotate(group_size=_group_size())


def tag_group_list(*, version: LabelSystemVersion | None = None) -> QuerySet[TagGroup]:
    qs = TagGroup.objects.select_related("version__label_system").annotate(size=Count("tags"))
    return qs.filter(version=version) if version is not None else qs


def merge_proposal_list(*, version: LabelSystemVersion | None = None) -> QuerySet[MergeProposal]:
    qs = MergeProposal.objects.select_related("tag_a", "tag_b", "version__label_system", "decided_by")
    return qs.filter(version=version) if version is not None else qs


@dataclass
class VersionDiff:
    """What changed from version ``a`` to version ``b`` (tags matched by text)."""

    a: int
    b: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    merged: list[dict[str, Any]] = field(default_factory=list)  # {"group": primary in b, "from": primaries in a}
    split: list[dict[str, Any]] = field(default_factory=list)  # {"group": primary in a, "into": primaries in b}
    threshold_changed: list[dict[str, Any]] = field(default_factory=list)  # {"tag", "old", "new"}

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.merged or self.split or self.threshold_changed)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _snapshot(version: LabelSystemVersion) -> tuple[dict[str, tuple[int, float]], dict[int, str]]:
    """tag key → (group index, threshold); group index → primary tag key."""
    tags: dict[str, tuple[int, float]] = {}
    primaries: dict[int, str] = {}
    rows = (Tag.objects.filter(version=version).order_by("group__index", "position")
            .values_list("text", "homonym", "group__index", "threshold"))
    for text, homonym, index, threshold in rows:
        key = text if not homonym else f"{text} ({homonym + 1})"
        tags[key] = (index, threshold)
        primaries.setdefault(index, key)  # rows come in position order: the first is the primary
    return tags, primaries


def _regroupings(source: dict[str, tuple[int, float]], target: dict[str, tuple[int, float]],
                 target_primaries: dict[int, str], source_primaries: dict[int, str]) -> list[dict[str, Any]]:
    """Groups of ``target`` that hold common tags from two or more groups of ``source``."""
    origins: dict[int, set[int]] = defaultdict(set)
    for key, (index, _threshold) in target.items():
        if key in source:
            origins[index].add(source[key][0])
    return [{"group": target_primaries[index], "from": [source_primaries[i] for i in sorted(found)]}
            for index, found in sorted(origins.items()) if len(found) > 1]


def label_system_version_diff(a: LabelSystemVersion, b: LabelSystemVersion) -> VersionDiff:
    """Added/removed tags, merged/split groups and changed thresholds from ``a`` to ``b``."""
    tags_a, primaries_a = _snapshot(a)
    tags_b, primaries_b = _snapshot(b)
    diff = VersionDiff(a=a.pk, b=b.pk)
    diff.added = [key for key in tags_b if key not in tags_a]
    diff.removed = [key for key in tags_a if key not in tags_b]
    diff.merged = _regroupings(tags_a, tags_b, primaries_b, primaries_a)
    diff.split = [{"group": item["group"], "into": item["from"]}
                  for item in _regroupings(tags_b, tags_a, primaries_a, primaries_b)]
    diff.threshold_changed = [
        {"tag": key, "old": tags_a[key][1], "new": threshold}
        for key, (_index, threshold) in tags_b.items() if key in tags_a and tags_a[key][1] != threshold
    ]
    return diff
