"""A dataset version becomes the RAM training JSON the trainer reads, with tag IDs of the run's label system."""

from __future__ import annotations

import json

import pytest

from apps.labels.services import LabelFiles, label_system_import
from apps.training.exporting import training_files_write
from ram_model.data.records import load_ram_json

pytestmark = pytest.mark.django_db


def test_export_writes_records_the_trainer_loads_with_the_label_systems_tag_ids(demo, tmp_path):
    files = training_files_write(version=demo.train, label_system_version=demo.label_system_version,
                                 out_dir=tmp_path / "data")

    names = files.tag_list.read_text().split("\n")
    records = load_ram_json([files.train_json], files.image_root, len(names))
    annotations = [json.loads(line) for line in files.annotations.read_text().splitlines()]
    assert files.counts["records"] == len(records) == 16
    for record, annotation in zip(records, annotations):
        assert sorted(names[i] for i in record.union_label_id) == sorted(annotation["tags"])
        assert record.captions


def test_export_maps_tags_by_name_into_a_newer_label_system_and_counts_dropped_ones(demo, tmp_path):
    newer = label_system_import(name="other", label_files=LabelFiles(tags=b"zebra\nsquare\nred"), publish=True)

    files = training_files_write(version=demo.train, label_system_version=newer, out_dir=tmp_path / "data")

    records = json.loads(files.train_json.read_text())
    assert {i for r in records for i in r["union_label_id"]} <= {1, 2}
    assert files.counts["dropped_assignments"] > 0
