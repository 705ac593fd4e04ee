"""Job kinds of the data engine: ``engine_generate`` (gpu), ``engine_features`` (gpu) and ``engine_cluster`` (cpu).

The parameter serializers validate at launch what the web process can check without loading a model: the
version is sealed, has a label-system version and (for generation, which writes a child) is the tip of its
dataset; the checkpoint exists and its file is there; categories and per-tag thresholds name tag groups of
the version's label system; the optional files exist. They also describe the launch forms of the jobs UI.
Errors name the field. The worker bodies are in ``workers/engine.py``.
"""

from __future__ import annotations

import os
from typing import Any

from rest_framework import serializers

from apps.datasets.models import DatasetVersion
from apps.jobs.kinds import JobKind, register
from apps.labels.models import Tag, TagGroup
from apps.training.job_kinds import checkpoint_with_file

from .models import EngineRun, EngineRunKind

PERMISSION = "engine.add_enginerun"
DEFAULT_THRESHOLD = 0.65  # RAM's class threshold when neither the label system nor the checkpoint gives one


def _version(value: int) -> DatasetVersion:
    version = DatasetVersion.objects.select_related("dataset").filter(pk=value).first()
    if version is None:
        raise serializers.ValidationError(f"no dataset version with id {value}")
    if not version.sealed:
        raise serializers.ValidationError(f"dataset version {version} is still open; seal it before using it")
    if version.label_system_version_id is None:
        raise serializers.ValidationError(f"dataset version {version} has no label-system version to name its tags")
    return version


def _file(value: str) -> str:
    if value and not os.path.isfile(value):
        raise serializers.ValidationError(f"no such file: {value}")
    return value


def _categories(value: list[int], lsv_id: int) -> list[int]:
    wanted = sorted(set(value))
    known = set(TagGroup.objects.filter(version_id=lsv_id, pk__in=wanted).values_list("pk", flat=True))
    unknown = [gid for gid in wanted if gid not in known]
    if unknown:
        raise serializers.ValidationError(
            f"not tag groups of the version's label system: {', '.join(map(str, unknown))}")
    return wanted


def _thresholds(value: dict[str, Any], lsv_id: int) -> dict[str, float]:
    """``{tag group id or tag text: threshold}`` → ``{"<group id>": threshold}``."""
    if not isinstance(value, dict):
        raise serializers.ValidationError("thresholds must be a JSON object {tag group id or tag text: value}")
    groups = set(TagGroup.objects.filter(version_id=lsv_id).values_list("pk", flat=True))
    by_text = dict(Tag.objects.filter(version_id=lsv_id).values_list("text", "group_id"))
    out: dict[str, float] = {}
    for key, raw in value.items():
        text = str(key).strip()
        gid = int(text) if text.isdigit() and int(text) in groups else by_text.get(text)
        if gid is None:
            raise serializers.ValidationError(f"{key!r} is neither a tag group id nor a tag of the label system")
        try:
            threshold = float(raw)
        except (TypeError, ValueError):
            raise serializers.ValidationError(f"threshold of {key!r} is not a number: {raw!r}") from None
        if not 0.0 < threshold <= 1.0:
            raise serializers.ValidationError(f"threshold of {key!r} must be in (0, 1], got {threshold}")
        out[str(gid)] = threshold
    return out


class EngineParams(serializers.Serializer):
    """What generation and cleaning share: the version read, the baseline and its thresholds."""

    dataset_version = serializers.IntegerField(help_text="id of the sealed dataset version to read")
    checkpoint = serializers.IntegerField(help_text="id of the registered baseline checkpoint")
    thresholds = serializers.JSONField(
        default=dict, help_text='Per-tag thresholds {tag group id or tag text: value}, e.g. {"dog": 0.7}; '
                                "other tags use the label system's, else the checkpoint's, else the default")
    default_threshold = serializers.FloatField(min_value=0.0, max_value=1.0, default=DEFAULT_THRESHOLD,
                                               help_text="threshold of tags that have no other")
    batch_size = serializers.IntegerField(min_value=1, max_value=4096, default=32, help_text="images per forward")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate_dataset_version(self, value: int) -> int:
        return _version(value).pk

    def validate_checkpoint(self, value: int) -> int:
        return checkpoint_with_file(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        version = DatasetVersion.objects.get(pk=attrs["dataset_version"])
        lsv_id = version.label_system_version_id
        errors: dict[str, Any] = {}
        for field, check in (("thresholds", _thresholds), ("categories", _categories)):
            if field in attrs:
                try:
                    attrs[field] = check(attrs[field], lsv_id)
                except serializers.ValidationError as exc:
                    errors[field] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class GenerateParams(EngineParams):
    captions_file = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text='JSONL of {"image": uri, "caption": text}: generated captions to add and parse')
    model_captions = serializers.BooleanField(
        default=False, help_text="caption every image with the checkpoint's caption branch (when it has one)")
    shard_size = serializers.IntegerField(min_value=1, max_value=100_000, default=256,
                                          help_text="images per committed shard")

    def validate_captions_file(self, value: str) -> str:
        return _file(value)

    def validate_dataset_version(self, value: int) -> int:
        version = _version(value)
        later = DatasetVersion.objects.filter(dataset_id=version.dataset_id, seq__gt=version.seq)
        child = later.order_by("seq").first()
        if child is not None:
            raise serializers.ValidationError(
                f"version {version} already has a child ({child}); generation writes a child version, so run it "
                "on the tip of the dataset")
        return version.pk


class FeaturesParams(EngineParams):
    categories = serializers.ListField(child=serializers.IntegerField(), default=list, allow_empty=True,
                                       help_text="tag group ids to clean (empty: every category)")
    detections_file = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="COCO results JSON [{image_id | file_name, category_id | phrase, bbox, score}]; image_id is an "
                  "image id or uri, category_id a tag ID")
    grounding_dino_dir = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="local Grounding DINO checkpoint directory (*.pth + *.py); skipped when absent or not installed")
    confident = serializers.BooleanField(default=False, help_text="also flag with confident learning (cleanlab)")
    cluster = serializers.BooleanField(default=True, help_text="launch the clustering job when features are done")
    fraction = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.10,
                                      help_text="share of each category's regions the clustering flags")
    fast = serializers.BooleanField(default=False, help_text="the fast clustering preset (ClusterConfig.fast)")
    shard_size = serializers.IntegerField(min_value=1, max_value=100_000, default=1024,
                                          help_text="assignments per committed shard")

    def validate_detections_file(self, value: str) -> str:
        return _file(value)


class ClusterParams(serializers.Serializer):
    run = serializers.IntegerField(help_text="id of the cleaning run whose region features to cluster")
    fraction = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.10,
                                      help_text="share of each category's regions flagged as outliers")
    fast = serializers.BooleanField(default=False, help_text="the fast clustering preset (ClusterConfig.fast)")
    k = serializers.IntegerField(min_value=1, max_value=256, default=8, help_text="clusters per category (at most)")
    min_per_cluster = serializers.IntegerField(min_value=1, default=50, help_text="regions per cluster (at least)")
    min_regions = serializers.IntegerField(min_value=1, default=10,
                                           help_text="smaller categories are not clustered")
    seed = serializers.IntegerField(default=0)

    def validate_run(self, value: int) -> int:
        run = EngineRun.objects.filter(pk=value).first()
        if run is None:
            raise serializers.ValidationError(f"no engine run with id {value}")
        if run.kind != EngineRunKind.CLEANING:
            raise serializers.ValidationError(f"run {run} is a {run.kind} run; only cleaning runs are clustered")
        return value


ENGINE_GENERATE = register(JobKind(
    name="engine_generate", queue="gpu", params=GenerateParams, permission=PERMISSION,
    label="Generate tags and captions",
    description="The baseline tags every image of a version; tags above threshold it lacks (and tags parsed from "
                "generated captions) go into a sealed child version, with a before/after report."))
ENGINE_FEATURES = register(JobKind(
    name="engine_features", queue="gpu", params=FeaturesParams, permission=PERMISSION,
    label="Clean tags: region features",
    description="Regions and region features of a version's assignments, baseline-rejection (and optionally "
                "confident-learning) flags; then launches the clustering."))
ENGINE_CLUSTER = register(JobKind(
    name="engine_cluster", queue="cpu", params=ClusterParams, permission=PERMISSION,
    label="Clean tags: cluster outliers",
    description="Per-category K-Means++ on a cleaning run's region features; the most distant fraction is flagged."))

RUN_KINDS = {ENGINE_GENERATE.name: EngineRunKind.GENERATION, ENGINE_FEATURES.name: EngineRunKind.CLEANING}
