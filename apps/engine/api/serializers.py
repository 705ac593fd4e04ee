from rest_framework import serializers

from ..job_kinds import ClusterParams, FeaturesParams, GenerateParams
from ..models import EngineRun, EngineRunKind, Flag


class EngineRunSerializer(serializers.ModelSerializer):
    state = serializers.CharField(source="job.state", read_only=True, default=None)
    progress_done = serializers.IntegerField(source="job.progress_done", read_only=True, default=None)
    progress_total = serializers.IntegerField(source="job.progress_total", read_only=True, default=None)

    class Meta:
        model = EngineRun
        fields = ["id", "kind", "name", "dataset_version", "checkpoint", "output_version", "job", "state",
                  "progress_done", "progress_total", "params", "categories", "report", "created_by", "created_at"]
        read_only_fields = fields


class GenerationLaunchSerializer(GenerateParams):
    """``kind: generation`` and the parameters of an ``engine_generate`` job."""

    kind = serializers.ChoiceField(choices=[EngineRunKind.GENERATION])


class CleaningLaunchSerializer(FeaturesParams):
    """``kind: cleaning`` and the parameters of an ``engine_features`` job."""

    kind = serializers.ChoiceField(choices=[EngineRunKind.CLEANING])


class ClusterRequestSerializer(ClusterParams):
    run = serializers.IntegerField(read_only=True)


class FlagSerializer(serializers.ModelSerializer):
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    tag = serializers.CharField(read_only=True, default="", help_text="the tag group's primary tag")
    image_uri = serializers.CharField(source="image.uri", read_only=True)
    source = serializers.CharField(source="assignment.source", read_only=True)

    class Meta:
        model = Flag
        fields = ["id", "run", "assignment", "image", "image_uri", "tag_group", "tag", "source", "reasons",
                  "by_cluster", "by_rejection", "by_confident", "region_source", "box", "cluster", "distance",
                  "percentile", "score", "threshold", "label_quality", "status", "resolved_tag_group"]
        read_only_fields = fields


class FlagCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_reason = serializers.DictField(child=serializers.IntegerField())
    by_status = serializers.DictField(child=serializers.IntegerField())
    per_category = serializers.ListField(child=serializers.DictField())
