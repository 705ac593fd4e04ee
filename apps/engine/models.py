"""Engine runs over a dataset version, and the flags a cleaning run raises on its tag assignments.

A generation run reads its input version and writes a child version with ``generated`` assignments (its
``output_version``) plus a before/after report. A cleaning run reads its input version and writes Flag rows
only; reviewers then decide on them and "apply review" makes the child version (see ``apps.review``).
A flag carries every piece of evidence a reviewer needs without recomputing anything.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class EngineRunKind(models.TextChoices):
    GENERATION = "generation"
    CLEANING = "cleaning"


class EngineRun(models.Model):
    kind = models.CharField(max_length=16, choices=EngineRunKind.choices)
    name = models.CharField(max_length=200, blank=True)
    dataset_version = models.ForeignKey("datasets.DatasetVersion", on_delete=models.PROTECT, related_name="+",
                                        help_text="The version the run reads.")
    checkpoint = models.ForeignKey("training.Checkpoint", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", help_text="The baseline model.")
    output_version = models.ForeignKey("datasets.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", help_text="The child version a generation run wrote.")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The run's latest job (a cleaning run has a features and a clustering job).")
    params = models.JSONField(default=dict, blank=True)
    categories = models.JSONField(default=list, blank=True,
                                  help_text="Tag group ids the run covers (empty: every category).")
    report = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"{self.kind} run #{self.pk}"


class FlagStatus(models.TextChoices):
    """Where review stands on a flag (consensus of its reviewers when work overlaps)."""

    OPEN = "open"
    ACCEPTED = "accepted"  # the tag is right: keep it
    REJECTED = "rejected"  # the tag is wrong: remove it
    CHANGED = "changed"  # the tag is wrong, another one is right: replace it


class Flag(models.Model):
    """One suspect tag assignment of a cleaning run and why it is suspect."""

    run = models.ForeignKey(EngineRun, on_delete=models.CASCADE, related_name="flags")
    assignment = models.ForeignKey("datasets.TagAssignment", on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey("datasets.Image", on_delete=models.CASCADE, related_name="+")
    tag_group = models.ForeignKey("labels.TagGroup", on_delete=models.PROTECT, related_name="+",
                                  help_text="The flagged tag (the assignment's, copied for the queue's index).")
    # Which methods flagged it (one flag per assignment and run, however many methods agree).
    by_cluster = models.BooleanField(default=False, help_text="Far from every cluster centre of its category.")
    by_rejection = models.BooleanField(default=False, help_text="The baseline does not predict it on its region.")
    by_confident = models.BooleanField(default=False, help_text="Confident learning calls the label an issue.")
    # Evidence.
    region_source = models.CharField(max_length=32, blank=True, help_text="detections / grounding_dino / image.")
    box = models.JSONField(null=True, blank=True, help_text="[x, y, width, height] in image pixels; null = whole.")
    cluster = models.IntegerField(null=True, blank=True)
    distance = models.FloatField(null=True, blank=True, help_text="Distance to the nearest cluster centre.")
    percentile = models.FloatField(null=True, blank=True, help_text="Share of the category's regions closer.")
    score = models.FloatField(null=True, blank=True, help_text="The baseline's probability on the region.")
    threshold = models.FloatField(null=True, blank=True)
    label_quality = models.FloatField(null=True, blank=True, help_text="Confident learning's label quality.")
    # Review outcome (kept in step by apps.review.services).
    status = models.CharField(max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    resolved_tag_group = models.ForeignKey("labels.TagGroup", null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+", help_text="The replacement tag of a changed flag.")

    class Meta:
        ordering = ["run", "tag_group", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "assignment"], name="engine_flag_unique_assignment"),
            models.CheckConstraint(condition=Q(by_cluster=True) | Q(by_rejection=True) | Q(by_confident=True),
                                   name="engine_flag_has_reason"),
        ]
        indexes = [
            models.Index(fields=["run", "tag_group", "status", "id"], name="engine_flag_queue"),
            models.Index(fields=["run", "tag_group", "cluster"], name="engine_flag_cluster"),
            models.Index(fields=["run", "status"], name="engine_flag_status"),
        ]

    def __str__(self) -> str:
        return f"flag #{self.pk} ({self.reasons_text})"

    @property
    def reasons(self) -> list[str]:
        names = [("cluster_outlier", self.by_cluster), ("baseline_rejection", self.by_rejection),
                 ("confident_learning", self.by_confident)]
        return [name for name, on in names if on]

    @property
    def reasons_text(self) -> str:
        return ", ".join(self.reasons)
