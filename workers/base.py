"""The shared base of job tasks: start/finish bookkeeping, progress, cooperative cancel, resumable cursors.

A task body receives a :class:`JobContext`; it processes its work in shards, commits each shard together
with ``ctx.commit(cursor, done)`` and checks ``ctx.should_stop()`` between shards. A redelivered message
(worker killed) or a retry resumes from the last committed cursor, so no shard is written twice.
"""

from __future__ import annotations

import logging
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from apps.jobs import services
from apps.jobs.models import Job

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, ConnectionError,
                                                      TimeoutError)


class JobCancelled(Exception):
    """Raised inside a task body to stop at a shard boundary after a cancel request."""


class JobParameterError(ValueError):
    """A parameter that can never work: fail at once, no retry."""


@dataclass
class JobContext:
    job: Job
    _cancel: bool = field(default=False, init=False)

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def cursor(self) -> dict[str, Any]:
        return self.job.cursor

    def log(self, message: str, level: str = "info") -> None:
        services.job_log(job_id=self.job.pk, message=message, level=level)

    def progress(self, done: int, total: int | None = None, unit: str | None = None) -> None:
        self._cancel = services.job_progress(job_id=self.job.pk, done=done, total=total, unit=unit)

    def commit(self, cursor: dict[str, Any], done: int, total: int | None = None) -> None:
        """Record the cursor after a shard's writes committed (call inside the shard's transaction)."""
        self.job.cursor = cursor
        self._cancel = services.job_progress(job_id=self.job.pk, done=done, total=total, cursor=cursor)

    def should_stop(self) -> bool:
        return self._cancel or services.job_cancel_requested(job_id=self.job.pk)

    def check_cancel(self) -> None:
        if self.should_stop():
            raise JobCancelled()


JobBody = Callable[[JobContext], dict[str, Any] | None]


class JobTask(Task):
    """Base class of every job task; the body is a plain function ``body(ctx) -> result dict``."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True
    max_retries = 5

    def execute(self, job_id: int, body: JobBody) -> None:
        close_old_connections()
        job = services.job_start(job_id=job_id, worker_host=socket.gethostname())
        if job is None:
            return
        ctx = JobContext(job)
        heartbeat = Heartbeat(job_id)
        heartbeat.start()
        try:
            result = body(ctx)
        except JobCancelled:
            services.job_mark_cancelled(job_id=job_id)
        except (JobParameterError, ValidationError) as exc:
            services.job_fail(job_id=job_id, error=f"bad parameter: {_message(exc)}")
        except TRANSIENT_ERRORS as exc:
            close_old_connections()
            if self.request.retries >= self.max_retries:
                services.job_fail(job_id=job_id, error=f"gave up after {self.max_retries} retries: {exc}")
                return
            countdown = settings.LABELHUB_JOB_RETRY_BACKOFF_SECONDS * 2**self.request.retries
            services.job_requeue_for_retry(job_id=job_id, reason=str(exc), countdown=countdown)
            raise self.retry(exc=exc, countdown=countdown) from exc
        except Exception as exc:
            logger.exception("job %s failed", job_id)
            services.job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}")
        else:
            services.job_succeed(job_id=job_id, result=result or {})
        finally:
            heartbeat.stop()


class Heartbeat(threading.Thread):
    """Touch the job's heartbeat while its body runs, so long shards are not mistaken for a lost worker."""

    def __init__(self, job_id: int) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id = job_id
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopped.wait(settings.LABELHUB_JOB_HEARTBEAT_SECONDS):
                try:
                    services.job_heartbeat(job_id=self.job_id)
                except TRANSIENT_ERRORS:
                    logger.warning("job %s: heartbeat failed; trying again", self.job_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)
