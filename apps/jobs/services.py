"""State changes of jobs. The web side launches/cancels/retries; workers report through the same functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .kinds import get_kind
from .models import Job, JobLogLine, JobState

MAX_LOG_MESSAGE = 4000


def _enqueue(job: Job) -> None:
    kind = get_kind(job.kind)
    transaction.on_commit(
        lambda: current_app.send_task(kind.task_name, args=[job.pk], queue=kind.queue)
    )


@transaction.atomic
def job_launch(*, kind: str, params: dict[str, Any] | None = None,
               user: AbstractBaseUser | None = None) -> Job:
    """Validate the parameters of ``kind`` and queue a new job; the task is sent after the commit.

    With a ``user``, the kind's own permission is checked too (system callers such as admin actions already
    checked theirs, and commands run as nobody).
    """
    job_kind = get_kind(kind)
    if user is not None and job_kind.permission and not user.has_perm(job_kind.permission):
        raise PermissionDenied(f"launching a '{kind}' job needs the permission {job_kind.permission}")
    validated = job_kind.validate(dict(params or {}))
    job = Job.objects.create(kind=kind, params=_jsonable(validated), queue=job_kind.queue,
                             user=user if user and user.is_authenticated else None)
    job_log(job_id=job.pk, message=f"queued on '{job.queue}'")
    _enqueue(job)
    return job


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(params, cls=DjangoJSONEncoder))


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """Ask a job to stop; a queued job stops at once, a running one at its next shard."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.is_terminal:
        raise ValidationError(f"job #{job.pk} has already ended ({job.state}); nothing to cancel")
    job.cancel_requested = True
    fields = ["cancel_requested"]
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = timezone.now()
        fields += ["state", "finished_at"]
    job.save(update_fields=fields)
    job_log(job_id=job.pk, message="cancel requested")
    return job


@transaction.atomic
def job_retry(*, job: Job) -> Job:
    """Queue a failed or cancelled job again; it resumes from its committed cursor."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.state not in {JobState.FAILED, JobState.CANCELLED}:
        raise ValidationError(f"only failed or cancelled jobs can be retried; job #{job.pk} is {job.state}")
    job.state = JobState.QUEUED
    job.cancel_requested = False
    job.error = ""
    job.finished_at = None
    job.save(update_fields=["state", "cancel_requested", "error", "finished_at"])
    job_log(job_id=job.pk, message="retry requested; resuming from the last committed cursor")
    _enqueue(job)
    return job


def job_log(*, job_id: int, message: str, level: str = "info") -> None:
    JobLogLine.objects.create(job_id=job_id, message=message[:MAX_LOG_MESSAGE], level=level)


# --- worker side ------------------------------------------------------------------------------------------


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.LABELHUB_JOB_STALE_SECONDS)


@transaction.atomic
def job_start(*, job_id: int, worker_host: str) -> Job | None:
    """Mark a job running on this worker; None when it must not run here.

    It must not run when it has ended, was cancelled while queued, or is running on a live worker (a duplicate
    delivery). A running job whose heartbeat went stale lost its worker: this worker resumes it.
    """
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.is_terminal:
        return None
    if job.cancel_requested:
        _finish(job, JobState.CANCELLED)
        return None
    resumed = job.state == JobState.RUNNING
    if resumed and job.heartbeat_at and job.heartbeat_at > _stale_before():
        return None  # still alive elsewhere; this delivery is a duplicate
    now = timezone.now()
    job.state = JobState.RUNNING
    job.attempts = F("attempts") + 1
    job.worker_host = worker_host
    job.started_at = now
    job.heartbeat_at = now
    job.save(update_fields=["state", "attempts", "worker_host", "started_at", "heartbeat_at"])
    job.refresh_from_db()
    note = "resumed after a lost worker" if resumed else "started"
    job_log(job_id=job.pk, message=f"{note} on {worker_host} (attempt {job.attempts})")
    return job


def job_heartbeat(*, job_id: int) -> None:
    """Say that the worker running this job is alive."""
    Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(heartbeat_at=timezone.now())


def job_requeue_stale() -> list[int]:
    """Queue again every running job whose worker stopped beating (killed, machine lost); returns their ids."""
    stale = list(Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=_stale_before())
                 .values_list("pk", flat=True))
    for job_id in stale:
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.state != JobState.RUNNING or job.heartbeat_at >= _stale_before():
                continue
            job_log(job_id=job_id, level="warning",
                    message=f"worker {job.worker_host} stopped answering; queued again to resume")
            _enqueue(job)
    return stale


def job_progress(*, job_id: int, done: int, total: int | None = None, unit: str | None = None,
                 cursor: dict[str, Any] | None = None) -> bool:
    """Record progress (and the committed cursor); returns True when cancellation was requested."""
    now = timezone.now()
    updates: dict[str, Any] = {"progress_done": done, "progress_at": now, "heartbeat_at": now}
    if total is not None:
        updates["progress_total"] = total
    if unit is not None:
        updates["progress_unit"] = unit
    if cursor is not None:
        updates["cursor"] = cursor
    Job.objects.filter(pk=job_id).update(**updates)
    return job_cancel_requested(job_id=job_id)


def job_cancel_requested(*, job_id: int) -> bool:
    return Job.objects.filter(pk=job_id, cancel_requested=True).exists()


def _finish(job: Job, state: str, **fields: Any) -> None:
    job.state = state
    job.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["state", "finished_at", *fields])


@transaction.atomic
def job_requeue_for_retry(*, job_id: int, reason: str, countdown: float) -> None:
    """Put a job whose attempt hit a transient error back in the queue state; the retried task resumes it."""
    job = Job.objects.select_for_update().get(pk=job_id)
    job.state = JobState.QUEUED
    job.heartbeat_at = None
    job.save(update_fields=["state", "heartbeat_at"])
    job_log(job_id=job_id, level="warning", message=f"transient error ({reason}); retrying in {countdown:g}s")


@transaction.atomic
def job_succeed(*, job_id: int, result: dict[str, Any] | None = None) -> None:
    job = Job.objects.select_for_update().get(pk=job_id)
    _finish(job, JobState.SUCCEEDED, result=_jsonable(result or {}))
    job_log(job_id=job_id, message="succeeded")


@transaction.atomic
def job_fail(*, job_id: int, error: str) -> None:
    job = Job.objects.select_for_update().get(pk=job_id)
    _finish(job, JobState.FAILED, error=error)
    job_log(job_id=job_id, message=error, level="error")


@transaction.atomic
def job_mark_cancelled(*, job_id: int) -> None:
    job = Job.objects.select_for_update().get(pk=job_id)
    _finish(job, JobState.CANCELLED)
    job_log(job_id=job_id, message="cancelled; data written so far is consistent and kept")
