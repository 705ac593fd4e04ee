"""Curators assign reviewers and hand out flags: without overlap, or each flag to N distinct reviewers."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import ValidationError

from apps.engine.models import Flag
from apps.review.models import ReviewBatch, ReviewTask, RunReviewer
from apps.review.services.decisions import review_decide
from apps.review.services.work import review_batches_create, run_reviewer_add, run_reviewer_remove

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(run, make_user):
    users = [make_user(name) for name in ("ann", "ben", "cem")]
    for user in users:
        run_reviewer_add(run=run, user=user)
    return users


def test_only_users_with_the_reviewer_role_can_be_assigned(run, make_user):
    with pytest.raises(ValidationError, match="reviewer role"):
        run_reviewer_add(run=run, user=make_user("vera", "viewer"))
    assert RunReviewer.objects.count() == 0


def test_batches_without_overlap_never_hand_a_flag_to_two_reviewers(run, team):
    review_batches_create(run=run, reviewers=team, size=2)
    review_batches_create(run=run, reviewers=team, size=2)

    per_flag = Counter(ReviewTask.objects.values_list("flag_id", flat=True))
    assert len(per_flag) == 12 and set(per_flag.values()) == {1}
    assert Counter(ReviewTask.objects.values_list("reviewer_id", flat=True)) == {u.pk: 4 for u in team}
    assert sorted(ReviewBatch.objects.values_list("size", flat=True)) == [2] * 6


def test_overlap_hands_each_flag_to_n_distinct_reviewers(run, team):
    review_batches_create(run=run, reviewers=team, size=4, overlap=2)

    per_flag = Counter(ReviewTask.objects.values_list("flag_id", flat=True))
    assert len(per_flag) == 6 and set(per_flag.values()) == {2}
    assert Counter(ReviewTask.objects.values_list("reviewer_id", flat=True)) == {u.pk: 4 for u in team}


def test_a_batch_of_one_category_takes_only_its_flags_and_copies_the_tag(run, team, tagged):
    dog = tagged.groups["dog"]

    [batch] = review_batches_create(run=run, reviewers=team[:1], size=50, tag_group=dog)

    assert batch.size == 6 and batch.tag_group == dog
    assert set(ReviewTask.objects.values_list("tag_group_id", flat=True)) == {dog.pk}
    assert set(ReviewTask.objects.values_list("run_id", flat=True)) == {run.pk}


def test_batches_refuse_reviewers_not_assigned_and_bad_overlap(run, team, make_user):
    with pytest.raises(ValidationError, match="not assigned"):
        review_batches_create(run=run, reviewers=[make_user("zed")], size=5)
    with pytest.raises(ValidationError, match="overlap"):
        review_batches_create(run=run, reviewers=team[:2], size=5, overlap=3)


def test_when_every_flag_is_handed_out_a_new_batch_is_refused(run, team):
    review_batches_create(run=run, reviewers=team[:1], size=100)

    with pytest.raises(ValidationError, match="no flags are left"):
        review_batches_create(run=run, reviewers=team[1:], size=5)
    assert ReviewBatch.objects.count() == 1


def test_removing_a_reviewer_releases_their_pending_flags_and_keeps_decisions(run, team):
    ann = team[0]
    review_batches_create(run=run, reviewers=[ann], size=3)
    decided = ReviewTask.objects.filter(reviewer=ann).order_by("flag_id").first()
    review_decide(user=ann, flag=decided.flag, action="reject")

    released = run_reviewer_remove(run=run, user=ann)

    assert released == 2
    assert list(ReviewTask.objects.values_list("flag_id", flat=True)) == [decided.flag_id]
    assert Flag.objects.get(pk=decided.flag_id).status == "rejected"
    assert not RunReviewer.objects.filter(user=ann).exists()
