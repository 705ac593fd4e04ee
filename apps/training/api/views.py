from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import ActionPermissions
from apps.jobs.api.params import request_params
from apps.jobs.api.serializers import JobSerializer
from apps.labels.models import LabelSystemVersion

from .. import selectors, services
from .serializers import (
    CheckpointRegisterSerializer,
    CheckpointSerializer,
    CompareRowSerializer,
    EvalResultSerializer,
    EvaluateRequestSerializer,
    ExtendRequestSerializer,
    TrainingLaunchSerializer,
    TrainingRunSerializer,
)


class TrainingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Training runs: launch (a ``train`` job on the gpu queue), follow, read the logged curves."""

    serializer_class = TrainingRunSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": ["training.view_trainingrun"], "retrieve": ["training.view_trainingrun"],
        "metrics": ["training.view_trainingrun"],
        "create": ["training.add_trainingrun", "jobs.add_job"],
    }
    filterset_fields = ["mode", "variant", "size", "dataset_version", "label_system_version", "job__state"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.training_run_list()

    @extend_schema(request=TrainingLaunchSerializer, responses={201: TrainingRunSerializer})
    def create(self, request: Request) -> Response:
        run = services.training_run_launch(params=request_params(request), user=request.user)
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def metrics(self, request: Request, pk: str | None = None) -> Response:
        """The run's metrics.jsonl records: ``train`` (loss parts, lr, images/s) and ``eval`` (mAP …)."""
        return Response(selectors.run_metrics(run=self.get_object()))


class CheckpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The checkpoint registry: register a file, evaluate it, extend its head with new tags."""

    serializer_class = CheckpointSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": ["training.view_checkpoint"], "retrieve": ["training.view_checkpoint"],
        "create": ["training.add_checkpoint"],
        "evaluate": ["training.add_evalresult", "jobs.add_job"],
        "extend": ["training.add_checkpoint", "jobs.add_job"],
    }
    filterset_fields = ["source", "variant", "size", "label_system_version", "dataset_version", "training_run"]
    search_fields = ["name", "path"]
    ordering_fields = ["created_at", "name"]

    def get_queryset(self):
        return selectors.checkpoint_list()

    @extend_schema(request=CheckpointRegisterSerializer, responses={201: CheckpointSerializer})
    def create(self, request: Request) -> Response:
        data = CheckpointRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        lsv_id = values.pop("label_system_version")
        lsv = LabelSystemVersion.objects.filter(pk=lsv_id).first() if lsv_id else None
        if lsv_id and lsv is None:
            raise ValidationError({"label_system_version": f"no label system version with id {lsv_id}"})
        checkpoint = services.checkpoint_register(label_system_version=lsv, user=request.user, **values)
        return Response(CheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)

    def _launch(self, request: Request, launch) -> Response:
        checkpoint = self.get_object()
        params = {**request_params(request), "checkpoint": checkpoint.pk}
        job = launch(params=params, user=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EvaluateRequestSerializer, responses={201: JobSerializer})
    @action(detail=True, methods=["post"])
    def evaluate(self, request: Request, pk: str | None = None) -> Response:
        """Queue an ``evaluate`` job on a dataset version or benchmark annotation files."""
        return self._launch(request, services.evaluation_launch)

    @extend_schema(request=ExtendRequestSerializer, responses={201: JobSerializer})
    @action(detail=True, methods=["post"])
    def extend(self, request: Request, pk: str | None = None) -> Response:
        """Queue an ``extend_checkpoint`` job adding a newer label-system version's tags (CLIP embeddings)."""
        return self._launch(request, services.checkpoint_extend_launch)


class EvalResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Evaluation results (mAP, CP/CR/CF1, OP/OR/OF1, per-tag AP) and the tag-by-tag comparison of two."""

    serializer_class = EvalResultSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": ["training.view_evalresult"], "retrieve": ["training.view_evalresult"],
        "compare": ["training.view_evalresult"],
    }
    filterset_fields = ["checkpoint", "dataset_version"]
    ordering_fields = ["created_at", "mAP"]

    def get_queryset(self):
        return selectors.eval_result_list()

    @extend_schema(parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True),
                               OpenApiParameter("q", str), OpenApiParameter("sort", str)],
                   responses=CompareRowSerializer(many=True))
    @action(detail=False, methods=["get"])
    def compare(self, request: Request) -> Response:
        """AP of every tag in evaluations ``a`` and ``b`` with the difference (b − a)."""
        ids = {}
        for key in ("a", "b"):
            value = request.query_params.get(key, "")
            if not value.isdigit():
                raise ValidationError({key: "give the id of an evaluation result"})
            ids[key] = value
        results = {key: self.get_queryset().filter(pk=value).first() for key, value in ids.items()}
        missing = [key for key, value in results.items() if value is None]
        if missing:
            raise ValidationError({key: f"no evaluation result {ids[key]}" for key in missing})
        rows = selectors.compare_rows(a=results["a"], b=results["b"], query=request.query_params.get("q", ""),
                                      sort=request.query_params.get("sort", "delta"),
                                      descending=request.query_params.get("order", "desc") != "asc")
        return Response(CompareRowSerializer(rows, many=True).data)
