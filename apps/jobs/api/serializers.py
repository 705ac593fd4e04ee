from rest_framework import serializers

from ..models import Job, JobLogLine


class JobSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, default=None)
    progress_fraction = serializers.FloatField(read_only=True, allow_null=True)
    rate = serializers.FloatField(read_only=True, allow_null=True)
    eta_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id", "kind", "params", "state", "queue", "user", "cancel_requested", "progress_done",
            "progress_total", "progress_unit", "progress_fraction", "rate", "eta_seconds", "attempts",
            "worker_host", "result", "error", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields


class JobLaunchSerializer(serializers.Serializer):
    kind = serializers.CharField()
    params = serializers.DictField(required=False, default=dict)


class JobLogLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobLogLine
        fields = ["id", "created_at", "level", "message"]
