"""Launching engine runs: parameters are validated at launch (errors name the field), runs get their job."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.datasets.services.versions import dataset_version_create
from apps.engine.models import EngineRun
from apps.engine.services import (
    engine_cleaning_launch,
    engine_cluster_launch,
    engine_generation_launch,
    engine_run_for_job,
)
from apps.jobs.models import Job
from apps.jobs.services import job_launch
from apps.training.services import checkpoint_register
from tests.datasets.factories import DatasetFactory
from tests.engine.factories import tagged_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def params(tmp_path) -> dict:
    tagged = tagged_version()
    path = tmp_path / "ckpt.pth"
    path.write_bytes(b"not read by the web process")
    checkpoint = checkpoint_register(path=path, variant="ram", size="tiny")
    return {"dataset_version": tagged.version.pk, "checkpoint": checkpoint.pk, "_tagged": tagged}


def _launch_error(launch, params: dict) -> dict:
    with pytest.raises(ValidationError) as info:
        launch(params={k: v for k, v in params.items() if not k.startswith("_")})
    return info.value.message_dict


def test_a_generation_launch_creates_the_run_and_queues_its_gpu_job(params):
    run = engine_generation_launch(params={"dataset_version": params["dataset_version"],
                                           "checkpoint": params["checkpoint"], "name": "more tags"})

    assert (run.kind, run.name, run.dataset_version_id, run.checkpoint_id) == (
        "generation", "more tags", params["dataset_version"], params["checkpoint"])
    assert (run.job.kind, run.job.queue, run.job.state) == ("engine_generate", "gpu", "queued")
    assert run.job.cursor == {"run": run.pk}
    assert run.params["shard_size"] == 256 and run.params["default_threshold"] == 0.65


def test_a_cleaning_launch_records_its_categories(params):
    groups = params["_tagged"].groups
    run = engine_cleaning_launch(params={"dataset_version": params["dataset_version"],
                                         "checkpoint": params["checkpoint"],
                                         "categories": [groups["grass"].pk, groups["dog"].pk]})

    assert run.kind == "cleaning" and run.job.kind == "engine_features"
    assert run.categories == sorted([groups["grass"].pk, groups["dog"].pk])
    assert run.params["fraction"] == 0.10 and run.params["cluster"] is True


def test_a_job_launched_from_the_generic_jobs_api_gets_its_run_when_it_starts(params):
    job = job_launch(kind="engine_features", params={"dataset_version": params["dataset_version"],
                                                      "checkpoint": params["checkpoint"]})

    run = engine_run_for_job(job=job)

    assert run.job == job and Job.objects.get(pk=job.pk).cursor == {"run": run.pk}
    assert engine_run_for_job(job=job) == run and EngineRun.objects.count() == 1


@pytest.mark.parametrize("field, value, message", [
    ("dataset_version", 999999, "no dataset version"),
    ("checkpoint", 999999, "no checkpoint"),
    ("default_threshold", 1.5, "less than or equal"),
    ("thresholds", {"unicorn": 0.5}, "neither a tag group id nor a tag"),
    ("thresholds", {"dog": 0}, "must be in (0, 1]"),
    ("captions_file", "/no/such/captions.jsonl", "no such file"),
    ("shard_size", 0, "greater than or equal"),
])
def test_bad_generation_parameters_fail_at_launch_naming_the_field(params, field, value, message):
    errors = _launch_error(engine_generation_launch, {**params, field: value})

    assert field in errors and message in " ".join(errors[field])
    assert not Job.objects.exists() and not EngineRun.objects.exists()


@pytest.mark.parametrize("field, value, message", [
    ("categories", [999999], "not tag groups of the version's label system"),
    ("detections_file", "/no/such/detections.json", "no such file"),
    ("fraction", -0.1, "greater than or equal"),
])
def test_bad_cleaning_parameters_fail_at_launch_naming_the_field(params, field, value, message):
    errors = _launch_error(engine_cleaning_launch, {**params, field: value})

    assert field in errors and message in " ".join(errors[field])


def test_a_missing_checkpoint_file_fails_at_launch(params, tmp_path):
    (tmp_path / "ckpt.pth").unlink()

    errors = _launch_error(engine_cleaning_launch, params)

    assert "is missing" in errors["checkpoint"][0]


def test_an_open_version_is_refused(params):
    tip = dataset_version_create(dataset=params["_tagged"].version.dataset)

    errors = _launch_error(engine_cleaning_launch, {**params, "dataset_version": tip.pk})

    assert "still open" in errors["dataset_version"][0]


def test_a_version_without_a_label_system_is_refused(params):
    from apps.datasets.services.versions import dataset_version_seal

    version = dataset_version_seal(version=dataset_version_create(dataset=DatasetFactory()))

    errors = _launch_error(engine_generation_launch, {**params, "dataset_version": version.pk})

    assert "no label-system version" in errors["dataset_version"][0]


def test_generation_needs_the_tip_of_its_dataset(params):
    from apps.datasets.services.versions import dataset_version_seal

    dataset_version_seal(version=dataset_version_create(dataset=params["_tagged"].version.dataset))

    errors = _launch_error(engine_generation_launch, params)

    assert "already has a child" in errors["dataset_version"][0]


def test_thresholds_are_stored_per_tag_group_id(params):
    groups = params["_tagged"].groups
    run = engine_generation_launch(params={"dataset_version": params["dataset_version"],
                                           "checkpoint": params["checkpoint"],
                                           "thresholds": {"dog": 0.7, str(groups["grass"].pk): 0.4}})

    assert run.params["thresholds"] == {str(groups["dog"].pk): 0.7, str(groups["grass"].pk): 0.4}


def test_only_cleaning_runs_are_clustered(params):
    run = engine_generation_launch(params={"dataset_version": params["dataset_version"],
                                           "checkpoint": params["checkpoint"]})

    with pytest.raises(ValidationError) as info:
        engine_cluster_launch(run=run)

    assert "only cleaning runs are clustered" in info.value.message_dict["run"][0]


def test_launching_needs_the_engine_permission(params, role_user):
    with pytest.raises(PermissionDenied, match=r"engine\.add_enginerun"):
        engine_cleaning_launch(params={"dataset_version": params["dataset_version"],
                                       "checkpoint": params["checkpoint"]}, user=role_user("trainer"))
