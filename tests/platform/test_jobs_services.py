"""Launching, cancelling and retrying jobs (no worker needed: tasks are sent after commit)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.jobs import services
from apps.jobs.models import Job, JobState

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Capture the tasks the services send instead of reaching a broker."""
    calls = []
    monkeypatch.setattr(services.current_app, "send_task", lambda name, **kw: calls.append((name, kw)))
    return calls


def test_launch_sends_the_kind_task_to_its_queue_after_commit(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_launch(kind="selfcheck", params={"steps": 2})

    assert sent == [("cpu.selfcheck", {"args": [job.pk], "queue": "cpu"})]
    assert job.state == JobState.QUEUED
    assert job.params == {"steps": 2, "step_seconds": 0.0, "fail": False, "transient_failures": 0}


def test_launch_rejects_a_bad_parameter_and_writes_nothing(sent):
    with pytest.raises(ValidationError) as err:
        services.job_launch(kind="selfcheck", params={"steps": 0})

    assert "steps" in err.value.message_dict
    assert not Job.objects.exists()


def test_launch_rejects_an_unknown_kind_naming_the_known_ones(sent):
    with pytest.raises(ValidationError, match=r"unknown job kind 'nope'.*selfcheck"):
        services.job_launch(kind="nope")


def test_cancel_of_a_queued_job_ends_it_at_once(sent):
    job = services.job_launch(kind="selfcheck")

    job = services.job_cancel(job=job)

    assert job.state == JobState.CANCELLED
    assert job.finished_at is not None


def test_cancel_of_an_ended_job_is_refused(sent):
    job = services.job_launch(kind="selfcheck")
    services.job_cancel(job=job)

    with pytest.raises(ValidationError, match="already ended"):
        services.job_cancel(job=job)


def test_retry_requeues_a_failed_job_keeping_its_cursor(sent, django_capture_on_commit_callbacks):
    job = services.job_launch(kind="selfcheck", params={"steps": 5})
    Job.objects.filter(pk=job.pk).update(state=JobState.FAILED, cursor={"step": 3}, error="boom")

    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_retry(job=job)

    assert job.state == JobState.QUEUED
    assert job.cursor == {"step": 3}
    assert job.error == ""
    assert sent[-1][0] == "cpu.selfcheck"


def test_retry_of_a_running_job_is_refused(sent):
    job = services.job_launch(kind="selfcheck")
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING)

    with pytest.raises(ValidationError, match="only failed or cancelled"):
        services.job_retry(job=job)


def test_start_of_a_job_whose_worker_went_silent_counts_a_second_attempt(sent):
    job = services.job_launch(kind="selfcheck")
    services.job_start(job_id=job.pk, worker_host="a")
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    again = services.job_start(job_id=job.pk, worker_host="b")

    assert again.attempts == 2
    assert again.worker_host == "b"
    assert "resumed after a lost worker" in job.log_lines.last().message


def test_start_of_a_job_running_on_a_live_worker_is_a_duplicate_delivery(sent):
    job = services.job_launch(kind="selfcheck")
    services.job_start(job_id=job.pk, worker_host="a")

    assert services.job_start(job_id=job.pk, worker_host="b") is None
    assert Job.objects.get(pk=job.pk).worker_host == "a"


def test_requeue_stale_sends_only_jobs_whose_heartbeat_went_silent(sent, django_capture_on_commit_callbacks):
    silent = services.job_launch(kind="selfcheck")
    alive = services.job_launch(kind="selfcheck")
    for job in (silent, alive):
        services.job_start(job_id=job.pk, worker_host="a")
    Job.objects.filter(pk=silent.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        requeued = services.job_requeue_stale()

    assert requeued == [silent.pk]
    assert sent == [("cpu.selfcheck", {"args": [silent.pk], "queue": "cpu"})]


def test_start_of_a_job_cancelled_while_queued_does_not_run_it(sent):
    job = services.job_launch(kind="selfcheck")
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    assert services.job_start(job_id=job.pk, worker_host="a") is None
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELLED


def test_launch_by_a_user_without_the_kind_permission_is_refused(sent, role_user):
    curator = role_user("curator")  # may launch jobs, but training needs training.add_trainingrun

    with pytest.raises(PermissionDenied, match=r"training\.add_trainingrun"):
        services.job_launch(kind="train", params={}, user=curator)
    assert not Job.objects.exists()


def test_generic_jobs_api_refuses_a_kind_the_role_may_not_launch(api_client_for):
    response = api_client_for("curator").post("/api/jobs/", {"kind": "train", "params": {}}, format="json")

    assert response.status_code == 403
    assert not Job.objects.exists()


def test_run_job_command_rejects_a_bad_parameter_with_one_line(sent):
    with pytest.raises(CommandError, match=r"bad parameters for selfcheck.*steps"):
        call_command("run_job", "selfcheck", "--param", "steps=0", stdout=io.StringIO())


def test_api_answers_a_service_validation_error_with_400_and_its_messages(api_client_for):
    response = api_client_for("trainer").post("/api/jobs/", {"kind": "selfcheck", "params": {"steps": 0}},
                                              format="json")

    assert response.status_code == 400
    assert "steps" in response.json()
