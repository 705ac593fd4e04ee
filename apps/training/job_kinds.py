"""Job kinds of training: ``train`` and ``evaluate`` and ``extend_checkpoint`` (all on the gpu queue).

The parameter serializers validate at launch (ids exist, versions sealed/published, files present) and also
describe the launch forms of the jobs UI. What only the worker can check (the trainer's own config rules, the
checkpoint's contents) fails the job at once, without retry.
"""

from __future__ import annotations

import os
from typing import Any

from rest_framework import serializers

from apps.datasets.models import DatasetVersion
from apps.jobs.kinds import JobKind, register
from apps.labels.models import LabelSystemVersion

from .models import Checkpoint, ModelSize, ModelVariant, TrainingMode


def _sealed_version(value: int | None) -> int | None:
    if value is None:
        return None
    version = DatasetVersion.objects.filter(pk=value).first()
    if version is None:
        raise serializers.ValidationError(f"no dataset version with id {value}")
    if not version.sealed:
        raise serializers.ValidationError(f"dataset version {version} is still open; seal it before using it")
    return value


def _published_label_version(value: int) -> int:
    version = LabelSystemVersion.objects.filter(pk=value).first()
    if version is None:
        raise serializers.ValidationError(f"no label system version with id {value}")
    if not version.is_published:
        raise serializers.ValidationError(f"label system version {version} is a draft; publish it first")
    return value


def checkpoint_with_file(value: int | None) -> int | None:
    """A checkpoint id that exists and whose file is on disk (None passes); the launch check of every kind
    that loads a checkpoint."""
    if value is None:
        return None
    checkpoint = Checkpoint.objects.filter(pk=value).first()
    if checkpoint is None:
        raise serializers.ValidationError(f"no checkpoint with id {value}")
    if not os.path.isfile(checkpoint.path):
        raise serializers.ValidationError(f"the file of checkpoint {checkpoint} is missing: {checkpoint.path}")
    return value


class TrainParams(serializers.Serializer):
    dataset_version = serializers.IntegerField(help_text="id of the sealed dataset version to train on")
    label_system_version = serializers.IntegerField(help_text="id of the published label-system version "
                                                              "whose tags are the head's classes")
    mode = serializers.ChoiceField(choices=TrainingMode.choices, default=TrainingMode.FINETUNE)
    variant = serializers.ChoiceField(choices=ModelVariant.choices, default=ModelVariant.RAM)
    size = serializers.ChoiceField(choices=ModelSize.choices, default=ModelSize.TINY)
    config = serializers.JSONField(default=dict, help_text="Overrides of the RAM config defaults, e.g. "
                                                           '{"max_steps": 30, "batch_size": 8}')
    init_checkpoint = serializers.IntegerField(required=False, allow_null=True, default=None,
                                               help_text="id of a registered checkpoint to start from")
    eval_dataset_version = serializers.IntegerField(required=False, allow_null=True, default=None,
                                                    help_text="id of a sealed version evaluated while training")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_dataset_version(self, value: int) -> int:
        return _sealed_version(value)

    def validate_eval_dataset_version(self, value: int | None) -> int | None:
        return _sealed_version(value)

    def validate_label_system_version(self, value: int) -> int:
        return _published_label_version(value)

    def validate_init_checkpoint(self, value: int | None) -> int | None:
        return checkpoint_with_file(value)

    def validate_config(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("config overrides must be a JSON object")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = Checkpoint.objects.filter(pk=attrs.get("init_checkpoint")).first()
        lsv = attrs.get("label_system_version")
        if start is not None and start.label_system_version_id not in (None, lsv):
            raise serializers.ValidationError({"init_checkpoint": (
                f"checkpoint {start} predicts the tags of {start.label_system_version}, not of the chosen "
                "label-system version; extend it to that version first (Add tags to a checkpoint)")})
        if start is not None and start.variant != attrs.get("variant"):
            raise serializers.ValidationError({"init_checkpoint": (
                f"checkpoint {start} is a {start.get_variant_display()} model, not {attrs.get('variant')}")})
        return attrs


class EvaluateParams(serializers.Serializer):
    checkpoint = serializers.IntegerField(help_text="id of the checkpoint to evaluate")
    dataset_version = serializers.IntegerField(required=False, allow_null=True, default=None,
                                               help_text="id of a sealed dataset version (its tags are the truth)")
    annotations = serializers.CharField(required=False, allow_blank=True, default="",
                                        help_text="or a benchmark annotation file (OpenImages txt or JSONL)")
    taglist = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="the benchmark's class list (names or class indices)")
    image_root = serializers.CharField(required=False, allow_blank=True, default="")
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.5)
    batch_size = serializers.IntegerField(min_value=1, max_value=1024, default=16)

    def validate_checkpoint(self, value: int) -> int:
        return checkpoint_with_file(value)

    def validate_dataset_version(self, value: int | None) -> int | None:
        return _sealed_version(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("dataset_version")) == bool(attrs.get("annotations")):
            raise serializers.ValidationError("give either a dataset version or a benchmark annotation file")
        for key in ("annotations", "taglist"):
            if attrs.get(key) and not os.path.isfile(attrs[key]):
                raise serializers.ValidationError({key: f"no such file: {attrs[key]}"})
        return attrs


class ExtendCheckpointParams(serializers.Serializer):
    checkpoint = serializers.IntegerField(help_text="id of a RAM / RAM++ checkpoint to extend")
    label_system_version = serializers.IntegerField(help_text="id of the newer published label-system version")
    clip_checkpoint = serializers.CharField(required=False, allow_blank=True, default="",
                                            help_text="open_clip ViT-B/16 checkpoint file for the text encoder")
    clip_tiny = serializers.BooleanField(default=False, help_text="use the tiny random CLIP (tests and demos)")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_checkpoint(self, value: int) -> int:
        value = checkpoint_with_file(value)
        checkpoint = Checkpoint.objects.get(pk=value)
        if checkpoint.variant == ModelVariant.TAG2TEXT:
            raise serializers.ValidationError("Tag2Text has no label-embedding head; extend a RAM or RAM++ one")
        return value

    def validate_label_system_version(self, value: int) -> int:
        return _published_label_version(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        clip = attrs.get("clip_checkpoint")
        if not clip and not attrs.get("clip_tiny"):
            raise serializers.ValidationError({"clip_checkpoint": "a CLIP checkpoint file is needed to embed tags"})
        if clip and not os.path.isfile(clip):
            raise serializers.ValidationError({"clip_checkpoint": f"no such file: {clip}"})
        return attrs


TRAIN = register(JobKind(
    name="train", queue="gpu", params=TrainParams, permission="training.add_trainingrun", label="Train RAM",
    description="Pretrain or fine-tune RAM / RAM++ / Tag2Text on a dataset version; resumes from its last "
                "checkpoint after a crash and registers the final checkpoint."))
EVALUATE = register(JobKind(
    name="evaluate", queue="gpu", params=EvaluateParams, permission="training.add_evalresult",
    label="Evaluate a checkpoint",
    description="mAP, CP/CR/CF1, OP/OR/OF1 and per-tag AP of a checkpoint on a dataset version or benchmark."))
EXTEND_CHECKPOINT = register(JobKind(
    name="extend_checkpoint", queue="gpu", params=ExtendCheckpointParams, permission="training.add_checkpoint",
    label="Add tags to a checkpoint (open-set)",
    description="Adds the tags of a newer label-system version to a checkpoint's head through CLIP label "
                "embeddings, producing a new registered checkpoint."))
