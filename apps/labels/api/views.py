"""Label-system API: thin viewsets over the services and selectors; each action states its permission."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import ActionPermissions
from ram_model.text.wordnet import (
    WordNetMissingError,
    lemma_forms,
    related_terms,
    suggest_category,
    synonyms_in_vocabulary,
)

from .. import selectors, services
from ..models import LabelSystem, LabelSystemVersion, MergeProposal
from ..services.files import CHINESE_FILE, TAGS_FILE, THRESHOLDS_FILE
from . import serializers as s
from .filters import MergeProposalFilter, TagFilter, TagGroupFilter


class WordNetUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "wordnet_missing"


VIEW_SYSTEM = ["labels.view_labelsystem"]
VIEW_VERSION = ["labels.view_labelsystemversion"]
VIEW_GROUP = ["labels.view_taggroup"]
VIEW_TAG = ["labels.view_tag"]
VIEW_PROPOSAL = ["labels.view_mergeproposal"]
FILE_KEYS = {"tags": TAGS_FILE, "chinese": CHINESE_FILE, "thresholds": THRESHOLDS_FILE}


class LabelSystemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Label systems; ``import`` uploads RAM files as a new version."""

    queryset = LabelSystem.objects.all()
    serializer_class = s.LabelSystemSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW_SYSTEM, "retrieve": VIEW_SYSTEM,
                          "import_files": ["labels.add_labelsystem", "labels.add_labelsystemversion"]}
    search_fields = ["name", "description"]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=s.ImportSerializer, responses={201: s.LabelSystemVersionSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_files(self, request: Request) -> Response:
        form = s.ImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data.get("document"):
            version = services.label_system_import_document(data=data["document"].read(),
                            name=data["name"], file=data["document"].name, user=request.user,
                            publish=data["publish"])
            version.tag_count = version.groups.count()
            return Response(s.LabelSystemVersionSerializer(version).data, status=status.HTTP_201_CREATED)
        upload = {key: data.get(key) for key in ("tags", "chinese", "thresholds")}
        label_files = services.LabelFiles(
            tags=upload["tags"].read(),
            chinese=upload["chinese"].read() if upload["chinese"] else None,
            thresholds=upload["thresholds"].read() if upload["thresholds"] else None,
            tags_name=upload["tags"].name, chinese_name=getattr(upload["chinese"], "name", CHINESE_FILE),
            thresholds_name=getattr(upload["thresholds"], "name", THRESHOLDS_FILE))
        version = services.label_system_import(name=data["name"], label_files=label_files,
                        user=request.user, publish=data["publish"],
                        allow_duplicate_tags=data["allow_duplicate_tags"])
        version.tag_count = version.groups.count()
        return Response(s.LabelSystemVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class LabelSystemVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Versions: copy a published one as a draft, publish a draft, diff two versions, export RAM files."""

    serializer_class = s.LabelSystemVersionSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": VIEW_VERSION, "retrieve": VIEW_VERSION, "diff": VIEW_VERSION, "export": VIEW_VERSION,
        "history": VIEW_VERSION,
        "draft": ["labels.add_labelsystemversion"],
        "publish": ["labels.publish_labelsystemversion"],
        "suggest_merges": ["labels.add_mergeproposal", "jobs.add_job"],
    }
    filterset_fields = ["label_system", "status", "number"]
    ordering_fields = ["number", "created_at"]

    def get_queryset(self):
        return LabelSystemVersion.objects.select_related("label_system", "created_by", "published_by").annotate(
            tag_count=Count("groups")).order_by("label_system__name", "number")

    def _respond(self, version: LabelSystemVersion, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=version.pk)).data, status=code)

    @extend_schema(request=s.DraftSerializer, responses={201: s.LabelSystemVersionSerializer})
    @action(detail=True, methods=["post"])
    def draft(self, request: Request, pk: str | None = None) -> Response:
        form = s.DraftSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        draft = services.version_create_draft(version=self.get_object(), user=request.user,
                      notes=form.validated_data["notes"])
        return self._respond(draft, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.LabelSystemVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        version = services.version_publish(version=self.get_object(), user=request.user)
        return self._respond(version)

    @extend_schema(parameters=[OpenApiParameter("against", int, description="version to compare with "
                                                "(default: the one this was copied from)")])
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        against = request.query_params.get("against") or version.parent_id
        if not against:
            raise ValidationError({"against": "give the id of the version to compare with"})
        other = LabelSystemVersion.objects.filter(pk=against).first()
        if other is None:
            raise NotFound(f"no label system version with id {against}")
        return Response(selectors.label_system_version_diff(other, version).as_dict())

    @extend_schema(parameters=[OpenApiParameter("file", str, enum=[*FILE_KEYS, "json"],
                                                description="download one RAM file as text/plain, or the "
                                                            "full JSON document (groups, synonyms, categories)")])
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> Response | HttpResponse:
        version = self.get_object()
        wanted = request.query_params.get("file")
        if wanted == "json":
            return Response(services.version_document(version))
        files = selectors.label_system_version_files(version)
        if wanted:
            name = FILE_KEYS.get(wanted)
            if name is None or name not in files:
                raise NotFound(f"no file {wanted!r}; choose one of {[*FILE_KEYS, 'json']}")
            response = HttpResponse(files[name], content_type="text/plain; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return Response({"files": {name: data.decode("utf-8") for name, data in files.items()}})

    @extend_schema(responses=s.GroupChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        changes = self.get_object().group_changes.select_related("user")
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(s.GroupChangeSerializer(page, many=True).data)

    @extend_schema(request=s.SuggestMergesSerializer, responses={202: None})
    @action(detail=True, methods=["post"], url_path="suggest-merges")
    def suggest_merges(self, request: Request, pk: str | None = None) -> Response:
        from apps.jobs.api.serializers import JobSerializer
        from apps.jobs.services import job_launch

        form = s.SuggestMergesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = job_launch(kind="suggest_merges", user=request.user,
                    params={"version": self.get_object().pk, **form.validated_data})
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class TagGroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tag groups (tag IDs) with their tags; merge several into one, split tags off one."""

    serializer_class = s.TagGroupSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW_GROUP, "retrieve": VIEW_GROUP,
                          "merge": ["labels.change_taggroup"], "split": ["labels.change_taggroup"]}
    filterset_class = TagGroupFilter
    search_fields = ["tags__text", "tags__name_zh"]
    ordering_fields = ["index", "size"]

    def get_queryset(self):
        return selectors.tag_group_list().prefetch_related("tags").order_by("version", "index")

    @extend_schema(request=s.MergeGroupsSerializer, responses=s.TagGroupSerializer)
    @action(detail=False, methods=["post"])
    def merge(self, request: Request) -> Response:
        form = s.MergeGroupsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        group = services.tag_groups_merge(groups=form.validated_data["groups"], user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=group.pk)).data)

    @extend_schema(request=s.SplitGroupSerializer, responses=s.TagGroupSerializer(many=True))
    @action(detail=True, methods=["post"])
    def split(self, request: Request, pk: str | None = None) -> Response:
        form = s.SplitGroupSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        groups = services.tag_group_split(group=self.get_object(), tags=form.validated_data["tags"],
                       user=request.user)
        fresh = self.get_queryset().filter(pk__in=[g.pk for g in groups])
        return Response(self.get_serializer(fresh, many=True).data, status=status.HTTP_201_CREATED)


class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                 viewsets.GenericViewSet):
    """Tags: filter by version/category/threshold, search text and Chinese name, edit a draft's tag."""

    serializer_class = s.TagSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW_TAG, "retrieve": VIEW_TAG, "wordnet": VIEW_TAG,
                          "update": ["labels.change_tag"], "partial_update": ["labels.change_tag"]}
    filterset_class = TagFilter
    search_fields = ["text", "name_zh"]
    ordering_fields = ["text", "threshold", "group__index"]

    def get_queryset(self):
        return selectors.tag_list().order_by("version", "group__index", "position")

    @extend_schema(request=s.TagUpdateSerializer, responses=s.TagSerializer)
    def update(self, request: Request, *args, **kwargs) -> Response:
        form = s.TagUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        form.is_valid(raise_exception=True)
        tag = services.tag_update(tag=self.get_object(), **form.validated_data)
        return Response(self.get_serializer(tag).data)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def wordnet(self, request: Request, pk: str | None = None) -> Response:
        """WordNet for browsing: base forms, synonyms in this version, hypernyms/hyponyms, a category."""
        tag = self.get_object()
        try:
            wn = services.wordnet_for_site()
        except WordNetMissingError as exc:
            raise WordNetUnavailable(str(exc)) from None
        vocabulary = set(tag.version.tags.values_list("text", flat=True))
        category, lexname = suggest_category(wn, tag.text)
        return Response({
            "tag": tag.text,
            "lemma_forms": lemma_forms(wn, tag.text),
            "synonyms_in_vocabulary": [{"tag": other, "synset": synset, "sense_rank": rank}
                                       for other, synset, rank in synonyms_in_vocabulary(wn, tag.text, vocabulary)],
            **related_terms(wn, tag.text),
            "suggested_category": category,
            "lexname": lexname,
        })


class MergeProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Merge proposals of a draft version: accept (merges the groups) or reject, one at a time or in bulk."""

    serializer_class = s.MergeProposalSerializer
    permission_classes = [ActionPermissions]
    CHANGE = ["labels.change_mergeproposal"]
    action_permissions = {"list": VIEW_PROPOSAL, "retrieve": VIEW_PROPOSAL, "accept": CHANGE, "reject": CHANGE,
                          "bulk_accept": CHANGE, "bulk_reject": CHANGE}
    filterset_class = MergeProposalFilter
    search_fields = ["tag_a__text", "tag_b__text", "detail"]
    ordering_fields = ["confidence", "created_at"]

    def get_queryset(self):
        return selectors.merge_proposal_list()

    def _decided(self, proposals: list[MergeProposal]) -> Response:
        fresh = self.get_queryset().filter(pk__in=[p.pk for p in proposals])
        return Response(self.get_serializer(fresh, many=True).data)

    @extend_schema(request=None, responses=s.MergeProposalSerializer(many=True))
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        services.merge_proposals_accept(proposals=[proposal], user=request.user)
        return self._decided([proposal])

    @extend_schema(request=None, responses=s.MergeProposalSerializer(many=True))
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        services.merge_proposals_reject(proposals=[proposal], user=request.user)
        return self._decided([proposal])

    @extend_schema(request=s.ProposalIdsSerializer, responses=s.MergeProposalSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="bulk-accept")
    def bulk_accept(self, request: Request) -> Response:
        form = s.ProposalIdsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.merge_proposals_accept(proposals=form.validated_data["ids"], user=request.user)
        return self._decided(form.validated_data["ids"])

    @extend_schema(request=s.ProposalIdsSerializer, responses=s.MergeProposalSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="bulk-reject")
    def bulk_reject(self, request: Request) -> Response:
        form = s.ProposalIdsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.merge_proposals_reject(proposals=form.validated_data["ids"], user=request.user)
        return self._decided(form.validated_data["ids"])
