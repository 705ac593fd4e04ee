"""``load_demo_data``: a published demo label system and two sealed synthetic datasets, loaded once."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.datasets.models import Dataset
from apps.training.demo import demo_data_load

pytestmark = pytest.mark.django_db


def test_demo_data_has_a_published_label_system_and_sealed_versions_with_tags(demo):
    assert demo.label_system_version.is_published
    assert demo.train.sealed and demo.heldout.sealed
    assert demo.train.counts["images"] == 16
    assert demo.train.counts["assignments"] > 16
    assert demo.train.label_system_version_id == demo.label_system_version.pk


def test_loading_demo_data_twice_creates_nothing_new(demo):
    again = demo_data_load(num_train=16, num_heldout=8, image_size=64)

    assert again.train.pk == demo.train.pk
    assert again.label_system_version.pk == demo.label_system_version.pk
    assert Dataset.objects.count() == 2


def test_load_demo_data_command_reports_the_versions(training_dirs, capsys):
    call_command("load_demo_data", "--train-images", "4", "--heldout-images", "2")

    out = capsys.readouterr().out
    assert "training dataset version" in out
    assert (training_dirs / "images" / "demo-shapes-train" / "images").is_dir()

