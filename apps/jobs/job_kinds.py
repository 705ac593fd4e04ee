"""Job kinds owned by the jobs app itself."""

from rest_framework import serializers

from .kinds import JobKind, register


class SelfCheckParams(serializers.Serializer):
    steps = serializers.IntegerField(min_value=1, max_value=10_000, default=3)
    step_seconds = serializers.FloatField(min_value=0, max_value=60, default=0.0)
    fail = serializers.BooleanField(default=False, help_text="Raise an error at the end (for testing alerts).")
    transient_failures = serializers.IntegerField(
        min_value=0, max_value=5, default=0,
        help_text="Raise a connection error in the first N attempts (to check the retry path of a deployment).")


SELFCHECK = register(
    JobKind(
        name="selfcheck",
        queue="cpu",
        params=SelfCheckParams,
        label="Worker self-check",
        description="Walks a few steps on a worker and reports its host, Python and whether torch/CUDA load.",
    )
)
