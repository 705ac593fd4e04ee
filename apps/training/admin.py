from django.contrib import admin

from .models import Checkpoint, EvalResult, TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "mode", "variant", "size", "dataset_version", "job", "created_at"]
    list_filter = ["mode", "variant", "size"]
    search_fields = ["name"]
    raw_id_fields = ["dataset_version", "eval_dataset_version", "label_system_version", "init_checkpoint", "job"]
    readonly_fields = ["job", "run_dir", "created_by", "created_at"]


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "source", "variant", "size", "label_system_version", "created_at"]
    list_filter = ["source", "variant", "size"]
    search_fields = ["name", "path"]
    raw_id_fields = ["label_system_version", "dataset_version", "training_run", "parent"]


@admin.register(EvalResult)
class EvalResultAdmin(admin.ModelAdmin):
    list_display = ["id", "checkpoint", "dataset_version", "annotations", "mAP", "num_images", "created_at"]
    raw_id_fields = ["checkpoint", "dataset_version", "job"]
    readonly_fields = ["per_tag_ap"]
