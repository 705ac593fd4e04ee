"""Admin of review: reviewers, batches and tasks, applications; the decision log is read-only and undeletable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ReviewApplication, ReviewBatch, ReviewDecision, ReviewTask, RunReviewer


@admin.register(RunReviewer)
class RunReviewerAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "user", "added_by", "added_at"]
    raw_id_fields = ["run", "user", "added_by"]
    readonly_fields = ["added_at"]


@admin.register(ReviewBatch)
class ReviewBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "reviewer", "tag_group", "size", "created_by", "created_at"]
    raw_id_fields = ["run", "reviewer", "tag_group", "created_by"]
    readonly_fields = ["size", "created_at"]


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    """Tasks change only through decisions (so the audit log and flag status stay in step): read-only here."""

    list_display = ["id", "flag", "reviewer", "run", "tag_group", "decision", "new_tag_group", "decided_at"]
    list_filter = ["decision"]
    raw_id_fields = ["batch", "flag", "reviewer", "run", "tag_group", "new_tag_group"]
    readonly_fields = [f.name for f in ReviewTask._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(admin.ModelAdmin):
    """The audit log: every decision with reviewer and time. Nothing can be added, changed or deleted here."""

    list_display = ["id", "created_at", "reviewer", "run", "flag", "action", "new_tag_group", "bulk", "undoes"]
    list_filter = ["action", "bulk"]
    search_fields = ["reviewer__username"]
    readonly_fields = [f.name for f in ReviewDecision._meta.fields]
    list_select_related = ["reviewer", "run"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewApplication)
class ReviewApplicationAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "output_version", "unreviewed", "job", "created_by", "created_at"]
    readonly_fields = [f.name for f in ReviewApplication._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
