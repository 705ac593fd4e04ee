"""Job kinds of the datasets app: import a corpus, export a snapshot (and parse a version, when available)."""

from __future__ import annotations

from rest_framework import serializers

from apps.jobs.kinds import JobKind, register

from .formats.readers import IMPORT_FORMATS
from .formats.readers_text import TSV_LAYOUTS
from .formats.writers import EXPORT_FORMATS


class ImportParams(serializers.Serializer):
    dataset_name = serializers.CharField(max_length=200)
    format = serializers.ChoiceField(choices=IMPORT_FORMATS)
    paths = serializers.ListField(child=serializers.CharField(), min_length=1)
    image_root = serializers.CharField(required=False, allow_blank=True, default="")
    label_system_version_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    strict = serializers.BooleanField(default=False)
    rejects = serializers.CharField(required=False, allow_blank=True, default="")
    tsv_layout = serializers.ChoiceField(choices=TSV_LAYOUTS, default="auto")
    shard_size = serializers.IntegerField(min_value=1, max_value=1_000_000, default=5000)
    method = serializers.ChoiceField(choices=["auto", "copy", "orm"], default="auto")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    seal = serializers.BooleanField(default=True)


class ExportParams(serializers.Serializer):
    version_id = serializers.IntegerField()
    format = serializers.ChoiceField(choices=EXPORT_FORMATS)
    out = serializers.CharField(required=False, allow_blank=True, default="")
    shard_size = serializers.IntegerField(min_value=1, max_value=10_000_000, default=1000)


IMPORT_DATASET = register(JobKind(
    name="import_dataset", queue="cpu", params=ImportParams, permission="datasets.add_dataset",
    label="Import a dataset",
    description="Streams a corpus (COCO, VG, TSV, RAM JSON, JSONL, webdataset) into a new dataset version.",
))

EXPORT_SNAPSHOT = register(JobKind(
    name="export_snapshot", queue="cpu", params=ExportParams, permission="datasets.add_snapshot",
    label="Export a snapshot",
    description="Writes a sealed version as RAM JSON, COCO, JSONL, webdataset shards or Parquet, with a manifest.",
))


class ParseParams(serializers.Serializer):
    version_id = serializers.IntegerField()
    shard_size = serializers.IntegerField(min_value=1, max_value=1_000_000, default=2000)
    workers = serializers.IntegerField(min_value=1, max_value=64, default=1)
    seal = serializers.BooleanField(default=True)


PARSE_VERSION = register(JobKind(
    name="parse_version", queue="cpu", params=ParseParams, permission="datasets.add_datasetversion",
    label="Parse captions",
    description="Parses a sealed version's captions into tags: a child version with parsed assignments.",
))


class MeasureParams(serializers.Serializer):
    dataset_id = serializers.IntegerField()
    shard_size = serializers.IntegerField(min_value=1, max_value=100_000, default=500)


MEASURE_IMAGES = register(JobKind(
    name="measure_images", queue="cpu", params=MeasureParams, permission="datasets.change_image",
    label="Measure images",
    description="Reads width, height and sha256 of a dataset's images that have none yet.",
))
