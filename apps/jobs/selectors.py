"""Reads of jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Job, JobLogLine


def job_list(*, kind: str | None = None, state: str | None = None) -> QuerySet[Job]:
    jobs = Job.objects.select_related("user")
    if kind:
        jobs = jobs.filter(kind=kind)
    if state:
        jobs = jobs.filter(state=state)
    return jobs


def job_log_tail(*, job: Job, lines: int = 50) -> list[JobLogLine]:
    return list(reversed(job.log_lines.order_by("-id")[:lines]))
