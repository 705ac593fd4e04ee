"""What a resumable service needs from the job running it, and an in-process runner for commands.

Workers pass their ``workers.base.JobContext``; management commands run the same service in-process through
:func:`run_inline`, which records a Job row too, so a command's work is visible, logged and resumable.
"""

from __future__ import annotations

import json
import socket
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from apps.jobs import services as job_services
from apps.jobs.kinds import get_kind
from apps.jobs.models import Job, JobState


class ShardContext(Protocol):
    job: Job

    @property
    def params(self) -> dict[str, Any]: ...

    @property
    def cursor(self) -> dict[str, Any]: ...

    def commit(self, cursor: dict[str, Any], done: int, total: int | None = None) -> None: ...

    def check_cancel(self) -> None: ...

    def log(self, message: str, level: str = "info") -> None: ...


class Cancelled(Exception):
    """The job was cancelled; what was committed so far stays."""


class InlineContext:
    """A ShardContext for work run inside the current process (management commands, tests)."""

    def __init__(self, job: Job) -> None:
        self.job = job

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def cursor(self) -> dict[str, Any]:
        return self.job.cursor

    def commit(self, cursor: dict[str, Any], done: int, total: int | None = None) -> None:
        self.job.cursor = cursor
        job_services.job_progress(job_id=self.job.pk, done=done, total=total, cursor=cursor)

    def check_cancel(self) -> None:
        if job_services.job_cancel_requested(job_id=self.job.pk):
            raise Cancelled(f"job #{self.job.pk} was cancelled")

    def log(self, message: str, level: str = "info") -> None:
        job_services.job_log(job_id=self.job.pk, message=message, level=level)


def run_inline(*, kind: str, params: dict[str, Any], body: Callable[[ShardContext], dict[str, Any]],
               user: AbstractBaseUser | None = None, job: Job | None = None) -> tuple[Job, dict[str, Any]]:
    """Run ``body`` now in this process under a (new or resumed) Job row of ``kind``; errors propagate."""
    if job is None:
        job_kind = get_kind(kind)
        validated = json.loads(json.dumps(job_kind.validate(dict(params)), cls=DjangoJSONEncoder))
        job = Job.objects.create(kind=kind, params=validated, queue=job_kind.queue,
                                 user=user if user is not None and user.is_authenticated else None)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, started_at=timezone.now(),
                                         worker_host=f"inline@{socket.gethostname()}")
    job.refresh_from_db()
    try:
        result = body(InlineContext(job))
    except Cancelled:
        job_services.job_mark_cancelled(job_id=job.pk)
        raise
    except ValidationError as exc:
        job_services.job_fail(job_id=job.pk, error="bad input: " + "; ".join(exc.messages))
        raise
    except Exception as exc:
        job_services.job_fail(job_id=job.pk, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}")
        raise
    job_services.job_succeed(job_id=job.pk, result=result)
    job.refresh_from_db()
    return job, result
