"""Review API: queue, decide, bulk, undo for assigned reviewers; assign, batches, apply for curators; reads."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.engine.models import Flag
from apps.review.models import ReviewApplication, ReviewBatch, ReviewDecision, RunReviewer

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_queue_returns_my_next_flags_with_evidence_and_a_keyset_cursor(work, reviewer):
    dog = work.flags()
    client = api(reviewer)

    first = client.get(reverse("reviewrun-queue", args=[work.run.pk]), {"category": work.dog, "limit": 4}).json()
    second = client.get(reverse("reviewrun-queue", args=[work.run.pk]),
                        {"category": work.dog, "limit": 4, "after": first["next_after"]}).json()

    assert [r["flag"] for r in first["results"]] == [f.pk for f in dog[:4]] and first["next_after"] == dog[3].pk
    assert [r["flag"] for r in second["results"]] == [f.pk for f in dog[4:]] and second["next_after"] is None
    item = first["results"][0]
    assert item["tag"] == "dog" and item["box"] == [4.0, 4.0, 20.0, 16.0] and item["reasons"] == ["cluster_outlier"]
    assert item["thumbnail_url"] == reverse("review:image-thumb", args=[dog[0].image_id]) + "?size=256"
    assert (item["width"], item["height"], item["decision"]) == (64, 48, "")


def test_queue_needs_a_category(work, reviewer):
    assert api(reviewer).get(reverse("reviewrun-queue", args=[work.run.pk])).status_code == 400


def test_decide_bulk_and_undo(work, reviewer):
    client = api(reviewer)
    dog = work.flags()

    decided = client.post(reverse("reviewflag-decide", args=[dog[0].pk]),
                          {"action": "change", "new_tag_group": work.tagged.groups["cat"].pk}, format="json")
    bulk = client.post(reverse("reviewrun-bulk-decide", args=[work.run.pk]),
                       {"category": work.dog, "action": "reject", "cluster": 1}, format="json")

    assert decided.status_code == 200 and decided.json()["status"] == "changed"
    assert bulk.status_code == 200 and bulk.json()["count"] == len([f for f in dog if f.cluster == 1])
    undo = client.post(reverse("reviewrun-undo", args=[work.run.pk]), format="json").json()
    assert undo["count"] == bulk.json()["count"] and undo["action"] == "undo"
    assert Flag.objects.filter(run=work.run, status="rejected").count() == 0
    assert client.get(reverse("reviewflag-detail", args=[dog[0].pk])).json()["status"] == "changed"


def test_a_bad_decision_is_a_400(work, reviewer):
    response = api(reviewer).post(reverse("reviewflag-decide", args=[work.flags()[0].pk]),
                                  {"action": "change"}, format="json")

    assert response.status_code == 400 and not ReviewDecision.objects.exists()


def test_reviewers_not_assigned_to_the_run_are_refused(work, make_user):
    client = api(make_user("otto"))
    flag = work.flags()[0]

    assert client.get(reverse("reviewrun-queue", args=[work.run.pk]), {"category": work.dog}).status_code == 403
    assert client.post(reverse("reviewrun-undo", args=[work.run.pk])).status_code == 403
    assert client.post(reverse("reviewrun-bulk-decide", args=[work.run.pk]),
                       {"category": work.dog, "action": "reject"}, format="json").status_code == 403
    assert client.post(reverse("reviewflag-decide", args=[flag.pk]), {"action": "accept"}).status_code == 404
    assert client.get(reverse("reviewflag-detail", args=[flag.pk])).status_code == 404
    assert not ReviewDecision.objects.exists()


def test_viewers_read_progress_and_agreement_but_cannot_decide(work, make_user):
    client = api(make_user("vera", "viewer"))

    progress = client.get(reverse("reviewrun-progress", args=[work.run.pk]))
    assert progress.status_code == 200 and progress.json()["flags"] == 12
    assert client.get(reverse("reviewrun-agreement", args=[work.run.pk])).status_code == 200
    assert client.post(reverse("reviewflag-decide", args=[work.flags()[0].pk]), {"action": "accept"}).status_code == 403
    assert client.get(reverse("reviewbatch-list")).json()["results"] == []  # no batches of their own


def test_curators_assign_batch_and_apply(run, tagged, curator, make_user, monkeypatch,
                                         django_capture_on_commit_callbacks):
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **kw: None)
    ann, ben = make_user("ann"), make_user("ben")
    client = api(curator)

    assigned = client.post(reverse("reviewrun-assign-reviewers", args=[run.pk]), {"users": [ann.pk, ben.pk]},
                           format="json")
    batches = client.post(reverse("reviewrun-batches", args=[run.pk]),
                          {"reviewers": [ann.pk, ben.pk], "size": 6, "overlap": 2}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(reverse("reviewrun-apply", args=[run.pk]), {"unreviewed": "drop"}, format="json")

    assert [r["username"] for r in assigned.json()] == ["ann", "ben"]
    assert batches.status_code == 201 and [b["size"] for b in batches.json()] == [6, 6]
    assert applied.status_code == 201 and applied.json()["unreviewed"] == "drop"
    assert ReviewApplication.objects.get().job.kind == "apply_review"
    assert len(client.get(reverse("reviewbatch-list")).json()["results"]) == 2
    removed = client.post(reverse("reviewrun-remove-reviewer", args=[run.pk]), {"user": ann.pk}, format="json")
    assert removed.json() == {"released": 6} and RunReviewer.objects.count() == 1


def test_assigning_a_user_without_the_reviewer_role_is_a_400(run, curator, make_user):
    response = api(curator).post(reverse("reviewrun-assign-reviewers", args=[run.pk]),
                                 {"users": [make_user("vera", "viewer").pk]}, format="json")

    assert response.status_code == 400


def test_reviewers_see_their_own_decisions_curators_all(work, reviewer, curator, make_user):
    other = make_user("otto")
    api(reviewer).post(reverse("reviewflag-decide", args=[work.flags()[0].pk]), {"action": "accept"})

    assert len(api(reviewer).get(reverse("reviewdecision-list")).json()["results"]) == 1
    assert api(other).get(reverse("reviewdecision-list")).json()["results"] == []
    assert len(api(curator).get(reverse("reviewdecision-list")).json()["results"]) == 1
    assert len(api(reviewer).get(reverse("reviewbatch-list")).json()["results"]) == ReviewBatch.objects.count()
