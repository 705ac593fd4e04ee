"""Create, copy and publish label system versions."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..errors import PublishedVersionError
from ..models import LabelSystem, LabelSystemVersion, Tag, TagGroup, VersionStatus


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def next_version_number(label_system: LabelSystem) -> int:
    return (label_system.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def refuse_if_published(version: LabelSystemVersion) -> None:
    """Services call this first so that the user gets the clear message, not a database error."""
    version.refresh_from_db(fields=["status"])
    if version.is_published:
        raise PublishedVersionError(version)


@transaction.atomic
def version_create_draft(*, version: LabelSystemVersion, user: AbstractBaseUser | None = None,
                         notes: str = "") -> LabelSystemVersion:
    """A new draft version (next number) holding a copy of ``version``'s groups and tags, in the same order."""
    system = LabelSystem.objects.select_for_update().get(pk=version.label_system_id)
    draft = LabelSystemVersion.objects.create(
        label_system=system, number=next_version_number(system), parent=version,
        notes=notes or f"draft copy of v{version.number}", file_format=version.file_format,
        created_by=_user(user))
    source_groups = list(version.groups.order_by("index").values_list("id", "index"))
    new_groups = TagGroup.objects.bulk_create(
        [TagGroup(version=draft, index=index) for _, index in source_groups], batch_size=2000)
    group_map = {old_id: new.pk for (old_id, _), new in zip(source_groups, new_groups)}
    copies = [
        Tag(version=draft, group_id=group_map[tag.group_id], position=tag.position, text=tag.text,
            homonym=tag.homonym, category=tag.category, name_zh=tag.name_zh, descriptions=tag.descriptions,
            threshold=tag.threshold, threshold_text=tag.threshold_text, provenance=tag.provenance,
            merged_by_id=tag.merged_by_id, merged_at=tag.merged_at)
        for tag in version.tags.order_by("group__index", "position")
    ]
    Tag.objects.bulk_create(copies, batch_size=2000)
    return draft


@transaction.atomic
def version_publish(*, version: LabelSystemVersion, user: AbstractBaseUser | None = None) -> LabelSystemVersion:
    """Freeze a draft: from now on its tags, groups and order never change."""
    version = LabelSystemVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise PublishedVersionError(version)
    if not version.groups.exists():
        raise ValidationError(f"{version} has no tags; there is nothing to publish")
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = _user(user)
    version.save(update_fields=["status", "published_at", "published_by"])
    return version
