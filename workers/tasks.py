"""Task registry: one Celery task per job kind, named ``<queue>.<kind>`` so routing follows the name.

Task modules import their heavy dependencies (torch, ram_model) inside the body, so a worker starts fast.
"""

from __future__ import annotations

from celery import Task

from labelhub.celery import app

from .base import JobBody, JobTask
from .selfcheck import run_selfcheck


def job_task(name: str, body: JobBody) -> Task:
    """Register ``body`` as the Celery task ``name`` on the shared job base."""

    @app.task(base=JobTask, bind=True, name=name)
    def task(self: JobTask, job_id: int) -> None:
        self.execute(job_id, body)

    return task


selfcheck = job_task("cpu.selfcheck", run_selfcheck)
