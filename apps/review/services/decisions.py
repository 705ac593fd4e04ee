"""Reviewers decide on flags: one at a time, in bulk over a cluster or filter, and undo their last action.

Every change appends ReviewDecision rows (the audit log, never changed) and updates, in the same transaction,
the reviewer's ReviewTask (their current decision) and the flag's status: with one reviewer their decision;
with overlapping work the strict majority of the flag's assigned reviewers (a tie, or too few decisions yet,
leaves it open). A bulk action and its undo are set-based SQL, so a cluster of 100k flags is a few statements.

Undo takes back the reviewer's last action in a run as a whole (a bulk decision is one action): each of its
rows gets an ``undo`` row pointing at it (``undoes``), and each touched task returns to the reviewer's latest
decision on that flag that is not undone (or pending). Undoing again takes back the action before that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.engine.models import EngineRun, Flag
from apps.labels.models import TagGroup

from .. import selectors
from ..models import ReviewAction, ReviewDecision, ReviewTask
from .sql import db_value, param, table

BULK_ACTIONS = (ReviewAction.ACCEPT, ReviewAction.REJECT)


@dataclass
class ActionResult:
    """What one reviewer action did: its operation id, how many flags it decided (or undid), and which."""

    operation: uuid.UUID | None
    count: int
    action: str = ""
    flag_ids: list[int] = field(default_factory=list)  # at most a page of them, for the UI
    tag_group_ids: list[int] = field(default_factory=list)


def _check_reviewer(run_id: int, user: AbstractBaseUser) -> None:
    if not user.has_perm("review.review_flags"):
        raise PermissionDenied("deciding on flags needs the reviewer role")
    if not selectors.run_is_reviewer(run_id=run_id, user=user):
        raise PermissionDenied("you are not assigned to review this run")


def flags_status_refresh(*, affected_sql: str, params: list) -> None:
    """Set status / resolved_tag_group of the flags that ``affected_sql`` selects (a ``flag_id`` column).

    The outcome is the decision (with its replacement tag) that more than half of the flag's assigned
    reviewers hold; otherwise the flag is open. One UPDATE … FROM, whatever the number of flags. (A flag
    left without any task keeps its status: it was open, since nobody had decided on it.)
    """
    task, flag = table(ReviewTask), table(Flag)
    # One pass over the affected flags' tasks (index review_task_unique leads with flag), then one row per flag;
    # no join between two intermediate results, so a stale row estimate cannot make it quadratic.
    sql = f"""
        WITH tallies AS (
            SELECT t.flag_id, t.decision, COALESCE(t.new_tag_group_id, 0) AS ntg, COUNT(*) AS n,
                   SUM(COUNT(*)) OVER (PARTITION BY t.flag_id) AS total
              FROM {task} t WHERE t.flag_id IN ({affected_sql})
             GROUP BY t.flag_id, t.decision, COALESCE(t.new_tag_group_id, 0)),
        outcome AS (
            SELECT flag_id, MAX(CASE WHEN decision <> '' AND 2 * n > total THEN decision END) AS decision,
                   MAX(CASE WHEN decision <> '' AND 2 * n > total THEN ntg END) AS ntg
              FROM tallies GROUP BY flag_id)
        UPDATE {flag} SET
            status = CASE o.decision WHEN 'accept' THEN 'accepted' WHEN 'reject' THEN 'rejected'
                                     WHEN 'change' THEN 'changed' ELSE 'open' END,
            resolved_tag_group_id = CASE WHEN o.decision = 'change' THEN o.ntg END
          FROM outcome o WHERE {flag}.id = o.flag_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refresh_operation(operation: uuid.UUID) -> None:
    flags_status_refresh(affected_sql=f"SELECT flag_id FROM {table(ReviewDecision)} WHERE operation = %s",
                         params=[db_value(ReviewDecision, "operation", operation)])


def _check_new_tag(flag: Flag, new_tag_group: TagGroup | None) -> None:
    if new_tag_group is None:
        raise ValidationError("choose the tag that replaces the flagged one")
    if new_tag_group.pk == flag.tag_group_id:
        raise ValidationError("the replacement is the flagged tag itself; accept the flag instead")
    version_id = TagGroup.objects.filter(pk=flag.tag_group_id).values_list("version_id", flat=True).first()
    if new_tag_group.version_id != version_id:
        raise ValidationError("the replacement tag must come from the same label-system version as the flagged tag")


@transaction.atomic
def review_decide(*, user: AbstractBaseUser, flag: Flag, action: str,
                  new_tag_group: TagGroup | None = None) -> ReviewTask:
    """Record the reviewer's decision on one flag of their queue; returns their updated task.

    Deciding what the task already holds changes nothing (no audit row: there is nothing to undo).
    """
    _check_reviewer(flag.run_id, user)
    if action not in (ReviewAction.ACCEPT, ReviewAction.REJECT, ReviewAction.CHANGE):
        raise ValidationError(f"unknown decision {action!r} (accept, reject or change)")
    task = ReviewTask.objects.select_for_update().filter(flag_id=flag.pk, reviewer_id=user.pk).first()
    if task is None:
        raise PermissionDenied("this flag is not in your queue; a curator hands out flags in batches")
    if action == ReviewAction.CHANGE:
        _check_new_tag(flag, new_tag_group)
    else:
        new_tag_group = None
    new_id = new_tag_group.pk if new_tag_group is not None else None
    if task.decision == action and task.new_tag_group_id == new_id:
        return task
    operation = uuid.uuid4()
    decision = ReviewDecision.objects.create(flag_id=flag.pk, reviewer_id=user.pk, run_id=flag.run_id, action=action,
                                             new_tag_group_id=new_id, operation=operation)
    task.decision, task.new_tag_group_id, task.decided_at = action, new_id, decision.created_at
    task.save(update_fields=["decision", "new_tag_group", "decided_at"])
    _refresh_operation(operation)
    return task


@transaction.atomic
def review_decide_bulk(*, user: AbstractBaseUser, run: EngineRun, tag_group_id: int, action: str,
                       queue_filter: selectors.QueueFilter = selectors.PENDING) -> ActionResult:
    """Accept or reject every task of the reviewer's queue (run, category) that matches the filter.

    Tasks already holding ``action`` are left alone. One INSERT … SELECT into the audit log, one UPDATE of the
    tasks, one UPDATE of the flags; the rows share an operation id so undo takes the whole action back.
    """
    _check_reviewer(run.pk, user)
    if action not in BULK_ACTIONS:
        raise ValidationError(f"bulk decisions accept or reject (not {action!r})")
    tasks = (selectors.queue_tasks(user=user, run=run, tag_group_id=tag_group_id, queue_filter=queue_filter)
             .exclude(decision=action))
    return _record_bulk(user=user, tasks=tasks, action=action)


def _record_bulk(*, user: AbstractBaseUser, tasks: QuerySet[ReviewTask], action: str) -> ActionResult:
    operation, now = uuid.uuid4(), timezone.now()
    ids_sql, ids_params = tasks.order_by().values("id").query.sql_with_params()
    decision = table(ReviewDecision)
    insert = (
        f"INSERT INTO {decision} (flag_id, reviewer_id, run_id, action, bulk, created_at, operation) "
        f"SELECT t.flag_id, t.reviewer_id, t.run_id, {param('varchar')}, {param('boolean')}, "
        f"{param('timestamp with time zone')}, {param('uuid')} "
        f"FROM {table(ReviewTask)} t WHERE t.id IN ({ids_sql})"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, [action, True, db_value(ReviewDecision, "created_at", now),
                                db_value(ReviewDecision, "operation", operation), *ids_params])
        count = cursor.rowcount
    if not count:
        return ActionResult(None, 0, action)
    decided = ReviewDecision.objects.filter(operation=operation).values("flag_id")
    ReviewTask.objects.filter(reviewer_id=user.pk, flag_id__in=decided).update(
        decision=action, new_tag_group=None, decided_at=now)
    _refresh_operation(operation)
    return _result(operation, count, action)


def _result(operation: uuid.UUID, count: int, action: str) -> ActionResult:
    # Some of the flags (sorted), for the UI to show where the action happened; unordered in SQL so the read
    # stays on the operation index whatever the size of the action.
    rows = list(ReviewDecision.objects.filter(operation=operation).order_by()
                .values_list("flag_id", "flag__tag_group_id")[:200])
    return ActionResult(operation, count, action, flag_ids=sorted(r[0] for r in rows),
                        tag_group_ids=sorted({r[1] for r in rows}))


def last_action(*, user: AbstractBaseUser, run: EngineRun) -> ReviewDecision | None:
    """The reviewer's latest decision in the run that is not undone (index ``review_decision_last``)."""
    undone = ReviewDecision.objects.filter(undoes=OuterRef("pk"))
    return (ReviewDecision.objects.filter(reviewer_id=user.pk, run=run).exclude(action=ReviewAction.UNDO)
            .filter(~Exists(undone)).order_by("-id").first())


@transaction.atomic
def review_undo(*, user: AbstractBaseUser, run: EngineRun) -> ActionResult:
    """Take back the reviewer's last action in the run (a bulk action as a whole); count 0 if there is none."""
    _check_reviewer(run.pk, user)
    target = last_action(user=user, run=run)
    if target is None:
        return ActionResult(None, 0, ReviewAction.UNDO)
    operation, now = uuid.uuid4(), timezone.now()
    decision = table(ReviewDecision)
    if target.operation is not None:
        which, which_params = "d.operation = %s", [db_value(ReviewDecision, "operation", target.operation)]
    else:
        which, which_params = "d.id = %s", [target.pk]
    insert = (
        f"INSERT INTO {decision} (flag_id, reviewer_id, run_id, action, bulk, created_at, operation, undoes_id) "
        f"SELECT d.flag_id, d.reviewer_id, d.run_id, {param('varchar')}, d.bulk, "
        f"{param('timestamp with time zone')}, {param('uuid')}, d.id FROM {decision} d "
        f"WHERE {which} AND d.reviewer_id = %s AND d.action <> 'undo' "
        f"AND NOT EXISTS (SELECT 1 FROM {decision} u WHERE u.undoes_id = d.id)"
    )
    # Each touched task returns to the reviewer's latest decision on its flag that is not undone (or pending):
    # first all of them to pending, then those with such a decision to it. Only joins against indexed tables,
    # so the plan stays linear even when the planner's row estimates are stale right after a big action.
    task = table(ReviewTask)
    touched = f"SELECT flag_id FROM {decision} WHERE operation = %s"
    reset = (f"UPDATE {task} SET decision = '', new_tag_group_id = NULL, decided_at = NULL "
             f"WHERE reviewer_id = %s AND flag_id IN ({touched})")
    restore = (
        f"UPDATE {task} SET decision = s.action, new_tag_group_id = s.new_tag_group_id, decided_at = s.created_at "
        f"FROM (SELECT d.flag_id, d.action, d.new_tag_group_id, d.created_at FROM {decision} d JOIN ("
        f"  SELECT k.flag_id, MAX(k.id) AS id FROM {decision} k WHERE k.reviewer_id = %s "
        f"     AND k.flag_id IN ({touched}) AND k.action <> 'undo' "
        f"     AND NOT EXISTS (SELECT 1 FROM {decision} u WHERE u.undoes_id = k.id) GROUP BY k.flag_id"
        f") latest ON d.id = latest.id) s "
        f"WHERE {task}.reviewer_id = %s AND {task}.flag_id = s.flag_id"
    )
    op_value = db_value(ReviewDecision, "operation", operation)
    with connection.cursor() as cursor:
        cursor.execute(insert, [ReviewAction.UNDO, db_value(ReviewDecision, "created_at", now), op_value,
                                *which_params, user.pk])
        count = cursor.rowcount
        cursor.execute(reset, [user.pk, op_value])
        cursor.execute(restore, [user.pk, op_value, user.pk])
    _refresh_operation(operation)
    return _result(operation, count, ReviewAction.UNDO)
