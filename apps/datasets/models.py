"""Datasets stored as a line of versions that each hold only their changes.

Versions of a dataset form one line numbered by ``seq`` (1, 2, …). Every caption and tag assignment row
carries ``added_in_seq`` and ``removed_in_seq`` (null while live); version ``v`` sees the rows with
``added_in_seq <= v.seq`` and (``removed_in_seq`` null or ``> v.seq``). Removing a tag in a new version
updates one row's ``removed_in_seq``; nothing is copied. Images only carry ``added_in_seq`` (an image is
never removed; a version without its captions/tags simply says nothing about it).

A sealed version is immutable: services refuse it and database triggers (migration 0002) refuse any insert,
update or delete of rows that belong to it, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce


class Dataset(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    image_root = models.CharField(max_length=1000, help_text="Directory that image paths are relative to.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    seq = models.PositiveIntegerField(help_text="Position in the dataset's version line (1 = first).")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    label_system_version = models.ForeignKey("labels.LabelSystemVersion", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="dataset_versions")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The job that produced this version.")
    sealed = models.BooleanField(default=False, help_text="Sealed versions never change.")
    sealed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Counts cached when the version was sealed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset__name", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "seq"], name="datasets_version_unique_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="datasets_version_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.seq}"


class Image(models.Model):
    # Indexes that lead with the dataset (unique uri, added_in_seq) serve its lookups; no separate FK index.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="images", db_index=False)
    uri = models.CharField(max_length=1000, help_text="Path relative to the dataset's image root, or a URL.")
    added_in_seq = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, blank=True, default="", help_text="sha256 of the file.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "uri"], name="datasets_image_unique_uri")]
        indexes = [models.Index(fields=["dataset", "added_in_seq"], name="datasets_image_ds_added")]

    def __str__(self) -> str:
        return self.uri


class CaptionSource(models.TextChoices):
    ORIGINAL = "original"
    GENERATED = "generated"


class AssignmentSource(models.TextChoices):
    PARSED = "parsed"
    GENERATED = "generated"
    MANUAL = "manual"
    API = "api"
    IMPORTED = "imported"


class Caption(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="captions")
    text = models.TextField()
    source = models.CharField(max_length=16, choices=CaptionSource.choices, default=CaptionSource.ORIGINAL)
    box = models.JSONField(null=True, blank=True, help_text="Region [x, y, width, height] (Visual Genome).")
    added_in_seq = models.PositiveIntegerField()
    removed_in_seq = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["dataset", "added_in_seq"], name="datasets_caption_ds_added"),
            models.Index(fields=["dataset", "removed_in_seq"], name="datasets_caption_ds_removed",
                         condition=Q(removed_in_seq__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(removed_in_seq__isnull=True) | Q(removed_in_seq__gt=models.F(
                "added_in_seq")), name="datasets_caption_removed_after_added"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class TagAssignment(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="assignments")
    tag_group = models.ForeignKey("labels.TagGroup", on_delete=models.PROTECT, related_name="+")
    caption = models.ForeignKey(Caption, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                help_text="The caption this tag was parsed from (parse_label_id).")
    source = models.CharField(max_length=16, choices=AssignmentSource.choices)
    score = models.FloatField(null=True, blank=True)
    added_in_seq = models.PositiveIntegerField()
    removed_in_seq = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["dataset", "tag_group", "added_in_seq"], name="datasets_assign_ds_tag_added"),
            models.Index(fields=["dataset", "added_in_seq"], name="datasets_assign_ds_added"),
            models.Index(fields=["dataset", "removed_in_seq"], name="datasets_assign_ds_removed",
                         condition=Q(removed_in_seq__isnull=False)),
        ]
        constraints = [
            # Partial unique index on live rows: one live assignment per image, tag, source and caption.
            models.UniqueConstraint(models.F("image"), models.F("tag_group"), models.F("source"),
                                    Coalesce(models.F("caption"), 0), condition=Q(removed_in_seq__isnull=True),
                                    name="datasets_assign_live_unique"),
            models.CheckConstraint(condition=Q(removed_in_seq__isnull=True) | Q(removed_in_seq__gt=models.F(
                "added_in_seq")), name="datasets_assign_removed_after_added"),
        ]

    def __str__(self) -> str:
        return f"image {self.image_id} tag group {self.tag_group_id} ({self.source})"


class PhraseCount(models.Model):
    """How often the parse job met a phrase in a version's captions, and the tag group it mapped to."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="phrase_counts")
    phrase = models.CharField(max_length=200)
    count = models.PositiveIntegerField()
    tag_group = models.ForeignKey("labels.TagGroup", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-count", "phrase"]
        constraints = [models.UniqueConstraint(fields=["version", "phrase"], name="datasets_phrase_unique")]

    def __str__(self) -> str:
        return f"{self.phrase} ×{self.count}"


class SnapshotFormat(models.TextChoices):
    RAM_JSON = "ram-json", "RAM training JSON"
    COCO = "coco", "COCO-style JSON"
    JSONL = "jsonl", "JSONL"
    WDS = "wds", "webdataset tar shards"
    PARQUET = "parquet", "Parquet"


class Snapshot(models.Model):
    """One export of a version: where its files are and the manifest (counts, per-file sha256)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="snapshots")
    format = models.CharField(max_length=16, choices=SnapshotFormat.choices)
    path = models.CharField(max_length=1000)
    manifest = models.JSONField(default=dict)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} {self.format} → {self.path}"
