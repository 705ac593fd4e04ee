from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import ActionPermissions

from .. import selectors, services
from .serializers import JobLaunchSerializer, JobLogLineSerializer, JobSerializer

VIEW = ["jobs.view_job"]
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs of every kind: launch, follow, cancel, retry."""

    serializer_class = JobSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        "list": VIEW, "retrieve": VIEW, "log": VIEW,
        "create": ["jobs.add_job"],
        "cancel": ["jobs.cancel_job"], "retry": ["jobs.cancel_job"],
    }
    filterset_fields = ["kind", "state", "queue"]
    ordering_fields = ["created_at", "finished_at", "kind", "state"]

    def get_queryset(self):
        return selectors.job_list()

    @extend_schema(request=JobLaunchSerializer, responses={201: JobSerializer})
    def create(self, request: Request) -> Response:
        launch = JobLaunchSerializer(data=request.data)
        launch.is_valid(raise_exception=True)
        job = services.job_launch(user=request.user, **launch.validated_data)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = services.job_cancel(job=self.get_object())
        return Response(JobSerializer(job).data)

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        job = services.job_retry(job=self.get_object())
        return Response(JobSerializer(job).data)

    @extend_schema(responses=JobLogLineSerializer(many=True))
    @action(detail=True, methods=["get"])
    def log(self, request: Request, pk: str | None = None) -> Response:
        lines = selectors.job_log_tail(job=self.get_object(), lines=int(request.query_params.get("lines", 200)))
        return Response(JobLogLineSerializer(lines, many=True).data)
