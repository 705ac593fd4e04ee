"""State changes of training: launch runs, register checkpoints, launch and record evaluations.

Launches create the Job (through ``apps.jobs.services.job_launch``, which validates the parameters) and the
training row in one transaction; the task is sent after the commit. Worker-side functions are idempotent so
that a resumed job never registers a checkpoint or records an evaluation twice.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.jobs.models import Job
from apps.jobs.services import job_launch

from .models import Checkpoint, CheckpointSource, EvalResult, ModelSize, ModelVariant, TrainingRun

METRIC_FIELDS = ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1")


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def run_dir_for(run: TrainingRun) -> Path:
    return Path(settings.LABELHUB_CHECKPOINT_DIR) / "runs" / f"run-{run.pk}"


@transaction.atomic
def training_run_launch(*, params: dict[str, Any], user: AbstractBaseUser | None = None) -> TrainingRun:
    """Validate ``params`` (see ``TrainParams``), queue a ``train`` job and create its run."""
    job = job_launch(kind="train", params=params, user=user)
    return training_run_for_job(job=job)


@transaction.atomic
def training_run_for_job(*, job: Job) -> TrainingRun:
    """The run of a ``train`` job, created from its parameters the first time (also for jobs launched from the
    generic jobs page or API)."""
    run = TrainingRun.objects.filter(job=job).first()
    if run is not None:
        return run
    p = job.params
    run = TrainingRun.objects.create(
        job=job, name=p.get("name") or "", mode=p["mode"], dataset_version_id=p["dataset_version"],
        label_system_version_id=p["label_system_version"], variant=p["variant"], size=p["size"],
        config=p.get("config") or {}, init_checkpoint_id=p.get("init_checkpoint"),
        eval_dataset_version_id=p.get("eval_dataset_version"), created_by=job.user)
    run.run_dir = str(run_dir_for(run))
    if not run.name:
        run.name = f"{run.model_name} on {run.dataset_version} #{run.pk}"
    run.save(update_fields=["run_dir", "name"])
    return run


@transaction.atomic
def checkpoint_register(*, path: str | os.PathLike, name: str = "", source: str = CheckpointSource.REGISTERED,
                        variant: str = ModelVariant.RAM, size: str = ModelSize.SWIN_L_384,
                        label_system_version: Any = None, dataset_version: Any = None,
                        training_run: TrainingRun | None = None, parent: Checkpoint | None = None,
                        config: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                        user: AbstractBaseUser | None = None) -> Checkpoint:
    """Record a checkpoint file (an official RAM release, a run's final model, an extended head).

    Registering the same path again returns the existing row (a resumed job registers exactly once).
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise ValidationError({"path": f"no checkpoint file at {path}"})
    if variant not in ModelVariant.values:
        raise ValidationError({"variant": f"unknown variant {variant!r}"})
    if size not in ModelSize.values:
        raise ValidationError({"size": f"unknown size {size!r}"})
    existing = Checkpoint.objects.filter(path=path).first()
    if existing is not None:
        return existing
    return Checkpoint.objects.create(
        path=path, name=name or Path(path).name, source=source, variant=variant, size=size,
        label_system_version=label_system_version, dataset_version=dataset_version, training_run=training_run,
        parent=parent, config=config or {}, metrics=metrics or {}, created_by=_user(user))


@transaction.atomic
def evaluation_launch(*, params: dict[str, Any], user: AbstractBaseUser | None = None) -> Job:
    """Queue an ``evaluate`` job (see ``EvaluateParams``)."""
    return job_launch(kind="evaluate", params=params, user=user)


@transaction.atomic
def checkpoint_extend_launch(*, params: dict[str, Any], user: AbstractBaseUser | None = None) -> Job:
    """Queue an ``extend_checkpoint`` job (see ``ExtendCheckpointParams``)."""
    return job_launch(kind="extend_checkpoint", params=params, user=user)


@transaction.atomic
def eval_result_record(*, job: Job, checkpoint: Checkpoint, report: dict[str, Any], threshold: float,
                       dataset_version: Any = None, annotations: str = "", taglist: str = "",
                       image_root: str = "") -> EvalResult:
    """Store an evaluation report (one row per job: a resumed job overwrites, never duplicates)."""
    values = {key: report.get(key) for key in METRIC_FIELDS}
    result, _ = EvalResult.objects.update_or_create(job=job, defaults={
        "checkpoint": checkpoint, "dataset_version": dataset_version, "annotations": annotations,
        "taglist": taglist, "image_root": image_root, "threshold": threshold,
        "num_images": int(report.get("num_images") or 0), "per_tag_ap": report.get("per_tag_ap") or {},
        **values,
    })
    return result
