"""Curating label systems in the Django admin: thin views over the services and selectors.

Published versions are shown read-only; merge/split/accept/publish are admin actions that call one service
each and report refusals as messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import services
from .models import (
    GroupChange,
    LabelSystem,
    LabelSystemVersion,
    MergeProposal,
    ProposalStatus,
    Tag,
    TagGroup,
)
from .selectors import label_system_version_diff


def _run(modeladmin: admin.ModelAdmin, request: HttpRequest, call: Callable[[], Any], done: str) -> Any:
    """Call a service; show its refusal (ValidationError) as an error message instead of a server error."""
    try:
        result = call()
    except ValidationError as exc:
        modeladmin.message_user(request, "; ".join(exc.messages), level=messages.ERROR)
        return None
    modeladmin.message_user(request, done, level=messages.SUCCESS)
    return result


class PublishedReadOnlyMixin:
    """Rows of a published version cannot be changed or deleted from the admin."""

    @staticmethod
    def _version_of(obj: Any) -> LabelSystemVersion | None:
        return obj if isinstance(obj, LabelSystemVersion) else getattr(obj, "version", None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        version = self._version_of(obj)
        if version is not None and version.is_published:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        version = self._version_of(obj)
        if version is not None and version.is_published:
            return False
        return super().has_delete_permission(request, obj)


class VersionInline(admin.TabularInline):
    model = LabelSystemVersion
    fields = ["number", "status", "parent", "created_at", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LabelSystem)
class LabelSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]
    inlines = [VersionInline]


@admin.register(LabelSystemVersion)
class LabelSystemVersionAdmin(PublishedReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "label_system", "number", "status", "parent", "published_at", "diff_link"]
    list_filter = ["status", "label_system"]
    list_select_related = ["label_system", "parent__label_system"]
    readonly_fields = ["label_system", "number", "status", "parent", "file_format", "created_by", "created_at",
                       "published_by", "published_at"]
    fields = ["label_system", "number", "status", "parent", "notes", "created_by", "created_at", "published_by",
              "published_at", "file_format"]
    actions = ["publish", "create_draft", "suggest_merges"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from an import or a draft copy

    @admin.display(description="diff")
    def diff_link(self, obj: LabelSystemVersion) -> str:
        url = reverse("admin:labels_labelsystemversion_diff", args=[obj.pk])
        return format_html('<a href="{}">compare</a>', url)

    @admin.action(description="Publish selected draft versions", permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[LabelSystemVersion]) -> None:
        for version in queryset:
            _run(self, request, lambda v=version: services.version_publish(version=v, user=request.user),
                 f"published {version.label_system.name} v{version.number}")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("labels.publish_labelsystemversion")

    @admin.action(description="Create a draft copy of the selected versions", permissions=["copy"])
    def create_draft(self, request: HttpRequest, queryset: QuerySet[LabelSystemVersion]) -> None:
        for version in queryset:
            draft = services.version_create_draft(version=version, user=request.user)
            self.message_user(request, f"created {draft} from v{version.number}", level=messages.SUCCESS)

    def has_copy_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("labels.add_labelsystemversion")

    @admin.action(description="Suggest merges (WordNet, plurals, translations) as a background job",
                  permissions=["change"])
    def suggest_merges(self, request: HttpRequest, queryset: QuerySet[LabelSystemVersion]) -> None:
        from apps.jobs.services import job_launch

        for version in queryset:
            job = _run(self, request,
                       lambda v=version: job_launch(kind="suggest_merges", params={"version": v.pk},
                                                    user=request.user),
                       f"queued a suggest_merges job for {version}")
            if job is not None:
                self.message_user(request, f"job #{job.pk}: follow it under Jobs", level=messages.INFO)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.diff_view)
        return [path("<int:object_id>/diff/", view, name="labels_labelsystemversion_diff"), *super().get_urls()]

    def diff_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Compare this version (b) with another (a; default: the version it was copied from)."""
        b = get_object_or_404(LabelSystemVersion.objects.select_related("label_system"), pk=object_id)
        if not self.has_view_permission(request, b):
            return HttpResponse(status=403)
        against = request.GET.get("against") or (b.parent_id and str(b.parent_id))
        a = get_object_or_404(LabelSystemVersion, pk=int(against)) if against and against.isdigit() else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes in {b}",
            "opts": self.model._meta,
            "version": b,
            "other": a,
            "choices": LabelSystemVersion.objects.select_related("label_system").exclude(pk=b.pk),
            "diff": label_system_version_diff(a, b) if a is not None else None,
        }
        return TemplateResponse(request, "admin/labels/labelsystemversion/diff.html", context)


class TagInline(admin.TabularInline):
    model = Tag
    fields = ["position", "text", "category", "name_zh", "threshold", "provenance", "merged_by", "merged_at"]
    readonly_fields = ["provenance", "merged_by", "merged_at"]
    extra = 0
    ordering = ["position"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.version.is_published) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.version.is_published) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.version.is_published) and super().has_delete_permission(request, obj)


class GroupSizeFilter(admin.SimpleListFilter):
    """Single tags vs synonym groups of several tags."""

    title = "group size"
    parameter_name = "group_size"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("1", "single tag"), ("2+", "2 or more tags")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        group_ref = "group" if queryset.model is Tag else "pk"
        others = Tag.objects.filter(group=OuterRef(group_ref))
        if queryset.model is Tag:
            others = others.exclude(pk=OuterRef("pk"))
        else:
            others = others.exclude(position=0)
        if self.value() == "1":
            return queryset.filter(~Exists(others))
        if self.value() == "2+":
            return queryset.filter(Exists(others))
        return queryset


class ThresholdFilter(admin.SimpleListFilter):
    title = "threshold"
    parameter_name = "threshold"
    RANGES = {"lt65": ("below 0.65", Q(threshold__lt=0.65)), "eq65": ("0.65 (default)", Q(threshold=0.65)),
              "65to80": ("above 0.65 up to 0.8", Q(threshold__gt=0.65, threshold__lte=0.8)),
              "gt80": ("above 0.8", Q(threshold__gt=0.8))}

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _q) in self.RANGES.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        chosen = self.RANGES.get(self.value() or "")
        return queryset.filter(chosen[1]) if chosen else queryset


@admin.register(TagGroup)
class TagGroupAdmin(PublishedReadOnlyMixin, admin.ModelAdmin):
    list_display = ["index", "primary", "version"]
    list_filter = [GroupSizeFilter, "version"]
    list_select_related = ["version__label_system"]
    search_fields = ["tags__text", "tags__name_zh"]
    readonly_fields = ["version", "index"]
    inlines = [TagInline]
    actions = ["merge_groups", "split_groups"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TagGroup]:
        primary = Tag.objects.filter(group=OuterRef("pk"), position=0).values("text")[:1]
        return super().get_queryset(request).annotate(primary_text=Subquery(primary))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for tag_form in formset.forms:  # a tag added inline belongs to the group's version
            if tag_form.instance.group_id and not tag_form.instance.version_id:
                tag_form.instance.version_id = form.instance.version_id
        super().save_formset(request, form, formset, change)
        services.tag_group_normalize(group=form.instance)  # one primary tag; an emptied group goes away

    @admin.display(description="primary tag", ordering="primary_text")
    def primary(self, obj: TagGroup) -> str:
        return obj.primary_text

    def delete_model(self, request: HttpRequest, obj: TagGroup) -> None:
        services.tag_groups_delete(groups=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TagGroup]) -> None:
        services.tag_groups_delete(groups=list(queryset))

    @admin.action(description="Merge the selected groups into one", permissions=["change"])
    def merge_groups(self, request: HttpRequest, queryset: QuerySet[TagGroup]) -> None:
        groups = list(queryset.select_related("version"))
        _run(self, request, lambda: services.tag_groups_merge(groups=groups, user=request.user),
             f"merged {len(groups)} groups")

    @admin.action(description="Split the selected groups into one group per tag", permissions=["change"])
    def split_groups(self, request: HttpRequest, queryset: QuerySet[TagGroup]) -> None:
        for group in queryset.select_related("version"):
            leaving = list(group.tags.exclude(position=0))
            if leaving:
                _run(self, request, lambda g=group, t=leaving: services.tag_group_split(group=g, tags=t,
                                                                                         user=request.user),
                     f"split {len(leaving)} tags off group #{group.index}")


@admin.register(Tag)
class TagAdmin(PublishedReadOnlyMixin, admin.ModelAdmin):
    list_display = ["text", "group_index", "position", "category", "name_zh", "threshold", "provenance", "version"]
    list_filter = ["category", GroupSizeFilter, ThresholdFilter, "provenance", "version"]
    list_select_related = ["group", "version__label_system"]
    search_fields = ["text", "name_zh"]
    readonly_fields = ["version", "group", "position", "text", "homonym", "threshold_text", "provenance",
                       "merged_by", "merged_at"]
    actions = ["merge_groups_of_tags", "split_off_tags"]
    show_full_result_count = False  # one COUNT(*) less per changelist page
    list_per_page = 50  # rendering, not SQL, dominates a changelist page (bench/admin_changelist.py)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tags come with their version (import) or are added to a group inline

    @admin.display(description="tag ID", ordering="group__index")
    def group_index(self, obj: Tag) -> int:
        return obj.group.index

    def save_model(self, request: HttpRequest, obj: Tag, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in
                   services.groups.EDITABLE_TAG_FIELDS}
        services.tag_update(tag=obj, **changes)

    def delete_model(self, request: HttpRequest, obj: Tag) -> None:
        services.tags_delete(tags=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        services.tags_delete(tags=list(queryset))

    @admin.action(description="Merge the groups of the selected tags", permissions=["change"])
    def merge_groups_of_tags(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        groups = list(TagGroup.objects.filter(pk__in=queryset.values("group")).select_related("version"))
        _run(self, request, lambda: services.tag_groups_merge(groups=groups, user=request.user),
             f"merged {len(groups)} groups")

    @admin.action(description="Split the selected tags off their groups", permissions=["change"])
    def split_off_tags(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        by_group: dict[int, list[Tag]] = {}
        for tag in queryset.select_related("group__version"):
            by_group.setdefault(tag.group_id, []).append(tag)
        for tags in by_group.values():
            group = tags[0].group
            _run(self, request,
                 lambda g=group, t=tags: services.tag_group_split(group=g, tags=t, user=request.user),
                 f"split {len(tags)} tag(s) off group #{group.index}")


@admin.register(MergeProposal)
class MergeProposalAdmin(admin.ModelAdmin):
    list_display = ["tag_a", "tag_b", "reason", "confidence", "detail", "status", "version"]
    list_filter = ["status", "reason", "version"]
    list_select_related = ["tag_a", "tag_b", "version__label_system"]
    search_fields = ["tag_a__text", "tag_b__text", "detail"]
    readonly_fields = ["version", "tag_a", "tag_b", "reason", "confidence", "detail", "status", "decided_by",
                       "decided_at", "created_at"]
    actions = ["accept_suggestions", "reject_suggestions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Accept the selected suggestions (merge their groups)", permissions=["change"])
    def accept_suggestions(self, request: HttpRequest, queryset: QuerySet[MergeProposal]) -> None:
        pending = list(queryset.filter(status=ProposalStatus.PENDING))
        _run(self, request, lambda: services.merge_proposals_accept(proposals=pending, user=request.user),
             f"accepted {len(pending)} suggestion(s)")

    @admin.action(description="Reject the selected suggestions", permissions=["change"])
    def reject_suggestions(self, request: HttpRequest, queryset: QuerySet[MergeProposal]) -> None:
        pending = list(queryset.filter(status=ProposalStatus.PENDING))
        _run(self, request, lambda: services.merge_proposals_reject(proposals=pending, user=request.user),
             f"rejected {len(pending)} suggestion(s)")


@admin.register(GroupChange)
class GroupChangeAdmin(admin.ModelAdmin):
    """The merge/split history; written by the services only."""

    list_display = ["created_at", "kind", "provenance", "user", "tags", "version"]
    list_filter = ["kind", "provenance", "version"]
    list_select_related = ["user", "version__label_system"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

