"""Review API: runs (progress, agreement, the reviewer's queue, bulk decisions, undo; curators assign reviewers,
make batches and apply), flags (decide), and the read-only batches, audit log and applications.

Every action states its Django permission (``ActionPermissions``); the queue, decisions and undo also need the
user to be assigned to the run (``AssignedReviewer``, an object-level check). Collections a user has no part
in are empty: reviewers list their own batches and decisions, curators all of them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import ActionPermissions
from apps.engine.models import Flag
from apps.labels.models import TagGroup

from .. import selectors
from ..models import ReviewApplication, ReviewBatch, ReviewDecision
from ..services import apply as apply_services
from ..services import decisions, work
from .serializers import (
    ActionResultSerializer,
    ApplySerializer,
    AssignReviewersSerializer,
    BatchesCreateSerializer,
    BulkDecideSerializer,
    DecideSerializer,
    FlagReviewSerializer,
    QueueItemSerializer,
    QueueParamsSerializer,
    RemoveReviewerSerializer,
    ReviewApplicationSerializer,
    ReviewBatchSerializer,
    ReviewDecisionSerializer,
    ReviewRunSerializer,
    RunReviewerSerializer,
)

VIEW = ["review.view_reviewtask"]
REVIEW = ["review.review_flags"]
MANAGE = ["review.manage_reviews"]


class AssignedReviewer(BasePermission):
    """Object-level: the actions in ``view.assigned_actions`` need the user to be assigned to the run."""

    message = "You are not assigned to review this run."

    def has_permission(self, request: Request, view: Any) -> bool:
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if getattr(view, "action", None) not in getattr(view, "assigned_actions", ()):
            return True
        run_id = obj.run_id if isinstance(obj, Flag) else obj.pk
        return selectors.run_is_reviewer(run_id=run_id, user=request.user)


def _data(serializer_class: type, request: Request, data: Any = None) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if data is None else data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _result(result: decisions.ActionResult) -> dict[str, Any]:
    return ActionResultSerializer({"operation": result.operation, "action": result.action, "count": result.count,
                                   "flag_ids": result.flag_ids}).data


def _users(ids: list[int]) -> list[Any]:
    users = list(get_user_model().objects.filter(pk__in=ids))
    missing = set(ids) - {u.pk for u in users}
    if missing:
        raise ValidationError({"users": f"no users with ids {sorted(missing)}"})
    return users


class ReviewRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cleaning runs under review."""

    serializer_class = ReviewRunSerializer
    permission_classes = [ActionPermissions, AssignedReviewer]
    action_permissions = {
        "list": VIEW, "retrieve": VIEW, "progress": VIEW, "agreement": VIEW,
        "queue": REVIEW, "bulk_decide": REVIEW, "undo": REVIEW,
        "assign_reviewers": MANAGE, "remove_reviewer": MANAGE, "batches": MANAGE, "apply": MANAGE,
    }
    assigned_actions = ("queue", "bulk_decide", "undo")
    filterset_fields = ["dataset_version"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.review_run_list().prefetch_related("reviewers__user")

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: str | None = None) -> Response:
        """Flags per category by review status, and tasks decided / assigned."""
        return Response(selectors.run_progress(run=self.get_object()))

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def agreement(self, request: Request, pk: str | None = None) -> Response:
        """Agreement on overlapped flags: per reviewer (with the majority) and per tag (unanimous share)."""
        return Response(selectors.run_agreement(run=self.get_object()))

    @extend_schema(parameters=[QueueParamsSerializer], responses={200: QueueItemSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def queue(self, request: Request, pk: str | None = None) -> Response:
        """The next flags of my queue in one category (keyset: pass ``after`` = the last flag id you got)."""
        run = self.get_object()
        params = _data(QueueParamsSerializer, request, request.query_params)
        queue_filter = selectors.QueueFilter(status=params["status"], reason=params["reason"],
                                             cluster=params["cluster"])
        page = selectors.queue_page(user=request.user, run=run, tag_group_id=params["category"],
                                    queue_filter=queue_filter, after=params["after"], limit=params["limit"])
        for task in page.tasks:
            task.tag_name = page.names.get(task.tag_group_id, "")
            task.new_tag_name = page.names.get(task.new_tag_group_id, "") if task.new_tag_group_id else ""
        return Response({"results": QueueItemSerializer(page.tasks, many=True).data,
                         "next_after": page.last_flag_id if page.has_next else None})

    @extend_schema(request=BulkDecideSerializer, responses={200: ActionResultSerializer})
    @action(detail=True, methods=["post"], url_path="bulk-decide")
    def bulk_decide(self, request: Request, pk: str | None = None) -> Response:
        """Accept or reject all of my tasks in a category that match a filter (e.g. one cluster)."""
        run = self.get_object()
        params = _data(BulkDecideSerializer, request)
        queue_filter = selectors.QueueFilter(status=params["status"], reason=params["reason"],
                                             cluster=params["cluster"])
        result = decisions.review_decide_bulk(user=request.user, run=run, tag_group_id=params["category"],
                                              action=params["action"], queue_filter=queue_filter)
        return Response(_result(result))

    @extend_schema(request=None, responses={200: ActionResultSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Take back my last action in this run (a bulk action as a whole)."""
        return Response(_result(decisions.review_undo(user=request.user, run=self.get_object())))

    @extend_schema(request=AssignReviewersSerializer, responses={200: RunReviewerSerializer(many=True)})
    @action(detail=True, methods=["post"], url_path="assign-reviewers")
    def assign_reviewers(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        for user in _users(_data(AssignReviewersSerializer, request)["users"]):
            work.run_reviewer_add(run=run, user=user, added_by=request.user)
        return Response(RunReviewerSerializer(selectors.run_reviewers(run=run), many=True).data)

    @extend_schema(request=RemoveReviewerSerializer, responses={200: dict})
    @action(detail=True, methods=["post"], url_path="remove-reviewer")
    def remove_reviewer(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        user = _users([_data(RemoveReviewerSerializer, request)["user"]])[0]
        return Response({"released": work.run_reviewer_remove(run=run, user=user)})

    @extend_schema(request=BatchesCreateSerializer, responses={201: ReviewBatchSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def batches(self, request: Request, pk: str | None = None) -> Response:
        """Hand fresh flags to reviewers: ``size`` each, every flag to ``overlap`` of them."""
        run = self.get_object()
        params = _data(BatchesCreateSerializer, request)
        category = None
        if params["category"] is not None:
            category = TagGroup.objects.filter(pk=params["category"]).first()
            if category is None:
                raise ValidationError({"category": f"no tag group with id {params['category']}"})
        made = work.review_batches_create(run=run, reviewers=_users(params["reviewers"]), size=params["size"],
                                          overlap=params["overlap"], tag_group=category, user=request.user)
        return Response(ReviewBatchSerializer(made, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ApplySerializer, responses={201: ReviewApplicationSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Queue the ``apply_review`` job: a child version of the run's input (which must be the tip)."""
        run = self.get_object()
        params = _data(ApplySerializer, request)
        application = apply_services.review_apply_launch(run=run, unreviewed=params["unreviewed"], user=request.user)
        return Response(ReviewApplicationSerializer(application).data, status=status.HTTP_201_CREATED)


class ReviewFlagViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Flags of the runs I review: read one (with its evidence and outcome), decide on it."""

    serializer_class = FlagReviewSerializer
    permission_classes = [ActionPermissions, AssignedReviewer]
    action_permissions = {"retrieve": REVIEW, "decide": REVIEW}
    assigned_actions = ("retrieve", "decide")

    def get_queryset(self):
        return Flag.objects.filter(run_id__in=selectors.reviewer_run_ids(user=self.request.user))

    @extend_schema(request=DecideSerializer, responses={200: FlagReviewSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Accept, reject or change (to ``new_tag_group``) the flagged tag; the flag's status follows."""
        flag = self.get_object()
        params = _data(DecideSerializer, request)
        new_tag_group = None
        if params["new_tag_group"] is not None:
            new_tag_group = get_object_or_404(TagGroup, pk=params["new_tag_group"])
        decisions.review_decide(user=request.user, flag=flag, action=params["action"], new_tag_group=new_tag_group)
        flag.refresh_from_db()
        return Response(FlagReviewSerializer(flag).data)


def _own_unless_manager(request: Request, queryset: Any, field: str) -> Any:
    if request.user.has_perm(MANAGE[0]):
        return queryset
    return queryset.filter(**{field: request.user.pk})


class ReviewBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Batches: curators see all, everybody else their own."""

    serializer_class = ReviewBatchSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW, "retrieve": VIEW}
    filterset_fields = ["run", "reviewer", "tag_group"]

    def get_queryset(self):
        return _own_unless_manager(self.request, ReviewBatch.objects.all(), "reviewer_id")


class DecisionPagination(CursorPagination):
    ordering = "-id"
    page_size = 100


class ReviewDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The audit log (read-only): curators see every decision, everybody else their own."""

    serializer_class = ReviewDecisionSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW, "retrieve": VIEW}
    filterset_fields = ["run", "reviewer", "flag", "action", "operation"]
    pagination_class = DecisionPagination
    filter_backends = [DjangoFilterBackend]  # ordering is the cursor's (newest first)

    def get_queryset(self):
        return _own_unless_manager(self.request, ReviewDecision.objects.all(), "reviewer_id")


class ReviewApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReviewApplicationSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {"list": VIEW, "retrieve": VIEW}
    filterset_fields = ["run"]

    def get_queryset(self):
        return ReviewApplication.objects.all()
