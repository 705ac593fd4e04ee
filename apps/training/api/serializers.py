from rest_framework import serializers

from ..job_kinds import EvaluateParams, ExtendCheckpointParams, TrainParams
from ..models import Checkpoint, EvalResult, ModelSize, ModelVariant, TrainingRun


class TrainingRunSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True)
    model_name = serializers.CharField(read_only=True)
    progress_done = serializers.IntegerField(source="job.progress_done", read_only=True)
    progress_total = serializers.IntegerField(source="job.progress_total", read_only=True, allow_null=True)

    class Meta:
        model = TrainingRun
        fields = ["id", "name", "mode", "dataset_version", "label_system_version", "eval_dataset_version", "variant",
                  "size", "model_name", "config", "init_checkpoint", "job", "state", "progress_done",
                  "progress_total", "run_dir", "created_at"]
        read_only_fields = fields


class TrainingLaunchSerializer(TrainParams):
    """The parameters of a ``train`` job."""


class CheckpointSerializer(serializers.ModelSerializer):
    model_name = serializers.CharField(read_only=True)

    class Meta:
        model = Checkpoint
        fields = ["id", "name", "path", "source", "variant", "size", "model_name", "label_system_version",
                  "dataset_version", "training_run", "parent", "config", "metrics", "created_at"]
        read_only_fields = fields


class CheckpointRegisterSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=1000)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    variant = serializers.ChoiceField(choices=ModelVariant.choices, default=ModelVariant.RAM)
    size = serializers.ChoiceField(choices=ModelSize.choices, default=ModelSize.SWIN_L_384)
    label_system_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class EvaluateRequestSerializer(EvaluateParams):
    checkpoint = serializers.IntegerField(read_only=True)


class ExtendRequestSerializer(ExtendCheckpointParams):
    checkpoint = serializers.IntegerField(read_only=True)


class EvalResultSerializer(serializers.ModelSerializer):
    benchmark = serializers.CharField(source="benchmark_name", read_only=True)

    class Meta:
        model = EvalResult
        fields = ["id", "checkpoint", "dataset_version", "annotations", "taglist", "image_root", "benchmark", "job",
                  "threshold", "num_images", "mAP", "CP", "CR", "CF1", "OP", "OR", "OF1", "per_tag_ap",
                  "created_at"]
        read_only_fields = fields


class CompareRowSerializer(serializers.Serializer):
    tag = serializers.CharField()
    ap_a = serializers.FloatField(allow_null=True)
    ap_b = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True)
