"""Review of a cleaning run's flags: who may review, the work each reviewer holds, and every decision made.

- RunReviewer: a reviewer assigned to a run; only they (and curators/admins) see the run's queue.
- ReviewBatch / ReviewTask: flags handed to a reviewer. Without overlap a flag goes to one reviewer; with
  N-way overlap to N different reviewers, and the flag's status is their majority (agreement is measured).
- ReviewDecision: the audit log. Append-only: an undo is a new row, nothing is ever updated or deleted
  (the models refuse it; a PostgreSQL trigger refuses raw SQL too). ReviewTask.decision is the current
  state the log leads to, kept so queues are one indexed query.
- ReviewApplication: "apply review" — the child dataset version made from a run's outcomes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ReviewAction(models.TextChoices):
    ACCEPT = "accept"
    REJECT = "reject"
    CHANGE = "change"  # replace the tag with ``new_tag_group``
    UNDO = "undo"  # take back this reviewer's previous decision on the flag


class RunReviewer(models.Model):
    run = models.ForeignKey("engine.EngineRun", on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "user"], name="review_runreviewer_unique")]

    def __str__(self) -> str:
        return f"{self.user} on {self.run}"


class ReviewBatch(models.Model):
    run = models.ForeignKey("engine.EngineRun", on_delete=models.CASCADE, related_name="review_batches")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tag_group = models.ForeignKey("labels.TagGroup", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="The category the batch was drawn from, if one.")
    size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch #{self.pk} of {self.run} for {self.reviewer}"


class ReviewTask(models.Model):
    """One flag in one reviewer's hands, and that reviewer's current decision on it ('' = pending)."""

    batch = models.ForeignKey(ReviewBatch, on_delete=models.CASCADE, related_name="tasks")
    flag = models.ForeignKey("engine.Flag", on_delete=models.CASCADE, related_name="tasks")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey("engine.EngineRun", on_delete=models.CASCADE, related_name="+")
    tag_group = models.ForeignKey("labels.TagGroup", on_delete=models.PROTECT, related_name="+",
                                  help_text="The flag's tag, copied for the queue's index.")
    decision = models.CharField(max_length=16, blank=True, default="",
                                choices=[("", "pending"), *[(a.value, a.label) for a in ReviewAction
                                                            if a != ReviewAction.UNDO]])
    new_tag_group = models.ForeignKey("labels.TagGroup", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["flag_id"]
        permissions = [
            ("review_flags", "Can review flags of runs they are assigned to"),
            ("manage_reviews", "Can assign reviewers and work, and apply reviews"),
        ]
        constraints = [models.UniqueConstraint(fields=["flag", "reviewer"], name="review_task_unique")]
        indexes = [
            models.Index(fields=["reviewer", "run", "tag_group", "decision", "flag"], name="review_task_queue"),
            models.Index(fields=["run", "decision"], name="review_task_progress"),
        ]

    def __str__(self) -> str:
        return f"flag {self.flag_id} for {self.reviewer_id}: {self.decision or 'pending'}"


class ReviewDecision(models.Model):
    """One entry of the audit log: who did what to which flag, when. Never changed, never deleted."""

    flag = models.ForeignKey("engine.Flag", on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=ReviewAction.choices)
    new_tag_group = models.ForeignKey("labels.TagGroup", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    bulk = models.BooleanField(default=False, help_text="Part of a bulk decision over a cluster or filter.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Added by apps.review.services: what undo needs to find a reviewer's last action and take it back whole.
    run = models.ForeignKey("engine.EngineRun", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                            help_text="The flag's run (copied so undo finds a reviewer's last action by index).")
    operation = models.UUIDField(null=True, blank=True,
                                 help_text="One reviewer action: every row of a bulk decision (or of an undo) "
                                           "shares it, so the action is undone as a whole.")
    undoes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               help_text="For an undo: the decision it takes back.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["flag", "reviewer", "id"], name="review_decision_flag"),
            models.Index(fields=["reviewer", "run", "id"], name="review_decision_last"),
            models.Index(fields=["operation"], name="review_decision_operation"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.action} flag {self.flag_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("review decisions are an audit log: they cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("review decisions are an audit log: they cannot be deleted")


class UnreviewedPolicy(models.TextChoices):
    KEEP = "keep", "keep unreviewed tags"
    DROP = "drop", "drop unreviewed flagged tags"


class ReviewApplication(models.Model):
    run = models.ForeignKey("engine.EngineRun", on_delete=models.PROTECT, related_name="applications")
    output_version = models.ForeignKey("datasets.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    unreviewed = models.CharField(max_length=8, choices=UnreviewedPolicy.choices, default=UnreviewedPolicy.KEEP)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    counts = models.JSONField(default=dict, blank=True, help_text="removed / replaced / kept per outcome.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"review of {self.run} → {self.output_version}"
