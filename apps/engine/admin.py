"""Admin of engine runs and flags: read-mostly (runs are launched from the engine pages, flags are reviewed in
the review queue); only a run's name can be edited here."""

from __future__ import annotations

from django.contrib import admin

from .models import EngineRun, Flag


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EngineRun)
class EngineRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "kind", "dataset_version", "checkpoint", "output_version", "job", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    list_select_related = ["dataset_version__dataset", "checkpoint", "output_version__dataset", "job"]
    readonly_fields = ["kind", "dataset_version", "checkpoint", "output_version", "job", "params", "categories",
                       "report", "created_by", "created_at"]
    fields = ["name", *readonly_fields]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "tag_group", "image", "reasons_text", "cluster", "distance", "score", "status"]
    list_filter = ["status", "by_cluster", "by_rejection", "by_confident", "region_source"]
    list_select_related = ["run", "tag_group", "image"]
    raw_id_fields = ["run", "assignment", "image", "tag_group", "resolved_tag_group"]
    search_fields = ["image__uri"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="reasons")
    def reasons_text(self, flag: Flag) -> str:
        return flag.reasons_text
