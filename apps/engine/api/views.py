import django_filters
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import ActionPermissions
from apps.jobs.api.params import request_params
from apps.jobs.api.serializers import JobSerializer

from .. import selectors, services
from ..models import EngineRunKind, Flag, FlagStatus
from .serializers import (
    CleaningLaunchSerializer,
    ClusterRequestSerializer,
    EngineRunSerializer,
    FlagCountsSerializer,
    FlagSerializer,
    GenerationLaunchSerializer,
)

VIEW_RUN = "engine.view_enginerun"
VIEW_FLAG = "engine.view_flag"
LAUNCH = ["engine.add_enginerun", "jobs.add_job"]


class EngineRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Data-engine runs: launch generation (a child version with generated tags and captions) or cleaning
    (region features, then clustering: flags for review), follow them, read their reports and flag counts."""

    serializer_class = EngineRunSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": [VIEW_RUN], "retrieve": [VIEW_RUN], "report": [VIEW_RUN], "flag_counts": [VIEW_RUN, VIEW_FLAG],
        "create": LAUNCH, "cluster": LAUNCH,
    }
    filterset_fields = ["kind", "dataset_version", "checkpoint", "output_version", "job__state"]
    search_fields = ["name"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.engine_run_list()

    @extend_schema(
        request=PolymorphicProxySerializer(component_name="EngineRunLaunch", resource_type_field_name="kind",
                                           serializers={"generation": GenerationLaunchSerializer,
                                                        "cleaning": CleaningLaunchSerializer}),
        responses={201: EngineRunSerializer})
    def create(self, request: Request) -> Response:
        """``{"kind": "generation" | "cleaning", …parameters}``; bad parameters answer 400 naming the field."""
        params = request_params(request)
        run = services.engine_run_launch(kind=str(params.pop("kind", "") or ""), params=params, user=request.user)
        return Response(EngineRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> Response:
        """A generation run's before/after counts (total, per source, per tag); a cleaning run's report."""
        run = self.get_object()
        body = selectors.generation_report(run=run) if run.kind == EngineRunKind.GENERATION else run.report
        return Response({"run": run.pk, "kind": run.kind, "report": body})

    @extend_schema(responses={200: FlagCountsSerializer})
    @action(detail=True, methods=["get"], url_path="flag-counts")
    def flag_counts(self, request: Request, pk: str | None = None) -> Response:
        """Flags of the run in total, per reason, per review status, and per category."""
        return Response(FlagCountsSerializer(selectors.flag_counts(run=self.get_object())).data)

    @extend_schema(request=ClusterRequestSerializer, responses={201: JobSerializer})
    @action(detail=True, methods=["post"])
    def cluster(self, request: Request, pk: str | None = None) -> Response:
        """Cluster a cleaning run's region features (again), e.g. with another fraction; replaces its cluster
        flags that nobody reviewed yet."""
        job = services.engine_cluster_launch(run=self.get_object(), params=request_params(request), user=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class FlagFilter(django_filters.FilterSet):
    reason = django_filters.ChoiceFilter(choices=[(r, r) for r in selectors.REASONS], method="by_reason",
                                         label="cluster_outlier, baseline_rejection or confident_learning")
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices)

    class Meta:
        model = Flag
        fields = ["run", "tag_group", "status", "cluster", "region_source", "image"]

    def by_reason(self, queryset, name, value):
        return queryset.filter(**{selectors.REASONS[value]: True})


class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Flags of cleaning runs with their evidence; filter by run, tag_group, status, reason, cluster."""

    serializer_class = FlagSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": [VIEW_FLAG], "retrieve": [VIEW_FLAG]}
    filterset_class = FlagFilter
    ordering_fields = ["id", "distance", "score", "percentile"]

    def get_queryset(self):
        return selectors.flag_list()
