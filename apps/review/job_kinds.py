"""Job kind of review: ``apply_review`` (cpu queue; body in ``workers/review.py``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.engine.models import EngineRun
from apps.jobs.kinds import JobKind, register

from .models import UnreviewedPolicy


class ApplyReviewParams(serializers.Serializer):
    run_id = serializers.IntegerField(help_text="id of the cleaning run whose review is applied")
    unreviewed = serializers.ChoiceField(choices=UnreviewedPolicy.choices, default=UnreviewedPolicy.KEEP,
                                         help_text="what happens to flagged tags nobody decided on")
    shard_size = serializers.IntegerField(min_value=1, max_value=10_000_000, default=50_000,
                                          help_text="flag ids per transaction")

    def validate_run_id(self, value: int) -> int:
        from .services.apply import review_apply_check

        run = EngineRun.objects.filter(pk=value).first()
        if run is None:
            raise serializers.ValidationError(f"no engine run with id {value}")
        try:
            review_apply_check(run=run)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


APPLY_REVIEW = register(JobKind(
    name="apply_review", queue="cpu", params=ApplyReviewParams, permission="review.manage_reviews",
    label="Apply a review",
    description="Writes a child version of a cleaning run's input version: rejected tags removed, changed tags "
                "replaced (source manual), unreviewed flags kept or dropped."))
