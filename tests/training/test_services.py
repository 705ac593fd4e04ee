"""Training services: runs created with their job, idempotent registration and recording for resumed jobs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.jobs.services import job_launch
from apps.training.models import Checkpoint, EvalResult, TrainingRun
from apps.training.services import checkpoint_register, eval_result_record, training_run_for_job, training_run_launch

pytestmark = pytest.mark.django_db


def test_launch_creates_the_run_with_its_queued_gpu_job_and_run_directory(train_params, training_dirs):
    run = training_run_launch(params=train_params)

    assert run.state == "queued" and run.job.queue == "gpu" and run.job.kind == "train"
    assert run.run_dir == str(training_dirs / "checkpoints" / "runs" / f"run-{run.pk}")
    assert run.name == f"ram_tiny on {run.dataset_version} #{run.pk}"


def test_a_train_job_launched_from_the_generic_jobs_form_gets_its_run_on_first_use(train_params):
    job = job_launch(kind="train", params=train_params)

    run = training_run_for_job(job=job)

    assert training_run_for_job(job=job) == run
    assert run.eval_dataset_version_id == train_params["eval_dataset_version"]
    assert TrainingRun.objects.count() == 1


def test_registering_the_same_file_twice_returns_the_first_row(tmp_path):
    (tmp_path / "model.pth").write_bytes(b"w")

    first = checkpoint_register(path=tmp_path / "model.pth", variant="ram", size="tiny")
    again = checkpoint_register(path=str(tmp_path / "model.pth"), variant="ram", size="tiny", name="other")

    assert again == first and Checkpoint.objects.count() == 1


def test_registering_an_unknown_variant_is_refused(tmp_path):
    (tmp_path / "model.pth").write_bytes(b"w")

    with pytest.raises(ValidationError, match="unknown variant"):
        checkpoint_register(path=tmp_path / "model.pth", variant="clip")


def test_an_evaluation_recorded_twice_by_the_same_job_is_one_row(tmp_path):
    (tmp_path / "model.pth").write_bytes(b"w")
    checkpoint = checkpoint_register(path=tmp_path / "model.pth")
    job = job_launch(kind="evaluate", params={"checkpoint": checkpoint.pk, "annotations": __file__})
    report = {"mAP": 0.5, "CP": 0.1, "num_images": 3, "per_tag_ap": {"dog": 0.5}}

    eval_result_record(job=job, checkpoint=checkpoint, report=report, threshold=0.5)
    eval_result_record(job=job, checkpoint=checkpoint, report={**report, "mAP": 0.6}, threshold=0.5)

    assert EvalResult.objects.get().mAP == 0.6


def test_starting_from_a_checkpoint_of_another_label_system_version_is_refused_with_the_fix(train_params,
                                                                                          tmp_path):
    from apps.labels.services import LabelFiles, label_system_import

    other = label_system_import(name="other", label_files=LabelFiles(tags=b"cat\ndog"), publish=True)
    (tmp_path / "model.pth").write_bytes(b"w")
    start = checkpoint_register(path=tmp_path / "model.pth", variant="ram", size="tiny", label_system_version=other)

    with pytest.raises(ValidationError, match="extend it to that version first"):
        training_run_launch(params={**train_params, "init_checkpoint": start.pk})
