"""Jobs travel through a real Celery worker process over the configured broker (Redis in CI)."""

from __future__ import annotations

import io
import os
import signal
import subprocess

import pytest
from django.core.management import CommandError, call_command

from apps.jobs import services
from apps.jobs.models import Job, JobState
from tests.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_terminal(job_id: int, timeout: float = 60) -> Job:
    return wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_terminal and j, timeout=timeout,
                    message=f"job {job_id} to end")


def test_selfcheck_job_runs_on_a_worker_and_its_result_is_read_from_the_database(celery_worker_process):
    job = services.job_launch(kind="selfcheck", params={"steps": 4})

    job = _wait_terminal(job.pk)

    assert job.state == JobState.SUCCEEDED
    assert job.result["steps"] == 4
    assert job.progress_done == job.progress_total == 4
    assert job.attempts == 1
    assert job.worker_host


def test_failing_job_ends_failed_with_its_error(celery_worker_process):
    job = services.job_launch(kind="selfcheck", params={"steps": 1, "fail": True})

    job = _wait_terminal(job.pk)

    assert job.state == JobState.FAILED
    assert "self-check asked to fail" in job.error


def test_running_job_stops_at_next_step_when_cancelled(celery_worker_process):
    job = services.job_launch(kind="selfcheck", params={"steps": 200, "step_seconds": 0.05})
    wait_for(lambda: Job.objects.get(pk=job.pk).progress_done >= 2, message="the job to make progress")

    services.job_cancel(job=Job.objects.get(pk=job.pk))
    job = _wait_terminal(job.pk)

    assert job.state == JobState.CANCELLED
    assert 2 <= job.progress_done < 200
    assert job.cursor["step"] == job.progress_done


def _step_lines(job: Job) -> list[str]:
    return list(job.log_lines.filter(message__startswith="self-check step").values_list("message", flat=True))


def _pool_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_job_whose_worker_is_killed_is_resumed_by_another_worker_without_repeating_a_step(start_worker):
    doomed = start_worker("doomed")
    job = services.job_launch(kind="selfcheck", params={"steps": 30, "step_seconds": 0.1})
    wait_for(lambda: Job.objects.get(pk=job.pk).progress_done >= 5, message="the first worker to make progress")
    rescuer = start_worker("rescuer")

    os.killpg(doomed.pid, signal.SIGKILL)  # the whole worker, pool child included, as the OOM killer would
    job = _wait_terminal(job.pk, timeout=90)

    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert job.result["resumed_from_step"] >= 5
    assert rescuer.poll() is None
    assert _step_lines(job) == [f"self-check step {i}/30" for i in range(1, 31)]


def test_job_whose_pool_process_is_killed_is_resumed_without_repeating_a_step(start_worker):
    worker = start_worker("solo")
    job = services.job_launch(kind="selfcheck", params={"steps": 30, "step_seconds": 0.1})
    wait_for(lambda: Job.objects.get(pk=job.pk).progress_done >= 5, message="the worker to make progress")

    for child in _pool_children(worker.pid):
        os.kill(child, signal.SIGKILL)
    job = _wait_terminal(job.pk, timeout=90)

    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert _step_lines(job) == [f"self-check step {i}/30" for i in range(1, 31)]


def test_run_job_command_follows_a_job_to_its_end(celery_worker_process):
    out = io.StringIO()

    call_command("run_job", "selfcheck", "--param", "steps=3", "--wait", "--poll", "0.2", stdout=out)

    assert "succeeded" in out.getvalue()
    assert Job.objects.get().progress_done == 3


def test_run_job_command_exits_non_zero_when_the_job_fails(celery_worker_process):
    with pytest.raises(CommandError, match="failed"):
        call_command("run_job", "selfcheck", "--param", "fail=true", "--wait", "--poll", "0.2",
                     stdout=io.StringIO())


def test_transient_errors_are_retried_with_backoff_until_the_job_succeeds(celery_worker_process):
    job = services.job_launch(kind="selfcheck", params={"steps": 2, "transient_failures": 2})

    job = _wait_terminal(job.pk)

    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 3
    assert job.log_lines.filter(message__startswith="transient error").count() == 2
