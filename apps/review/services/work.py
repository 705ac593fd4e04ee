"""Curators assign reviewers to a run and hand them its flags in batches.

Batches only take flags nobody holds yet, so work never overlaps unless asked: with ``overlap`` N each
drawn flag goes to N different reviewers of the batch round (for consensus and agreement figures). The draw
is one INSERT … SELECT, whatever the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count

from apps.engine.models import EngineRun, EngineRunKind, Flag
from apps.labels.models import TagGroup

from ..models import ReviewBatch, ReviewTask, RunReviewer
from .decisions import flags_status_refresh
from .sql import param, table

MAX_BATCH = 1_000_000


def _user(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


@transaction.atomic
def run_reviewer_add(*, run: EngineRun, user: AbstractBaseUser, added_by: AbstractBaseUser | None = None
                     ) -> RunReviewer:
    """Allow ``user`` to review the run (they must hold the reviewer role); adding twice is a no-op."""
    if run.kind != EngineRunKind.CLEANING:
        raise ValidationError(f"{run} is a {run.kind} run; only the flags of cleaning runs are reviewed")
    if not user.is_active or not user.has_perm("review.review_flags"):
        raise ValidationError(f"{user} cannot review flags: give them the reviewer role first")
    reviewer, _ = RunReviewer.objects.get_or_create(run=run, user=user, defaults={"added_by": _user(added_by)})
    return reviewer


@transaction.atomic
def run_reviewer_remove(*, run: EngineRun, user: AbstractBaseUser) -> int:
    """Take the run away from a reviewer: their pending tasks return to the pool (decided ones still count).

    Returns the number of pending tasks released.
    """
    pending = ReviewTask.objects.filter(run=run, reviewer_id=user.pk, decision="")
    flag_ids = list(pending.values_list("flag_id", flat=True))
    released, _ = pending.delete()
    for start in range(0, len(flag_ids), 5000):  # the majority of overlapped flags may change
        chunk = flag_ids[start:start + 5000]
        flags_status_refresh(affected_sql=f"SELECT id AS flag_id FROM {table(Flag)} WHERE id IN "
                                          f"({', '.join(['%s'] * len(chunk))})", params=chunk)
    RunReviewer.objects.filter(run=run, user_id=user.pk).delete()
    return released


@transaction.atomic
def review_batches_create(*, run: EngineRun, reviewers: Sequence[AbstractBaseUser], size: int, overlap: int = 1,
                          tag_group: TagGroup | None = None, user: AbstractBaseUser | None = None
                          ) -> list[ReviewBatch]:
    """One batch per reviewer of up to ``size`` flags that no one holds yet, each flag to ``overlap`` of them.

    Flags are drawn in (category, id) order, from one category when ``tag_group`` is given; flag i of the
    draw goes to reviewers i, i+1, …, i+overlap-1 (mod the number of reviewers), so every reviewer gets about
    ``size`` flags and no flag reaches a reviewer twice.
    """
    reviewers = list({r.pk: r for r in reviewers}.values())
    if not reviewers:
        raise ValidationError("choose at least one reviewer")
    if not 1 <= overlap <= len(reviewers):
        raise ValidationError(f"overlap must be between 1 and the number of reviewers ({len(reviewers)})")
    if not 1 <= size <= MAX_BATCH:
        raise ValidationError(f"batch size must be between 1 and {MAX_BATCH}")
    assigned = set(RunReviewer.objects.filter(run=run, user__in=[r.pk for r in reviewers])
                   .values_list("user_id", flat=True))
    missing = [str(r) for r in reviewers if r.pk not in assigned]
    if missing:
        raise ValidationError(f"not assigned to review {run}: {', '.join(missing)}; assign them first")
    EngineRun.objects.select_for_update().filter(pk=run.pk).first()  # one draw at a time per run
    batches = [ReviewBatch.objects.create(run=run, reviewer=r, tag_group=tag_group, created_by=_user(user))
               for r in reviewers]
    k = len(reviewers)
    draw = math.ceil(size * k / overlap)
    flag, task = table(Flag), table(ReviewTask)
    category = "AND f.tag_group_id = %s" if tag_group is not None else ""
    slots = " UNION ALL ".join(
        f"SELECT {param('bigint')} AS idx, {param('bigint')} AS batch_id, {param('bigint')} AS reviewer_id"
        for _ in batches)
    sql = (
        f"INSERT INTO {task} (batch_id, flag_id, reviewer_id, run_id, tag_group_id, decision, new_tag_group_id, "
        f"decided_at) "
        f"SELECT b.batch_id, d.id, b.reviewer_id, d.run_id, d.tag_group_id, '', NULL, NULL "
        f"FROM (SELECT f.id, f.run_id, f.tag_group_id, ROW_NUMBER() OVER (ORDER BY f.tag_group_id, f.id) - 1 AS rn "
        f"      FROM {flag} f WHERE f.run_id = %s {category} "
        f"       AND NOT EXISTS (SELECT 1 FROM {task} t WHERE t.flag_id = f.id) "
        f"     ORDER BY f.tag_group_id, f.id LIMIT %s) d "
        f"JOIN ({slots}) b ON ((b.idx - (d.rn %% %s) + %s) %% %s) < %s"
    )
    params: list = [run.pk, *([tag_group.pk] if tag_group is not None else []), draw]
    for i, (batch, reviewer) in enumerate(zip(batches, reviewers)):
        params += [i, batch.pk, reviewer.pk]
    params += [k, k, k, overlap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    sizes = dict(ReviewTask.objects.filter(batch__in=batches).values_list("batch_id").annotate(n=Count("id"))
                 .order_by())
    kept = []
    for batch in batches:
        batch.size = sizes.get(batch.pk, 0)
        if batch.size:
            batch.save(update_fields=["size"])
            kept.append(batch)
        else:
            batch.delete()
    if not kept:
        raise ValidationError("no flags are left to hand out in this run"
                              + (" and category" if tag_group is not None else ""))
    return kept
