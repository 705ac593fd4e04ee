"""Label systems: versioned tag vocabularies whose tag IDs are the classes of a model head.

A published version never changes (datasets and checkpoints point at it): the models refuse it here and
database triggers refuse it underneath (migration 0002). Curation happens in a draft copy.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from .errors import PublishedVersionError


class Category(models.TextChoices):
    OBJECT = "object"
    ATTRIBUTE = "attribute"
    SCENE = "scene"
    ACTION = "action"
    OTHER = "other"


class Provenance(models.TextChoices):
    """How a tag came to be in its group."""

    IMPORTED = "imported"
    MANUAL = "manual"
    WORDNET = "wordnet"
    TRANSLATION = "translation"


class VersionStatus(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"


class LabelSystem(models.Model):
    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_file_format() -> dict[str, Any]:
    """How the RAM files of a version end: the upstream tag list has no final newline, the others do."""
    return {"tags_final_newline": False, "chinese_final_newline": True, "thresholds_final_newline": True}


class LabelSystemVersion(models.Model):
    label_system = models.ForeignKey(LabelSystem, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="The published version this draft was copied from.")
    notes = models.TextField(blank=True)
    file_format = models.JSONField(default=default_file_format, blank=True,
                                   help_text="Final-newline flags of the imported files, kept for export.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label_system__name", "number"]
        permissions = [("publish_labelsystemversion", "Can publish a label system version")]
        constraints = [
            models.UniqueConstraint(fields=["label_system", "number"], name="labels_version_unique_number"),
            models.CheckConstraint(
                condition=models.Q(status=VersionStatus.DRAFT)
                | models.Q(status=VersionStatus.PUBLISHED, published_at__isnull=False),
                name="labels_version_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label_system.name} v{self.number} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk and LabelSystemVersion.objects.filter(pk=self.pk, status=VersionStatus.PUBLISHED).exists():
            raise PublishedVersionError(self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        refuse_published([self.pk])
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


def refuse_published(version_ids: list[int] | set[int]) -> None:
    """Raise :class:`PublishedVersionError` when any of these versions is published."""
    published = LabelSystemVersion.objects.filter(pk__in=version_ids, status=VersionStatus.PUBLISHED).first()
    if published is not None:
        raise PublishedVersionError(published)


class VersionContentQuerySet(models.QuerySet):
    """Bulk writes on tags/groups are refused for published versions, like single saves."""

    def _refuse_published(self) -> None:
        refuse_published(set(self.values_list("version_id", flat=True).distinct()))

    def update(self, **kwargs: Any) -> int:
        self._refuse_published()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse_published()
        return super().delete()


class VersionContent(models.Model):
    """Base of rows that belong to one version and freeze with it."""

    objects = VersionContentQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        ids = {self.version_id}
        if self.pk:
            ids |= set(type(self).objects.filter(pk=self.pk).values_list("version_id", flat=True))
        refuse_published(ids)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        refuse_published([self.version_id])
        return super().delete(*args, **kwargs)


class TagGroup(VersionContent):
    """One tag ID: a synonym group whose primary tag (position 0) names it in exported files."""

    version = models.ForeignKey(LabelSystemVersion, on_delete=models.CASCADE, related_name="groups")
    index = models.IntegerField(help_text="Tag ID: position of this class in the model head (0-based).")

    class Meta:
        ordering = ["version", "index"]
        constraints = [
            models.UniqueConstraint(fields=["version", "index"], name="labels_group_unique_index"),
        ]

    def __str__(self) -> str:
        return f"#{self.index}"


class Tag(VersionContent):
    version = models.ForeignKey(LabelSystemVersion, on_delete=models.CASCADE, related_name="tags")
    group = models.ForeignKey(TagGroup, on_delete=models.CASCADE, related_name="tags")
    position = models.PositiveIntegerField(default=0, help_text="0 = the group's primary tag.")
    text = models.CharField(max_length=200)
    homonym = models.PositiveSmallIntegerField(
        default=0, help_text="Occurrence number of the same text in this version (Tag2Text repeats 114 tags).")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    name_zh = models.CharField("Chinese name", max_length=200, blank=True)
    descriptions = models.JSONField(default=list, blank=True)
    threshold = models.FloatField(default=0.65)
    threshold_text = models.CharField(max_length=32, blank=True,
                                      help_text="The threshold as written in the imported file.")
    provenance = models.CharField(max_length=16, choices=Provenance.choices, default=Provenance.IMPORTED)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    merged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version", "group__index", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "text", "homonym"], name="labels_tag_unique_text"),
            models.CheckConstraint(condition=models.Q(threshold__gt=0, threshold__lte=1),
                                   name="labels_tag_threshold_range"),
        ]
        indexes = [
            models.Index(fields=["version", "category"], name="labels_tag_version_category"),
            models.Index(fields=["version", "threshold"], name="labels_tag_version_threshold"),
            models.Index(fields=["group", "position"], name="labels_tag_group_position"),
        ]

    def __str__(self) -> str:
        return self.text if not self.homonym else f"{self.text} ({self.homonym + 1})"


class GroupChangeKind(models.TextChoices):
    MERGE = "merge"
    SPLIT = "split"


class GroupChange(models.Model):
    """Audit row of a merge or split, written in the same transaction as the change."""

    version = models.ForeignKey(LabelSystemVersion, on_delete=models.CASCADE, related_name="group_changes")
    kind = models.CharField(max_length=8, choices=GroupChangeKind.choices)
    provenance = models.CharField(max_length=16, choices=Provenance.choices, default=Provenance.MANUAL)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    tags = models.JSONField(default=list, help_text="Texts of the tags that moved.")
    detail = models.JSONField(default=dict, blank=True,
                              help_text="Group indices before/after, e.g. {'into': 3, 'removed': [17]}.")
    proposal = models.ForeignKey("MergeProposal", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {', '.join(self.tags)}"


class ProposalStatus(models.TextChoices):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class MergeProposal(models.Model):
    """A suggestion that ``tag_a`` and ``tag_b`` be one tag ID; a curator accepts or rejects it."""

    version = models.ForeignKey(LabelSystemVersion, on_delete=models.CASCADE, related_name="proposals")
    tag_a = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    tag_b = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16)  # ram_model.text.synonyms.REASONS
    confidence = models.FloatField()
    detail = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "tag_a", "tag_b", "reason"],
                                    name="labels_proposal_unique_pair"),
        ]
        indexes = [models.Index(fields=["version", "status"], name="labels_proposal_version_status")]

    def __str__(self) -> str:
        return f"{self.tag_a.text} ~ {self.tag_b.text} ({self.reason}, {self.confidence:.2f})"


@receiver(pre_delete, sender=LabelSystemVersion)
def _refuse_deleting_published(sender: type, instance: LabelSystemVersion, **kwargs: Any) -> None:
    """Also covers cascades (deleting a label system), which bypass ``Model.delete``."""
    if instance.is_published:
        raise PublishedVersionError(instance)
