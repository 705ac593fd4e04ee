"""Merge and split tag groups (tag IDs) of a draft version; every change writes its GroupChange audit row.

Tag IDs stay contiguous (0..n-1): a merge keeps the lowest-indexed group and closes the gap left by the
absorbed ones (later IDs move down); a split appends the split-off tags as new groups at the end, so no
existing ID moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, ProtectedError
from django.utils import timezone

from ..models import GroupChange, GroupChangeKind, LabelSystemVersion, MergeProposal, Provenance, Tag, TagGroup
from .files import format_threshold
from .versions import _user, refuse_if_published


def _delete_groups(group_ids: list[int]) -> None:
    """Delete groups; one that other data still points at (dataset assignments) is refused with a message."""
    try:
        TagGroup.objects.filter(pk__in=group_ids).delete()
    except ProtectedError as exc:
        users = sorted({type(obj)._meta.label for obj in exc.protected_objects})
        raise ValidationError(f"these tag IDs are still used by {', '.join(users)}; change the data that uses "
                              "them first, or curate a fresh draft copy that nothing uses yet") from None


def compact_group_indices(version: LabelSystemVersion) -> int:
    """Renumber the groups of ``version`` to 0..n-1 keeping their order; returns how many moved.

    Moved rows go through negative indices first so the unique (version, index) constraint holds at every
    row on every database.
    """
    rows = list(TagGroup.objects.filter(version=version).order_by("index").values_list("id", "index"))
    moved = [(pk, rank) for rank, (pk, index) in enumerate(rows) if index != rank]
    if not moved:
        return 0
    groups = [TagGroup(pk=pk, index=-(rank + 1)) for pk, rank in moved]
    TagGroup.objects.bulk_update(groups, ["index"], batch_size=500)
    TagGroup.objects.filter(version=version, index__lt=0).update(index=-F("index") - 1)
    return len(moved)


def tag_group_normalize(*, group: TagGroup) -> None:
    """After free-form edits (admin inline): positions 0..k-1 in their order; an emptied group is removed."""
    if not group.tags.exists():
        _delete_groups([group.pk])
        compact_group_indices(group.version)
        return
    _renumber_positions(group)


@transaction.atomic
def tags_delete(*, tags: Sequence[Tag]) -> int:
    """Delete tags of a draft; their groups keep a primary tag, and emptied groups (tag IDs) disappear."""
    tags = list(tags)
    if not tags:
        return 0
    for version_id in {t.version_id for t in tags}:
        refuse_if_published(LabelSystemVersion.objects.get(pk=version_id))
    group_ids = {t.group_id for t in tags}
    deleted, _ = Tag.objects.filter(pk__in=[t.pk for t in tags]).delete()
    for group in TagGroup.objects.filter(pk__in=group_ids).select_related("version"):
        tag_group_normalize(group=group)
    return deleted


@transaction.atomic
def tag_groups_delete(*, groups: Sequence[TagGroup]) -> int:
    """Delete whole tag IDs (with their tags) from a draft; later tag IDs move down to close the gaps."""
    groups = list(groups)
    versions = LabelSystemVersion.objects.filter(pk__in={g.version_id for g in groups})
    for version in versions:
        refuse_if_published(version)
    deleted = len(groups)
    _delete_groups([g.pk for g in groups])
    for version in versions:
        compact_group_indices(version)
    return deleted


def _renumber_positions(group: TagGroup) -> None:
    tags = list(group.tags.order_by("position", "id"))
    changed = []
    for position, tag in enumerate(tags):
        if tag.position != position:
            tag.position = position
            changed.append(tag)
    if changed:
        Tag.objects.bulk_update(changed, ["position"])


@transaction.atomic
def tag_groups_merge(*, groups: Sequence[TagGroup], user: AbstractBaseUser | None = None,
                     provenance: str = Provenance.MANUAL, proposal: MergeProposal | None = None,
                     compact: bool = True) -> TagGroup:
    """Merge ``groups`` (same draft version) into the one with the lowest index; returns that group.

    The kept group's primary tag stays primary; the other groups' tags follow it in index order.
    ``compact=False`` leaves a gap in the tag IDs for a caller that merges many groups and compacts once.
    """
    distinct = sorted({g.pk: g for g in groups}.values(), key=lambda g: g.index)
    if len(distinct) < 2:
        raise ValidationError("choose at least two different groups to merge")
    versions = {g.version_id for g in distinct}
    if len(versions) != 1:
        raise ValidationError("groups of different versions cannot be merged")
    version = distinct[0].version
    refuse_if_published(version)
    locked = list(TagGroup.objects.select_for_update().filter(pk__in=[g.pk for g in distinct]).order_by("index"))
    if len(locked) != len(distinct):
        raise ValidationError("a group to merge no longer exists (merged meanwhile?)")
    target, absorbed = locked[0], locked[1:]
    next_position = (target.tags.aggregate(m=Max("position"))["m"] or 0) + 1
    moved = list(Tag.objects.filter(group__in=absorbed).order_by("group__index", "position"))
    now = timezone.now()
    for offset, tag in enumerate(moved):
        tag.group = target
        tag.position = next_position + offset
        tag.provenance = provenance
        tag.merged_by = _user(user)
        tag.merged_at = now
    Tag.objects.bulk_update(moved, ["group", "position", "provenance", "merged_by", "merged_at"])
    removed = [g.index for g in absorbed]
    _delete_groups([g.pk for g in absorbed])
    GroupChange.objects.create(
        version=version, kind=GroupChangeKind.MERGE, provenance=provenance, user=_user(user),
        tags=[t.text for t in moved], proposal=proposal,
        detail={"into": target.index, "removed": removed,
                "primary": target.tags.filter(position=0).values_list("text", flat=True).first()})
    if compact:
        compact_group_indices(version)
        target.refresh_from_db(fields=["index"])
    return target


@transaction.atomic
def tag_group_split(*, group: TagGroup, tags: Sequence[Tag], user: AbstractBaseUser | None = None) -> list[TagGroup]:
    """Give each of ``tags`` its own new group at the end of the version; at least one tag must stay.

    When the primary tag leaves, the next tag of the group becomes primary.
    """
    refuse_if_published(group.version)
    group = TagGroup.objects.select_for_update().get(pk=group.pk)
    members = {t.pk: t for t in group.tags.all()}
    leaving = [members.get(t.pk) for t in tags]
    if not leaving or None in leaving:
        raise ValidationError(f"choose tags of group #{group.index} to split off")
    if len(set(t.pk for t in leaving)) >= len(members):
        raise ValidationError(f"group #{group.index} must keep at least one tag")
    start = (TagGroup.objects.filter(version_id=group.version_id).aggregate(m=Max("index"))["m"] or 0) + 1
    new_groups = [TagGroup.objects.create(version_id=group.version_id, index=start + i)
                  for i in range(len(leaving))]
    now = timezone.now()
    for tag, new_group in zip(leaving, new_groups):
        tag.group, tag.position = new_group, 0
        tag.provenance, tag.merged_by, tag.merged_at = Provenance.MANUAL, _user(user), now
    Tag.objects.bulk_update(leaving, ["group", "position", "provenance", "merged_by", "merged_at"])
    _renumber_positions(group)
    GroupChange.objects.create(
        version_id=group.version_id, kind=GroupChangeKind.SPLIT, provenance=Provenance.MANUAL,
        user=_user(user), tags=[t.text for t in leaving],
        detail={"from": group.index, "new": [g.index for g in new_groups]})
    return new_groups


@transaction.atomic
def tag_group_set_primary(*, tag: Tag) -> Tag:
    """Make ``tag`` the name of its group in exported files (position 0)."""
    refuse_if_published(tag.version)
    others = list(Tag.objects.filter(group_id=tag.group_id).exclude(pk=tag.pk).order_by("position", "id"))
    tag.position = 0
    for position, other in enumerate(others, start=1):
        other.position = position
    Tag.objects.bulk_update([tag, *others], ["position"])
    return tag


EDITABLE_TAG_FIELDS = ("category", "name_zh", "descriptions", "threshold")


@transaction.atomic
def tag_update(*, tag: Tag, **changes: Any) -> Tag:
    """Change a tag's category, Chinese name, descriptions or threshold (text and grouping go through merges)."""
    refuse_if_published(tag.version)
    unknown = set(changes) - set(EDITABLE_TAG_FIELDS)
    if unknown:
        raise ValidationError(f"these tag fields cannot be edited here: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(tag, name, value)
    if "threshold" in changes:
        value = float(changes["threshold"])
        if not 0 < value <= 1:
            raise ValidationError({"threshold": f"threshold {value} is outside (0, 1]"})
        tag.threshold_text = format_threshold(value)
    tag.full_clean(exclude=["version", "group", "merged_by"])
    tag.save()
    return tag
