"""Admin: datasets, versions (seal action; sealed versions are read-only), images, snapshots."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Dataset, DatasetVersion, Image, Snapshot
from .services.versions import dataset_version_discard, dataset_version_seal


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "image_root", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["image_root", "created_by", "created_at"]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "seq", "parent", "sealed", "label_system_version", "job", "created_at"]
    list_filter = ["sealed"]
    search_fields = ["dataset__name", "note"]
    readonly_fields = ["dataset", "seq", "parent", "label_system_version", "job", "sealed", "sealed_at", "counts",
                       "created_by", "created_at"]
    actions = ["seal", "discard"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from imports, jobs and services

    def has_delete_permission(self, request: HttpRequest, obj: DatasetVersion | None = None) -> bool:
        return False  # a plain delete would orphan the version's rows; use the "discard" action

    @admin.action(description="Seal the selected versions", permissions=["change"])
    def seal(self, request: HttpRequest, queryset: QuerySet[DatasetVersion]) -> None:
        for version in queryset:
            try:
                dataset_version_seal(version=version)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {'; '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, "Sealed.")

    @admin.action(description="Discard the selected open versions and their changes", permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet[DatasetVersion]) -> None:
        for version in queryset.order_by("-seq"):
            try:
                dataset_version_discard(version=version)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {'; '.join(exc.messages)}", messages.ERROR)


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["uri", "dataset", "added_in_seq", "width", "height"]
    search_fields = ["uri"]
    list_select_related = ["dataset"]
    show_full_result_count = False
    readonly_fields = ["dataset", "uri", "added_in_seq", "width", "height", "checksum"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["version", "format", "path", "created_at", "verified_at"]
    list_filter = ["format"]
    readonly_fields = ["version", "format", "path", "manifest", "job", "created_by", "created_at", "verified_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
