"""Training jobs through a real Celery worker process: success, a bad parameter, cancel and resume."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from apps.jobs import services as job_services
from apps.jobs.models import Job, JobState
from apps.training.models import Checkpoint, TrainingRun
from apps.training.services import training_run_launch
from tests.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_terminal(job_id: int, timeout: float = 240) -> Job:
    return wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_terminal and j, timeout=timeout,
                    message=f"job {job_id} to end")


def _steps(run: TrainingRun, kind: str) -> list[int]:
    lines = (Path(run.run_dir) / "metrics.jsonl").read_text().splitlines()
    return [r["step"] for r in map(json.loads, lines) if r["kind"] == kind]


def _train_steps(run: TrainingRun) -> list[int]:
    return _steps(run, "train")


def _eval_steps(run: TrainingRun) -> list[int]:
    return _steps(run, "eval")


def test_training_job_runs_to_full_progress_and_registers_its_checkpoint(celery_worker_process, train_params):
    run = training_run_launch(params=train_params)

    job = _wait_terminal(run.job_id)

    assert job.state == JobState.SUCCEEDED, job.error
    assert job.queue == "gpu" and job.attempts == 1
    assert job.progress_done == job.progress_total == 4 and job.progress_unit == "steps"
    checkpoint = Checkpoint.objects.get(pk=job.result["checkpoint"])
    assert checkpoint.training_run_id == run.pk and checkpoint.source == "trained"
    assert checkpoint.label_system_version_id == train_params["label_system_version"]
    assert Path(checkpoint.path).is_file() and Path(checkpoint.path).parent == Path(run.run_dir)
    assert _train_steps(run) == [1, 2, 3, 4]
    assert _eval_steps(run) == [2, 4]  # the mAP curve: evaluated on the held-out version every 2 steps


def test_bad_training_parameter_fails_at_once_with_a_clear_message_and_no_retry(celery_worker_process,
                                                                               train_params):
    run = training_run_launch(params={**train_params, "config": {"batch_size": 0}})

    job = _wait_terminal(run.job_id, timeout=120)

    assert job.state == JobState.FAILED
    assert job.error == "bad parameter: training config: batch_size and grad_accum_steps must be positive"
    assert job.attempts == 1
    assert not Checkpoint.objects.exists()


def test_cancel_stops_training_at_the_next_step_and_retry_resumes_from_where_it_stopped(
        celery_worker_process, train_params):
    params = {**train_params, "config": {"max_steps": 400, "batch_size": 2, "checkpoint_every": 50,
                                         "eval_every": 0}}
    run = training_run_launch(params=params)
    wait_for(lambda: Job.objects.get(pk=run.job_id).progress_done >= 2, timeout=240,
             message="training to pass step 2")

    job_services.job_cancel(job=Job.objects.get(pk=run.job_id))
    job = _wait_terminal(run.job_id)

    assert job.state == JobState.CANCELLED
    stopped_at = len(_train_steps(run))
    assert 2 <= stopped_at < 400
    assert _train_steps(run) == list(range(1, stopped_at + 1))
    assert (Path(run.run_dir) / "checkpoints" / f"step_{stopped_at:09d}.pt").is_file()  # state saved on stop
    assert not Checkpoint.objects.exists()

    job_services.job_retry(job=job)
    wait_for(lambda: (j := Job.objects.get(pk=run.job_id)).attempts == 2 and j.progress_done > stopped_at + 1,
             timeout=240, message="the retried job to train on")
    job_services.job_cancel(job=Job.objects.get(pk=run.job_id))
    job = _wait_terminal(run.job_id)

    steps = _train_steps(run)
    assert len(steps) > stopped_at + 1
    assert steps == list(range(1, len(steps) + 1))  # continued from the saved step: none repeated or lost


def test_training_whose_worker_is_killed_resumes_from_its_last_checkpoint_on_another_worker(start_worker,
                                                                                        train_params):
    params = {**train_params, "config": {"max_steps": 400, "batch_size": 2, "checkpoint_every": 2,
                                         "eval_every": 0}}
    run = training_run_launch(params=params)
    doomed = start_worker("doomed")
    wait_for(lambda: Job.objects.get(pk=run.job_id).progress_done >= 3, timeout=240,
             message="the first worker to pass step 3")
    rescuer = start_worker("rescuer")

    os.killpg(doomed.pid, signal.SIGKILL)  # the whole worker, as the OOM killer would
    killed_at = len(_train_steps(run))
    wait_for(lambda: (j := Job.objects.get(pk=run.job_id)).attempts == 2 and j.progress_done > killed_at + 1,
             timeout=240, message="the second worker to resume and train on")
    job_services.job_cancel(job=Job.objects.get(pk=run.job_id))
    job = _wait_terminal(run.job_id)

    assert rescuer.poll() is None
    assert job.state == JobState.CANCELLED and job.attempts == 2
    assert "resumed after a lost worker" in " ".join(job.log_lines.values_list("message", flat=True))
    steps = _train_steps(run)
    assert steps == list(range(1, len(steps) + 1))  # resumed from a checkpoint: no step repeated or lost
    assert len(steps) > killed_at
