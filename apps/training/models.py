"""Training runs, the checkpoint registry and evaluation results of the RAM tagger.

A run's state is its job's state (read through ``job``), so the two can never disagree. Files (run
directories, checkpoints) live under ``settings.LABELHUB_CHECKPOINT_DIR``; rows only hold their paths.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TrainingMode(models.TextChoices):
    PRETRAIN = "pretrain", "Pretraining"
    FINETUNE = "finetune", "Fine-tuning"


class ModelVariant(models.TextChoices):
    RAM = "ram", "RAM"
    RAM_PLUS = "ram_plus", "RAM++"
    TAG2TEXT = "tag2text", "Tag2Text"


class ModelSize(models.TextChoices):
    TINY = "tiny", "tiny (64 px, CPU demo)"
    SWIN_B_224 = "swin_b_224", "Swin-B 224"
    SWIN_B_384 = "swin_b_384", "Swin-B 384"
    SWIN_L_224 = "swin_l_224", "Swin-L 224"
    SWIN_L_384 = "swin_l_384", "Swin-L 384"


class TrainingRun(models.Model):
    name = models.CharField(max_length=200, blank=True)
    mode = models.CharField(max_length=16, choices=TrainingMode.choices, default=TrainingMode.FINETUNE)
    dataset_version = models.ForeignKey("datasets.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    label_system_version = models.ForeignKey("labels.LabelSystemVersion", on_delete=models.PROTECT,
                                             related_name="+")
    variant = models.CharField(max_length=16, choices=ModelVariant.choices, default=ModelVariant.RAM)
    size = models.CharField(max_length=16, choices=ModelSize.choices, default=ModelSize.TINY)
    config = models.JSONField(default=dict, blank=True,
                              help_text="The user's overrides of the RAM config defaults (see run_dir/config.json "
                                        "for the resolved config).")
    init_checkpoint = models.ForeignKey("Checkpoint", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="runs_started")
    eval_dataset_version = models.ForeignKey("datasets.DatasetVersion", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+",
                                             help_text="Evaluated during training (default: the training data).")
    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="training_run")
    run_dir = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"run #{self.pk}"

    @property
    def state(self) -> str:
        return self.job.state

    @property
    def model_name(self) -> str:
        """The ``ram_model.build_model`` variant name (``ram_tiny``, ``ram_plus_swin_l_384`` …)."""
        return model_name(self.variant, self.size)


def model_name(variant: str, size: str) -> str:
    return f"{variant}_tiny" if size == ModelSize.TINY else f"{variant}_{size}"


class CheckpointSource(models.TextChoices):
    TRAINED = "trained", "trained here"
    REGISTERED = "registered", "registered file"
    EXTENDED = "extended", "extended with new tags"


class Checkpoint(models.Model):
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=1000, unique=True)
    source = models.CharField(max_length=16, choices=CheckpointSource.choices)
    variant = models.CharField(max_length=16, choices=ModelVariant.choices, default=ModelVariant.RAM)
    size = models.CharField(max_length=16, choices=ModelSize.choices, default=ModelSize.SWIN_L_384)
    label_system_version = models.ForeignKey("labels.LabelSystemVersion", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+",
                                             help_text="The head's classes, in order (none: the variant's own list).")
    dataset_version = models.ForeignKey("datasets.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    training_run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="checkpoints")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
                               help_text="The checkpoint this one was extended from.")
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name or f"checkpoint #{self.pk}"

    @property
    def model_name(self) -> str:
        return model_name(self.variant, self.size)


class EvalResult(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="eval_results")
    dataset_version = models.ForeignKey("datasets.DatasetVersion", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    annotations = models.CharField(max_length=1000, blank=True, help_text="Benchmark annotation file.")
    taglist = models.CharField(max_length=1000, blank=True)
    image_root = models.CharField(max_length=1000, blank=True)
    job = models.OneToOneField("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    threshold = models.FloatField(default=0.5)
    num_images = models.PositiveIntegerField(default=0)
    mAP = models.FloatField(null=True, blank=True)
    CP = models.FloatField(null=True, blank=True)
    CR = models.FloatField(null=True, blank=True)
    CF1 = models.FloatField(null=True, blank=True)
    OP = models.FloatField(null=True, blank=True)
    OR = models.FloatField(null=True, blank=True)
    OF1 = models.FloatField(null=True, blank=True)
    per_tag_ap = models.JSONField(default=dict, blank=True, help_text="tag name → AP (null: no positive image).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"eval #{self.pk} of {self.checkpoint} on {self.benchmark_name}"

    @property
    def benchmark_name(self) -> str:
        if self.dataset_version_id:
            return str(self.dataset_version)
        return self.annotations.rsplit("/", 1)[-1] or "benchmark"
