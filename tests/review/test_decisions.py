"""Decisions: recorded in the append-only log, reflected in the task and the flag's status; bulk and undo."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from apps.engine.models import Flag, FlagStatus
from apps.review.models import ReviewDecision, ReviewTask
from apps.review.selectors import QueueFilter
from apps.review.services.decisions import review_decide, review_decide_bulk, review_undo
from apps.review.services.work import review_batches_create, run_reviewer_add
from tests.datasets.factories import label_system_version_with_tags

pytestmark = pytest.mark.django_db


def _status(flag: Flag) -> tuple[str, int | None]:
    flag.refresh_from_db()
    return flag.status, flag.resolved_tag_group_id


def test_a_decision_is_logged_with_reviewer_and_time_and_sets_the_flag_status(work, reviewer):
    flag = work.flags()[0]

    task = review_decide(user=reviewer, flag=flag, action="reject")

    row = ReviewDecision.objects.get()
    assert (row.flag_id, row.reviewer_id, row.action, row.run_id, row.bulk) == (flag.pk, reviewer.pk, "reject",
                                                                                 work.run.pk, False)
    assert row.created_at is not None
    assert task.decision == "reject" and task.decided_at == row.created_at
    assert _status(flag) == (FlagStatus.REJECTED, None)


def test_change_replaces_the_tag_with_another_of_the_same_label_system_version(work, reviewer):
    flag = work.flags()[0]
    cat = work.tagged.groups["cat"]

    review_decide(user=reviewer, flag=flag, action="change", new_tag_group=cat)

    assert _status(flag) == (FlagStatus.CHANGED, cat.pk)
    assert ReviewDecision.objects.get().new_tag_group_id == cat.pk


def test_change_to_a_tag_of_another_label_system_version_is_refused(work, reviewer):
    foreign = label_system_version_with_tags(["cat"]).groups.get()

    with pytest.raises(ValidationError, match="same label-system version"):
        review_decide(user=reviewer, flag=work.flags()[0], action="change", new_tag_group=foreign)
    with pytest.raises(ValidationError):
        review_decide(user=reviewer, flag=work.flags()[0], action="change", new_tag_group=None)


def test_a_reviewer_not_assigned_to_the_run_cannot_decide(work, make_user):
    other = make_user("otto")

    with pytest.raises(PermissionDenied):
        review_decide(user=other, flag=work.flags()[0], action="accept")


def test_a_viewer_cannot_decide_even_when_assigned_rows_exist(work, make_user):
    viewer = make_user("vera", "viewer")

    with pytest.raises(PermissionDenied):
        review_decide(user=viewer, flag=work.flags()[0], action="accept")


def test_repeating_the_current_decision_records_nothing(work, reviewer):
    flag = work.flags()[0]
    review_decide(user=reviewer, flag=flag, action="accept")

    review_decide(user=reviewer, flag=flag, action="accept")

    assert ReviewDecision.objects.count() == 1


def test_the_decision_log_refuses_updates_and_deletes(work, reviewer):
    review_decide(user=reviewer, flag=work.flags()[0], action="accept")
    row = ReviewDecision.objects.get()

    with pytest.raises(ValueError):
        row.save()
    with pytest.raises(ValueError):
        row.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE review_reviewdecision SET action = 'reject' WHERE id = %s", [row.pk])
    assert ReviewDecision.objects.get().action == "accept"


def test_undo_returns_to_the_previous_decision_and_is_itself_logged(work, reviewer):
    flag = work.flags()[0]
    review_decide(user=reviewer, flag=flag, action="accept")
    review_decide(user=reviewer, flag=flag, action="reject")

    result = review_undo(user=reviewer, run=work.run)

    assert result.count == 1 and result.flag_ids == [flag.pk]
    assert ReviewTask.objects.get(flag=flag).decision == "accept"
    assert _status(flag) == (FlagStatus.ACCEPTED, None)
    assert list(ReviewDecision.objects.order_by("id").values_list("action", flat=True)) == ["accept", "reject", "undo"]


def test_undo_again_walks_further_back_then_has_nothing_left(work, reviewer):
    first, second = work.flags()[:2]
    review_decide(user=reviewer, flag=first, action="reject")
    review_decide(user=reviewer, flag=second, action="reject")

    review_undo(user=reviewer, run=work.run)
    review_undo(user=reviewer, run=work.run)

    assert set(ReviewTask.objects.filter(flag__in=[first, second]).values_list("decision", flat=True)) == {""}
    assert _status(first) == (FlagStatus.OPEN, None)
    assert review_undo(user=reviewer, run=work.run).count == 0


def test_undo_takes_back_only_this_reviewers_own_last_action(work, reviewer, make_user):
    other = make_user("otto")
    run_reviewer_add(run=work.run, user=other)
    mine = work.flags()[0]
    review_decide(user=reviewer, flag=mine, action="reject")

    assert review_undo(user=other, run=work.run).count == 0
    assert ReviewTask.objects.get(flag=mine).decision == "reject"


def test_bulk_reject_of_a_cluster_decides_only_my_pending_flags_of_that_cluster(work, reviewer):
    dog = work.flags()
    cluster_two = [f for f in dog if f.cluster == 2]
    review_decide(user=reviewer, flag=cluster_two[0], action="accept")

    result = review_decide_bulk(user=reviewer, run=work.run, tag_group_id=work.dog, action="reject",
                                queue_filter=QueueFilter(cluster=2))

    assert result.count == len(cluster_two) - 1
    assert ReviewDecision.objects.filter(bulk=True).count() == result.count
    assert len(set(ReviewDecision.objects.filter(bulk=True).values_list("operation", flat=True))) == 1
    statuses = {f.pk: _status(f)[0] for f in dog}
    assert statuses[cluster_two[0].pk] == FlagStatus.ACCEPTED
    assert all(statuses[f.pk] == FlagStatus.REJECTED for f in cluster_two[1:])
    assert all(statuses[f.pk] == FlagStatus.OPEN for f in dog if f.cluster != 2)


def test_bulk_over_a_status_filter_changes_decided_tasks_too(work, reviewer):
    flags = work.flags()
    for flag in flags[:3]:
        review_decide(user=reviewer, flag=flag, action="accept")

    result = review_decide_bulk(user=reviewer, run=work.run, tag_group_id=work.dog, action="reject",
                                queue_filter=QueueFilter(status="accept"))

    assert result.count == 3
    assert [_status(f)[0] for f in flags[:4]] == ["rejected"] * 3 + ["open"]


def test_undo_of_a_bulk_action_takes_it_back_as_a_whole(work, reviewer):
    dog = work.flags()
    review_decide(user=reviewer, flag=dog[0], action="accept")
    review_decide_bulk(user=reviewer, run=work.run, tag_group_id=work.dog, action="reject")

    result = review_undo(user=reviewer, run=work.run)

    assert result.count == len(dog) - 1
    assert _status(dog[0])[0] == FlagStatus.ACCEPTED
    assert all(_status(f)[0] == FlagStatus.OPEN for f in dog[1:])
    assert ReviewDecision.objects.filter(action="undo", bulk=True).count() == len(dog) - 1


def test_undo_after_bulk_and_a_later_single_decision_restores_the_bulk_decision(work, reviewer):
    dog = work.flags()
    review_decide_bulk(user=reviewer, run=work.run, tag_group_id=work.dog, action="reject")
    review_decide(user=reviewer, flag=dog[0], action="accept")

    review_undo(user=reviewer, run=work.run)

    assert ReviewTask.objects.get(flag=dog[0]).decision == "reject"
    review_undo(user=reviewer, run=work.run)
    assert set(ReviewTask.objects.filter(flag__in=dog).values_list("decision", flat=True)) == {""}


@pytest.fixture
def trio(run, tagged, make_user):
    users = [make_user(name) for name in ("ann", "ben", "cem")]
    for user in users:
        run_reviewer_add(run=run, user=user)
    review_batches_create(run=run, reviewers=users, size=100, overlap=3)
    return users


def test_with_overlap_the_flag_follows_the_majority_and_stays_open_without_one(run, tagged, trio):
    ann, ben, cem = trio
    flag = Flag.objects.filter(run=run).order_by("id").first()

    review_decide(user=ann, flag=flag, action="reject")
    assert _status(flag)[0] == FlagStatus.OPEN  # 1 of 3 is no majority
    review_decide(user=ben, flag=flag, action="accept")
    assert _status(flag)[0] == FlagStatus.OPEN
    review_decide(user=cem, flag=flag, action="reject")
    assert _status(flag)[0] == FlagStatus.REJECTED


def test_with_two_way_overlap_a_tie_stays_open(run, tagged, make_user):
    ann, ben = make_user("ann"), make_user("ben")
    for user in (ann, ben):
        run_reviewer_add(run=run, user=user)
    review_batches_create(run=run, reviewers=[ann, ben], size=100, overlap=2)
    flag = Flag.objects.filter(run=run).order_by("id").first()
    cat = tagged.groups["cat"]

    review_decide(user=ann, flag=flag, action="change", new_tag_group=cat)
    review_decide(user=ben, flag=flag, action="reject")
    assert _status(flag) == (FlagStatus.OPEN, None)

    review_decide(user=ben, flag=flag, action="change", new_tag_group=cat)
    assert _status(flag) == (FlagStatus.CHANGED, cat.pk)
