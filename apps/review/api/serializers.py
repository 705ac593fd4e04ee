from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from apps.engine.models import EngineRun, Flag

from ..models import ReviewAction, ReviewApplication, ReviewBatch, ReviewDecision, RunReviewer, UnreviewedPolicy
from ..selectors import REASON_FILTERS, STATUS_FILTERS


class RunReviewerSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = RunReviewer
        fields = ["user", "username", "added_by", "added_at"]
        read_only_fields = fields


class ReviewRunSerializer(serializers.ModelSerializer):
    reviewers = RunReviewerSerializer(many=True, read_only=True)

    class Meta:
        model = EngineRun
        fields = ["id", "name", "kind", "dataset_version", "categories", "reviewers", "created_at"]
        read_only_fields = fields


def _box(value: Any) -> list[float] | None:
    if isinstance(value, list | tuple) and len(value) == 4:
        try:
            return [float(v) for v in value]
        except (TypeError, ValueError):
            return None
    return None


class QueueItemSerializer(serializers.Serializer):
    """One task of a reviewer's queue: the flag, its evidence, the image and the reviewer's current decision."""

    flag = serializers.IntegerField(source="flag_id")
    tag_group = serializers.IntegerField(source="tag_group_id")
    tag = serializers.CharField(source="tag_name")
    decision = serializers.CharField()
    new_tag_group = serializers.IntegerField(source="new_tag_group_id", allow_null=True)
    new_tag = serializers.CharField(source="new_tag_name")
    decided_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField(source="flag.status")
    reasons = serializers.ListField(source="flag.reasons", child=serializers.CharField())
    region_source = serializers.CharField(source="flag.region_source")
    box = serializers.SerializerMethodField()
    cluster = serializers.IntegerField(source="flag.cluster", allow_null=True)
    distance = serializers.FloatField(source="flag.distance", allow_null=True)
    percentile = serializers.FloatField(source="flag.percentile", allow_null=True)
    score = serializers.FloatField(source="flag.score", allow_null=True)
    threshold = serializers.FloatField(source="flag.threshold", allow_null=True)
    label_quality = serializers.FloatField(source="flag.label_quality", allow_null=True)
    image = serializers.IntegerField(source="flag.image_id")
    image_uri = serializers.CharField(source="flag.image.uri")
    width = serializers.IntegerField(source="flag.image.width", allow_null=True)
    height = serializers.IntegerField(source="flag.image.height", allow_null=True)
    thumbnail_url = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    captions = serializers.SerializerMethodField()

    def get_box(self, task: Any) -> list[float] | None:
        return _box(task.flag.box)

    def get_thumbnail_url(self, task: Any) -> str:
        return reverse("review:image-thumb", args=[task.flag.image_id]) + "?size=256"

    def get_image_url(self, task: Any) -> str:
        return reverse("review:image-full", args=[task.flag.image_id])

    def get_captions(self, task: Any) -> list[str]:
        return [c.text for c in getattr(task.flag.image, "visible_captions", [])]


class QueueParamsSerializer(serializers.Serializer):
    category = serializers.IntegerField(help_text="tag group id of the queue's category")
    status = serializers.ChoiceField(choices=list(STATUS_FILTERS), default="pending")
    reason = serializers.ChoiceField(choices=list(REASON_FILTERS), required=False, allow_blank=True, default="")
    cluster = serializers.IntegerField(required=False, allow_null=True, default=None)
    after = serializers.IntegerField(required=False, allow_null=True, default=None,
                                     help_text="flag id of the last item of the previous page")
    limit = serializers.IntegerField(min_value=1, max_value=200, default=20)


class BulkDecideSerializer(serializers.Serializer):
    category = serializers.IntegerField()
    action = serializers.ChoiceField(choices=[ReviewAction.ACCEPT, ReviewAction.REJECT])
    status = serializers.ChoiceField(choices=list(STATUS_FILTERS), default="pending")
    reason = serializers.ChoiceField(choices=list(REASON_FILTERS), required=False, allow_blank=True, default="")
    cluster = serializers.IntegerField(required=False, allow_null=True, default=None)


class DecideSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=[ReviewAction.ACCEPT, ReviewAction.REJECT, ReviewAction.CHANGE])
    new_tag_group = serializers.IntegerField(required=False, allow_null=True, default=None,
                                             help_text="the replacement tag group (change only)")


class ActionResultSerializer(serializers.Serializer):
    operation = serializers.UUIDField(allow_null=True)
    action = serializers.CharField()
    count = serializers.IntegerField()
    flag_ids = serializers.ListField(child=serializers.IntegerField())


class AssignReviewersSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.IntegerField(), min_length=1, help_text="user ids")


class RemoveReviewerSerializer(serializers.Serializer):
    user = serializers.IntegerField(help_text="user id")


class BatchesCreateSerializer(serializers.Serializer):
    reviewers = serializers.ListField(child=serializers.IntegerField(), min_length=1, help_text="user ids")
    size = serializers.IntegerField(min_value=1, max_value=1_000_000, help_text="flags per reviewer")
    overlap = serializers.IntegerField(min_value=1, default=1, help_text="reviewers per flag")
    category = serializers.IntegerField(required=False, allow_null=True, default=None)


class ApplySerializer(serializers.Serializer):
    unreviewed = serializers.ChoiceField(choices=UnreviewedPolicy.choices, default=UnreviewedPolicy.KEEP)


class ReviewBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewBatch
        fields = ["id", "run", "reviewer", "tag_group", "size", "created_by", "created_at"]
        read_only_fields = fields


class ReviewDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewDecision
        fields = ["id", "flag", "run", "reviewer", "action", "new_tag_group", "bulk", "operation", "undoes",
                  "created_at"]
        read_only_fields = fields


class ReviewApplicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewApplication
        fields = ["id", "run", "output_version", "unreviewed", "job", "counts", "created_by", "created_at"]
        read_only_fields = fields


class FlagReviewSerializer(serializers.ModelSerializer):
    """A flag with its evidence and review outcome (status follows the reviewers' decisions)."""

    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Flag
        fields = ["id", "run", "assignment", "image", "tag_group", "reasons", "region_source", "box", "cluster",
                  "distance", "percentile", "score", "threshold", "label_quality", "status", "resolved_tag_group"]
        read_only_fields = fields
