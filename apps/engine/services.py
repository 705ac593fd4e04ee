"""State changes of the data engine: launch runs, record flags and reports (worker side is idempotent).

A run is created with its first job, in the same transaction (``engine_generation_launch`` /
``engine_cleaning_launch``), or by the job itself when it was launched from the generic jobs page or API
(``engine_run_for_job``). Either way the job's cursor carries ``{"run": id}`` from then on, so a resumed
job finds its run. Flags are upserted per (run, assignment): a method that flags an assignment another
method already flagged sets its own boolean and fills its own evidence, never a second row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from apps.jobs.models import Job
from apps.jobs.services import job_launch, job_log

from .job_kinds import ENGINE_CLUSTER, ENGINE_FEATURES, ENGINE_GENERATE, RUN_KINDS
from .models import EngineRun, EngineRunKind, Flag, FlagStatus

CLUSTER_PARAM_KEYS = ("fraction", "fast")


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


# --- runs -------------------------------------------------------------------------------------------------


@transaction.atomic
def engine_generation_launch(*, params: dict[str, Any], user: AbstractBaseUser | None = None) -> EngineRun:
    """Validate ``params`` (see ``GenerateParams``), queue an ``engine_generate`` job and create its run."""
    return engine_run_for_job(job=job_launch(kind=ENGINE_GENERATE.name, params=params, user=user))


@transaction.atomic
def engine_cleaning_launch(*, params: dict[str, Any], user: AbstractBaseUser | None = None) -> EngineRun:
    """Validate ``params`` (see ``FeaturesParams``), queue an ``engine_features`` job and create its run.

    The clustering job follows when the features job succeeds (``cluster`` parameter, default on)."""
    return engine_run_for_job(job=job_launch(kind=ENGINE_FEATURES.name, params=params, user=user))


@transaction.atomic
def engine_run_launch(*, kind: str, params: dict[str, Any], user: AbstractBaseUser | None = None) -> EngineRun:
    """A generation or a cleaning run, by run kind."""
    if kind == EngineRunKind.GENERATION:
        return engine_generation_launch(params=params, user=user)
    if kind == EngineRunKind.CLEANING:
        return engine_cleaning_launch(params=params, user=user)
    raise ValidationError({"kind": f"unknown run kind {kind!r} (generation or cleaning)"})


@transaction.atomic
def engine_run_for_job(*, job: Job) -> EngineRun:
    """The run of an ``engine_generate`` / ``engine_features`` job, created from its parameters the first time.

    The run's id goes into the job's cursor in the same transaction, so every later attempt finds it.
    """
    if job.kind not in RUN_KINDS:
        raise ValidationError(f"job #{job.pk} ({job.kind}) does not start an engine run")
    given, job = job, Job.objects.select_for_update().get(pk=job.pk)
    run = EngineRun.objects.filter(pk=(job.cursor or {}).get("run")).first()
    if run is not None:
        return run
    p = job.params
    run = EngineRun.objects.create(
        kind=RUN_KINDS[job.kind], name=p.get("name") or "", dataset_version_id=p["dataset_version"],
        checkpoint_id=p.get("checkpoint"), job=job, params=p, categories=list(p.get("categories") or []),
        report={"jobs": {_job_role(job.kind): job.pk}}, created_by=job.user)
    if not run.name:
        run.name = f"{run.kind} of {run.dataset_version} #{run.pk}"
        run.save(update_fields=["name"])
    job.cursor = {**(job.cursor or {}), "run": run.pk}
    job.save(update_fields=["cursor"])
    given.cursor = job.cursor  # the caller's (a running body's) view of its cursor
    return run


def _job_role(kind: str) -> str:
    return {ENGINE_GENERATE.name: "generate", ENGINE_FEATURES.name: "features", ENGINE_CLUSTER.name: "cluster"}[kind]


@transaction.atomic
def engine_cluster_launch(*, run: EngineRun, params: dict[str, Any] | None = None,
                          user: AbstractBaseUser | None = None) -> Job:
    """Queue an ``engine_cluster`` job on a cleaning run's features; it becomes the run's current job."""
    job = job_launch(kind=ENGINE_CLUSTER.name, params={**(params or {}), "run": run.pk}, user=user)
    engine_run_attach_job(run=run, job=job)
    return job


@transaction.atomic
def engine_run_attach_job(*, run: EngineRun, job: Job) -> EngineRun:
    """Make ``job`` the run's current job and remember it under its role (generate / features / cluster)."""
    run = EngineRun.objects.select_for_update().get(pk=run.pk)
    jobs = dict(run.report.get("jobs") or {})
    jobs[_job_role(job.kind)] = job.pk
    run.report = {**run.report, "jobs": jobs}
    run.job = job
    run.save(update_fields=["report", "job"])
    return run


@transaction.atomic
def engine_cluster_launch_once(*, run: EngineRun, features_job: Job) -> Job:
    """The clustering job that follows a features job: launched once, however often that job is resumed."""
    locked = EngineRun.objects.select_for_update().get(pk=run.pk)
    existing = Job.objects.filter(pk=(locked.report.get("jobs") or {}).get("cluster"),
                                  kind=ENGINE_CLUSTER.name).first()
    if existing is not None and existing.created_at >= features_job.created_at:
        return existing
    params = {key: features_job.params[key] for key in CLUSTER_PARAM_KEYS if key in features_job.params}
    job = engine_cluster_launch(run=locked, params=params)
    job_log(job_id=features_job.pk, message=f"launched clustering job #{job.pk}")
    return job


@transaction.atomic
def engine_run_report_update(*, run: EngineRun, section: str | None = None, values: dict[str, Any]) -> EngineRun:
    """Merge ``values`` into the run's report (or into one of its sections)."""
    run = EngineRun.objects.select_for_update().get(pk=run.pk)
    report = dict(run.report or {})
    if section is None:
        report.update(values)
    else:
        report[section] = {**(report.get(section) or {}), **values}
    run.report = report
    run.save(update_fields=["report"])
    return run


@transaction.atomic
def engine_run_set_output(*, run: EngineRun, version: Any) -> EngineRun:
    EngineRun.objects.filter(pk=run.pk).update(output_version=version)
    run.output_version = version
    return run


# --- flags ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    """One method's verdict on one assignment, with the evidence that method has."""

    assignment_id: int
    image_id: int
    tag_group_id: int
    region_source: str = ""
    box: Sequence[float] | None = None
    cluster: int | None = None
    distance: float | None = None
    percentile: float | None = None
    score: float | None = None
    threshold: float | None = None
    label_quality: float | None = None


METHODS: dict[str, tuple[str, tuple[str, ...]]] = {
    # method → (its boolean, the evidence fields it fills)
    "cluster": ("by_cluster", ("region_source", "box", "cluster", "distance", "percentile", "score", "threshold")),
    "rejection": ("by_rejection", ("region_source", "box", "score", "threshold")),
    "confident": ("by_confident", ("label_quality",)),
}


@transaction.atomic
def flags_record(*, run: EngineRun, method: str, rows: Iterable[FlagRow], batch_size: int = 2000) -> int:
    """Upsert the flags of one method (``cluster``, ``rejection`` or ``confident``); returns rows sent.

    One statement per batch (``INSERT … ON CONFLICT (run, assignment) DO UPDATE``): a new assignment gets a
    flag, a flagged one gets this method's boolean and evidence; the other methods' fields and the review
    status stay. Recording the same rows twice changes nothing.
    """
    if method not in METHODS:
        raise ValidationError(f"unknown flagging method {method!r} ({', '.join(METHODS)})")
    flag_field, evidence = METHODS[method]
    flags = []
    for row in rows:
        values = {name: getattr(row, name) for name in evidence}
        if values.get("box") is not None:
            values["box"] = [round(float(v), 2) for v in values["box"]]
        if method == "confident" and not row.region_source:
            values["region_source"] = "image"
        flags.append(Flag(run=run, assignment_id=row.assignment_id, image_id=row.image_id,
                          tag_group_id=row.tag_group_id, **{flag_field: True}, **values))
    for start in range(0, len(flags), batch_size):
        Flag.objects.bulk_create(flags[start:start + batch_size], update_conflicts=True,
                                 unique_fields=["run", "assignment"], update_fields=[flag_field, *evidence])
    return len(flags)


@transaction.atomic
def flags_clear_method(*, run: EngineRun, method: str) -> int:
    """Take one method's verdict back (e.g. before re-clustering with another fraction).

    Flags only that method raised and that nobody took up for review are deleted; flags another method raised
    too lose this method's boolean; flags already in review stay as they are.
    """
    flag_field, _ = METHODS[method]
    others = Q()
    for name, (field, _) in METHODS.items():
        if name != method:
            others |= Q(**{field: True})
    mine = Flag.objects.filter(run=run, **{flag_field: True})
    untouched = mine.exclude(others).filter(status=FlagStatus.OPEN, tasks__isnull=True, decisions__isnull=True)
    _, deleted = untouched.delete()
    mine.filter(others).update(**{flag_field: False})
    return deleted.get(Flag._meta.label, 0)
