"""Apply review: a child dataset version of the run's input version with the review's outcomes.

Rejected tags are removed; changed ones are removed and the replacement tag added (source ``manual``, once per
image and tag, and not when the image already has that tag live); flags nobody decided follow the chosen policy
(keep, or drop like rejected ones). The run's input version must be its dataset's tip.

It runs as the ``apply_review`` job (cpu queue; body in ``workers/review.py``) or in-process through
``review_apply_inline``. The work is set-based SQL over flag id ranges: first every removal, then every
addition (so a replacement is never skipped because of a row that a later range removes), each range one
transaction with the job cursor. A resumed job continues from its cursor; a finished one returns what it did
without writing again, and a second application of the same run is refused (its input is no longer the tip).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Min

from apps.datasets import selectors as dataset_selectors
from apps.datasets.models import AssignmentSource, DatasetVersion, TagAssignment
from apps.datasets.services.context import ShardContext, run_inline
from apps.datasets.services.versions import assignments_remove, dataset_version_create_child, dataset_version_seal
from apps.engine.models import EngineRun, EngineRunKind, Flag, FlagStatus
from apps.jobs.models import Job, JobState
from apps.jobs.services import job_launch

from ..models import ReviewApplication, UnreviewedPolicy
from .sql import param, table

KIND = "apply_review"
DEFAULT_SHARD = 50_000


def review_apply_check(*, run: EngineRun) -> DatasetVersion:
    """The version the review applies to, or a ValidationError that says why it cannot be applied."""
    if run.kind != EngineRunKind.CLEANING:
        raise ValidationError(f"{run} is a {run.kind} run; only cleaning runs have flags to apply")
    version = DatasetVersion.objects.select_related("dataset").get(pk=run.dataset_version_id)
    done = (ReviewApplication.objects.filter(run=run, output_version__sealed=True)
            .select_related("output_version").first())
    if done is not None:
        raise ValidationError(f"the review of {run} was already applied: {done.output_version}")
    tip = dataset_selectors.dataset_version_tip(dataset=version.dataset)
    if tip is not None and tip.pk != version.pk:
        raise ValidationError(
            f"the run read {version}, but the tip of dataset {version.dataset.name} is now v{tip.seq}: a review "
            f"applies only to the tip (versions form one line); run cleaning again on v{tip.seq}")
    if not version.sealed:
        raise ValidationError(f"version {version} is still open; seal it before applying a review to it")
    return version


def _running_application(run: EngineRun) -> ReviewApplication | None:
    return (ReviewApplication.objects.filter(run=run, output_version__isnull=True)
            .exclude(job__state__in=[JobState.FAILED, JobState.CANCELLED]).first())


@transaction.atomic
def review_apply_launch(*, run: EngineRun, unreviewed: str = UnreviewedPolicy.KEEP,
                        user: AbstractBaseUser | None = None) -> ReviewApplication:
    """Queue an ``apply_review`` job for the run (after checking it can apply) and record the application."""
    EngineRun.objects.select_for_update().filter(pk=run.pk).first()
    review_apply_check(run=run)
    if _running_application(run) is not None:
        raise ValidationError(f"the review of {run} is already being applied")
    job = job_launch(kind=KIND, params={"run_id": run.pk, "unreviewed": unreviewed}, user=user)
    return ReviewApplication.objects.create(run=run, unreviewed=unreviewed, job=job,
                                            created_by=user if user is not None and user.is_authenticated else None)


def review_apply_inline(*, run: EngineRun, unreviewed: str = UnreviewedPolicy.KEEP,
                        user: AbstractBaseUser | None = None, job: Job | None = None
                        ) -> tuple[ReviewApplication, dict[str, Any]]:
    """Apply the review now, in this process, under a Job row (tests, commands); errors propagate."""
    job, result = run_inline(kind=KIND, params={"run_id": run.pk, "unreviewed": unreviewed}, user=user,
                             body=review_apply_run, job=job)
    return ReviewApplication.objects.get(pk=result["application_id"]), result


def _outcomes(run: EngineRun) -> dict[str, int]:
    counts = dict(Flag.objects.filter(run=run).values_list("status").annotate(n=Count("id")).order_by())
    return {status: counts.get(status, 0) for status in FlagStatus.values}


def _start(ctx: ShardContext, run: EngineRun, unreviewed: str) -> dict[str, Any]:
    with transaction.atomic():
        EngineRun.objects.select_for_update().filter(pk=run.pk).first()
        parent = review_apply_check(run=run)
        application = ReviewApplication.objects.filter(job=ctx.job).first() or ReviewApplication.objects.create(
            run=run, unreviewed=unreviewed, job=ctx.job, created_by=ctx.job.user)
        child = dataset_version_create_child(parent=parent, job=ctx.job, user=ctx.job.user,
                                             note=f"review of {run} applied (unreviewed flags: {unreviewed})")
        bounds = Flag.objects.filter(run=run).aggregate(lo=Min("id"), hi=Max("id"))
        outcomes = _outcomes(run)
        application.output_version = child
        application.unreviewed = unreviewed
        application.counts = {"outcomes": outcomes}
        application.save(update_fields=["output_version", "unreviewed", "counts"])
        lo, hi = bounds["lo"] or 0, bounds["hi"] if bounds["hi"] is not None else -1
        cursor = {"application_id": application.pk, "child_id": child.pk, "phase": "remove", "min_id": lo,
                  "next_id": lo, "max_id": hi, "removed": 0, "added": 0, "outcomes": outcomes}
        ctx.commit(cursor, 0, total=2 * (hi - lo + 1))
    return cursor


def _remove_range(child: DatasetVersion, run: EngineRun, lo: int, hi: int, drop_open: bool) -> int:
    statuses = [FlagStatus.REJECTED, FlagStatus.CHANGED, *([FlagStatus.OPEN] if drop_open else [])]
    flagged = Flag.objects.filter(run=run, id__gte=lo, id__lt=hi, status__in=statuses).values("assignment_id")
    # One UPDATE … WHERE id IN (SELECT assignment_id …): the live rows get removed_in_seq = the child's seq.
    return assignments_remove(version=child, assignments=TagAssignment.objects.filter(id__in=flagged))


def _add_range(child: DatasetVersion, run: EngineRun, lo: int, hi: int) -> int:
    assignment, flag = table(TagAssignment), table(Flag)
    sql = (
        f"INSERT INTO {assignment} (dataset_id, image_id, tag_group_id, source, added_in_seq) "
        f"SELECT DISTINCT {param('bigint')}, f.image_id, f.resolved_tag_group_id, {param('varchar')}, "
        f"{param('integer')} FROM {flag} f "
        f"WHERE f.run_id = %s AND f.id >= %s AND f.id < %s AND f.status = %s "
        f"AND f.resolved_tag_group_id IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {assignment} a WHERE a.dataset_id = %s AND a.image_id = f.image_id "
        f"AND a.tag_group_id = f.resolved_tag_group_id AND a.removed_in_seq IS NULL)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [child.dataset_id, AssignmentSource.MANUAL, child.seq, run.pk, lo, hi,
                             FlagStatus.CHANGED, child.dataset_id])
        return max(cursor.rowcount, 0)


def review_apply_run(ctx: ShardContext) -> dict[str, Any]:
    """The body of an ``apply_review`` job (params: ``run_id``, ``unreviewed``, ``shard_size``)."""
    params = ctx.params
    run = EngineRun.objects.filter(pk=params["run_id"]).first()
    if run is None:
        raise ValidationError(f"engine run {params['run_id']} does not exist")
    unreviewed = params.get("unreviewed") or UnreviewedPolicy.KEEP
    shard = int(params.get("shard_size") or DEFAULT_SHARD)
    application = ReviewApplication.objects.filter(job=ctx.job).select_related("output_version").first()
    if application is not None and application.output_version is not None and application.output_version.sealed:
        return _result(application)  # this job already applied it
    cursor = dict(ctx.cursor) if ctx.cursor.get("child_id") else _start(ctx, run, unreviewed)
    child = DatasetVersion.objects.get(pk=cursor["child_id"])
    span = cursor["max_id"] - cursor["min_id"] + 1
    while cursor["phase"] != "done":
        if cursor["next_id"] > cursor["max_id"]:
            cursor.update(phase="add" if cursor["phase"] == "remove" else "done", next_id=cursor["min_id"])
            ctx.commit(dict(cursor), done=span if cursor["phase"] == "add" else 2 * span, total=2 * span)
            continue
        ctx.check_cancel()
        lo, hi = cursor["next_id"], cursor["next_id"] + shard
        with transaction.atomic():
            if cursor["phase"] == "remove":
                cursor["removed"] += _remove_range(child, run, lo, hi, unreviewed == UnreviewedPolicy.DROP)
            else:
                cursor["added"] += _add_range(child, run, lo, hi)
            cursor["next_id"] = hi
            done = min(hi, cursor["max_id"] + 1) - cursor["min_id"] + (span if cursor["phase"] == "add" else 0)
            ctx.commit(dict(cursor), done=done, total=2 * span)
    with transaction.atomic():
        child = dataset_version_seal(version=child)
        application = ReviewApplication.objects.select_for_update().get(pk=cursor["application_id"])
        outcomes = cursor["outcomes"]
        dropped = outcomes[FlagStatus.OPEN] if unreviewed == UnreviewedPolicy.DROP else 0
        application.counts = {
            "outcomes": outcomes,
            "flags": sum(outcomes.values()),
            "kept": outcomes[FlagStatus.ACCEPTED] + outcomes[FlagStatus.OPEN] - dropped,
            "removed": outcomes[FlagStatus.REJECTED],
            "replaced": outcomes[FlagStatus.CHANGED],
            "dropped_unreviewed": dropped,
            "assignments_removed": cursor["removed"],
            "assignments_added": cursor["added"],
            "version_counts": child.counts,
        }
        application.save(update_fields=["counts"])
    return _result(application)


def _result(application: ReviewApplication) -> dict[str, Any]:
    version = application.output_version
    return {"application_id": application.pk, "run_id": application.run_id, "version_id": version.pk,
            "seq": version.seq, "unreviewed": application.unreviewed, "counts": application.counts}
