"""Apply review: a child version of the run's input with rejected tags removed and changed ones replaced."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.datasets import selectors as dataset_selectors
from apps.datasets.models import DatasetVersion, TagAssignment
from apps.datasets.services.versions import dataset_version_create_child, dataset_version_seal
from apps.jobs.kinds import get_kind
from apps.jobs.models import Job, JobState
from apps.review.models import ReviewApplication
from apps.review.services.apply import review_apply_inline, review_apply_launch
from apps.review.services.decisions import review_decide

pytestmark = pytest.mark.django_db


def _live(version: DatasetVersion) -> set[tuple[int, str, str]]:
    """(image, tag text, source) of every assignment the version sees."""
    names = {g.pk: text for text, g in _groups(version).items()}
    return {(a.image_id, names[a.tag_group_id], a.source)
            for a in dataset_selectors.version_assignments(version=version)}


def _groups(version):
    from apps.labels.models import TagGroup

    groups = TagGroup.objects.filter(version_id=version.label_system_version_id)
    return {g.tags.order_by("position").first().text: g for g in groups}


@pytest.fixture
def decided(work, reviewer):
    """dog flags of images 0..5: accept 0, reject 1, change 2 → cat, change 3 → grass (already there); rest open."""
    dog = work.flags("dog")
    groups = work.tagged.groups
    review_decide(user=reviewer, flag=dog[0], action="accept")
    review_decide(user=reviewer, flag=dog[1], action="reject")
    review_decide(user=reviewer, flag=dog[2], action="change", new_tag_group=groups["cat"])
    review_decide(user=reviewer, flag=dog[3], action="change", new_tag_group=groups["grass"])
    return work


def test_apply_removes_rejected_replaces_changed_and_keeps_the_rest(decided, curator):
    images = [i.pk for i in decided.tagged.images]

    application, result = review_apply_inline(run=decided.run, unreviewed="keep", user=curator)

    child = application.output_version
    assert child.sealed and child.parent_id == decided.run.dataset_version_id and child.seq == 2
    live = _live(child)
    assert (images[0], "dog", "parsed") in live
    assert (images[1], "dog", "parsed") not in live
    assert (images[2], "dog", "parsed") not in live and (images[2], "cat", "manual") in live
    assert (images[3], "dog", "parsed") not in live and (images[3], "grass", "parsed") in live
    assert not any(i == images[3] and source == "manual" for i, _, source in live)  # grass was already there
    assert (images[4], "dog", "parsed") in live and (images[5], "dog", "parsed") in live  # open, kept
    assert len(live) == 12 - 3 + 1
    counts = application.counts
    assert counts["outcomes"] == {"open": 8, "accepted": 1, "rejected": 1, "changed": 2}
    assert (counts["removed"], counts["replaced"], counts["kept"]) == (1, 2, 9)
    assert (counts["assignments_removed"], counts["assignments_added"]) == (3, 1)
    assert counts["version_counts"]["assignments"] == 10
    assert result["version_id"] == child.pk
    assert application.job.state == JobState.SUCCEEDED and application.job.kind == "apply_review"
    assert child.job_id == application.job_id


def test_the_parent_version_is_unchanged(decided, curator):
    parent = decided.run.dataset_version
    before = _live(parent)

    review_apply_inline(run=decided.run, user=curator)

    assert _live(parent) == before


def test_dropping_unreviewed_flags_removes_their_tags_too(decided, curator):
    application, _ = review_apply_inline(run=decided.run, unreviewed="drop", user=curator)

    images = [i.pk for i in decided.tagged.images]
    live = _live(application.output_version)
    # The accepted dog and the two replacements; image 3's parsed grass was an unreviewed flag (dropped), so the
    # change dog → grass adds grass back as a manual tag.
    assert live == {(images[0], "dog", "parsed"), (images[2], "cat", "manual"), (images[3], "grass", "manual")}
    assert application.counts["dropped_unreviewed"] == 8


def test_rerunning_the_same_job_does_not_apply_twice(decided, curator):
    application, first = review_apply_inline(run=decided.run, user=curator)
    rows = TagAssignment.objects.count()

    again, second = review_apply_inline(run=decided.run, user=curator, job=application.job)

    assert again.pk == application.pk and second == first
    assert TagAssignment.objects.count() == rows
    assert DatasetVersion.objects.filter(dataset=decided.tagged.version.dataset).count() == 2


def test_a_second_application_of_the_same_run_is_refused(decided, curator):
    review_apply_inline(run=decided.run, user=curator)

    with pytest.raises(ValidationError, match="already applied"):
        review_apply_inline(run=decided.run, user=curator)
    with pytest.raises(ValidationError, match="already applied"):
        review_apply_launch(run=decided.run, user=curator)


def test_applying_to_a_version_that_is_not_the_tip_is_refused_clearly(decided, curator):
    newer = dataset_version_seal(version=dataset_version_create_child(parent=decided.run.dataset_version))

    with pytest.raises(ValidationError, match=f"tip of dataset .* is now v{newer.seq}"):
        review_apply_launch(run=decided.run, user=curator)
    assert ReviewApplication.objects.count() == 0


def test_launch_queues_an_apply_review_job_on_the_cpu_queue(decided, curator, django_capture_on_commit_callbacks,
                                                           monkeypatch):
    sent = []
    monkeypatch.setattr("celery.current_app.send_task", lambda name, **kw: sent.append((name, kw)))

    with django_capture_on_commit_callbacks(execute=True):
        application = review_apply_launch(run=decided.run, unreviewed="drop", user=curator)

    assert application.job.kind == "apply_review" and application.job.queue == "cpu"
    assert application.job.params["unreviewed"] == "drop"
    assert sent == [("cpu.apply_review", {"args": [application.job.pk], "queue": "cpu"})]
    with pytest.raises(ValidationError, match="already being applied"):
        review_apply_launch(run=decided.run, user=curator)


def test_the_job_kind_needs_the_manage_permission_and_a_worker_task_exists(reviewer, curator, decided):
    from apps.jobs.services import job_launch
    from workers import tasks

    assert get_kind("apply_review").permission == "review.manage_reviews"
    assert tasks.apply_review.name == "cpu.apply_review"
    with pytest.raises(PermissionDenied, match=r"review\.manage_reviews"):
        job_launch(kind="apply_review", params={"run_id": decided.run.pk}, user=reviewer)


def test_the_worker_body_applies_through_the_job_context(decided, curator):
    from apps.jobs.services import job_launch, job_start
    from workers.base import JobContext
    from workers.review import run_apply_review

    job = job_launch(kind="apply_review", params={"run_id": decided.run.pk, "shard_size": 2})
    ctx = JobContext(job_start(job_id=job.pk, worker_host="pytest"))

    result = run_apply_review(ctx)

    application = ReviewApplication.objects.get(job=ctx.job)
    assert result["version_id"] == application.output_version_id
    assert application.counts["assignments_removed"] == 3
    assert Job.objects.get(pk=ctx.job.pk).cursor["phase"] == "done"
