"""Datasets API: thin viewsets over selectors/services; each action states its permission."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import ActionPermissions

from .. import selectors
from ..models import DatasetVersion, Snapshot
from ..services import branching, proposals, versions
from . import serializers as s

VIEW_DATASET = ["datasets.view_dataset"]
VIEW_VERSION = ["datasets.view_datasetversion"]
CHANGE_VERSION = ["datasets.change_datasetversion"]
VIEW_SNAPSHOT = ["datasets.view_snapshot"]


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError({name: "must be an integer"}) from None


class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Datasets (created by import jobs: POST /api/jobs/ with kind ``import_dataset``)."""

    serializer_class = s.DatasetSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW_DATASET, "retrieve": VIEW_DATASET}
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return selectors.dataset_list()


class DatasetVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Versions: counts, lineage, diff, tag frequency, phrases; seal; propose a label system."""

    serializer_class = s.DatasetVersionSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": VIEW_VERSION, "retrieve": VIEW_VERSION, "counts": VIEW_VERSION, "lineage": VIEW_VERSION,
        "diff": VIEW_VERSION, "frequency": VIEW_VERSION, "phrases": VIEW_VERSION,
        "seal": CHANGE_VERSION, "note": CHANGE_VERSION, "branch": ["datasets.add_dataset", *CHANGE_VERSION],
        "propose_label_system": [*VIEW_VERSION, "labels.add_labelsystemversion"],
    }
    filterset_fields = ["dataset", "sealed", "label_system_version"]
    ordering_fields = ["seq", "created_at"]

    def get_queryset(self):
        return selectors.dataset_version_list()

    @extend_schema(request=None, responses=s.DatasetVersionSerializer)
    @action(detail=True, methods=["post"])
    def seal(self, request: Request, pk: str | None = None) -> Response:
        version = versions.dataset_version_seal(version=self.get_object())
        return Response(s.DatasetVersionSerializer(version).data)

    @extend_schema(request=s.DatasetVersionNoteSerializer, responses=s.DatasetVersionSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request: Request, pk: str | None = None) -> Response:
        data = s.DatasetVersionNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = versions.dataset_version_update_note(version=self.get_object(),
                        note=data.validated_data["note"])
        return Response(s.DatasetVersionSerializer(version).data)

    @extend_schema(request=s.BranchSerializer, responses={201: s.DatasetVersionSerializer})
    @action(detail=True, methods=["post"])
    def branch(self, request: Request, pk: str | None = None) -> Response:
        """Copy this version once into the sealed v1 of a new dataset (versions of a dataset form one line)."""
        data = s.BranchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = branching.dataset_version_branch(base=self.get_object(), user=request.user,
                        **data.validated_data)
        return Response(s.DatasetVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def counts(self, request: Request, pk: str | None = None) -> Response:
        return Response(selectors.dataset_version_counts(version=self.get_object()))

    @extend_schema(responses=s.DatasetVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def lineage(self, request: Request, pk: str | None = None) -> Response:
        lineage = selectors.dataset_version_lineage(version=self.get_object())
        return Response(s.DatasetVersionSerializer(lineage, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("other", int, description="version to compare with "
                                                "(default: the parent)")], responses=s.DiffSerializer)
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        other_id = _int_param(request, "other")
        if other_id is None:
            if version.parent_id is None:
                raise ValidationError({"other": "the first version has no parent; pass ?other=<version id>"})
            base, other = version.parent, version
        else:
            found = DatasetVersion.objects.filter(pk=other_id).first()
            if found is None:
                raise NotFound(f"dataset version {other_id} does not exist")
            base, other = version, found
        return Response(selectors.version_diff(base=base, other=other))

    @extend_schema(parameters=[OpenApiParameter("limit", int)], responses=s.FrequencyRowSerializer(many=True))
    @action(detail=True, methods=["get"])
    def frequency(self, request: Request, pk: str | None = None) -> Response:
        limit = _int_param(request, "limit", 100)
        return Response(selectors.version_tag_frequency(version=self.get_object(), limit=limit))

    @extend_schema(parameters=[OpenApiParameter("limit", int), OpenApiParameter("unmapped", bool)],
                   responses=s.PhraseCountSerializer(many=True))
    @action(detail=True, methods=["get"])
    def phrases(self, request: Request, pk: str | None = None) -> Response:
        rows = selectors.version_phrase_frequency(
            version=self.get_object(), limit=_int_param(request, "limit", 100),
            unmapped_only=request.query_params.get("unmapped") in {"1", "true", "yes"})
        return Response(s.PhraseCountSerializer(rows, many=True).data)

    @extend_schema(request=s.ProposeSerializer, responses={201: s.ProposedVersionSerializer})
    @action(detail=True, methods=["post"], url_path="propose-label-system")
    def propose_label_system(self, request: Request, pk: str | None = None) -> Response:
        data = s.ProposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = proposals.label_system_propose(version=self.get_object(), user=request.user,
                      **data.validated_data)
        return Response(s.ProposedVersionSerializer(draft).data, status=status.HTTP_201_CREATED)


class SnapshotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Exports of versions (created by ``export_snapshot`` jobs) with their manifests."""

    serializer_class = s.SnapshotSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW_SNAPSHOT, "retrieve": VIEW_SNAPSHOT}
    filterset_fields = ["version", "format"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return Snapshot.objects.select_related("version").all()
