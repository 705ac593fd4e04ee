"""Task registry: one Celery task per job kind, named ``<queue>.<kind>`` so routing follows the name.

Task modules import their heavy dependencies (torch, ram_model) inside the body, so a worker starts fast.
"""

from __future__ import annotations

from celery import Task

from labelhub.celery import app

from .base import JobBody, JobTask
from .datasets import run_export_snapshot, run_import_dataset, run_measure_images, run_parse_version
from .engine import run_engine_cluster, run_engine_features, run_engine_generate
from .labels import run_suggest_merges
from .review import run_apply_review
from .selfcheck import run_selfcheck
from .training import run_evaluate, run_extend_checkpoint, run_train


def job_task(name: str, body: JobBody) -> Task:
    """Register ``body`` as the Celery task ``name`` on the shared job base."""

    @app.task(base=JobTask, bind=True, name=name)
    def task(self: JobTask, job_id: int) -> None:
        self.execute(job_id, body)

    return task


selfcheck = job_task("cpu.selfcheck", run_selfcheck)
suggest_merges = job_task("cpu.suggest_merges", run_suggest_merges)
import_dataset = job_task("cpu.import_dataset", run_import_dataset)
export_snapshot = job_task("cpu.export_snapshot", run_export_snapshot)
train = job_task("gpu.train", run_train)
evaluate = job_task("gpu.evaluate", run_evaluate)
extend_checkpoint = job_task("gpu.extend_checkpoint", run_extend_checkpoint)
parse_version = job_task("cpu.parse_version", run_parse_version)
measure_images = job_task("cpu.measure_images", run_measure_images)
apply_review = job_task("cpu.apply_review", run_apply_review)
engine_generate = job_task("gpu.engine_generate", run_engine_generate)
engine_features = job_task("gpu.engine_features", run_engine_features)
engine_cluster = job_task("cpu.engine_cluster", run_engine_cluster)
