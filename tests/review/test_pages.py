"""Review pages: who sees what, the queue card (box overlay, evidence, neighbours, shortcuts), decisions, bulk,
undo and the management page's actions."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.engine.models import Flag
from apps.review.models import ReviewApplication, ReviewBatch, ReviewDecision, ReviewTask, RunReviewer

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queue_url(work, **query) -> str:
    url = reverse("review:queue", args=[work.run.pk, work.dog])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_review_pages_are_linked_from_the_navigation(reviewer):
    page = client_for(reviewer).get(reverse("home"))

    assert reverse("review:home") in page.content.decode()


def test_run_home_lists_my_categories_and_batches_for_an_assigned_reviewer(work, reviewer):
    page = client_for(reviewer).get(reverse("review:run", args=[work.run.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert queue_url(work) in html and reverse("review:queue", args=[work.run.pk, work.grass]) in html
    assert 'id="my-batches"' in html and "0 / 12" in html
    assert reverse("review:run-progress", args=[work.run.pk]) in html


def test_viewers_read_the_run_and_its_progress_but_not_the_queue(work, make_user):
    viewer = client_for(make_user("vera", "viewer"))

    assert viewer.get(reverse("review:home")).status_code == 200
    run_page = viewer.get(reverse("review:run", args=[work.run.pk]))
    assert run_page.status_code == 200 and 'id="my-categories"' not in run_page.content.decode()
    progress = viewer.get(reverse("review:run-progress", args=[work.run.pk]))
    assert progress.status_code == 200 and "0 / 12" in progress.content.decode()
    assert viewer.get(queue_url(work)).status_code == 403
    flag = work.flags()[0]
    assert viewer.post(reverse("review:decide", args=[flag.pk]), {"action": "accept"}).status_code == 403
    assert viewer.get(reverse("review:manage", args=[work.run.pk])).status_code == 403


def test_a_reviewer_not_assigned_to_the_run_gets_404_for_its_queue_and_flags(work, make_user):
    other = client_for(make_user("otto"))
    flag = work.flags()[0]

    assert other.get(queue_url(work)).status_code == 404
    assert other.post(reverse("review:decide", args=[flag.pk]), {"action": "reject"}).status_code == 404
    assert other.get(reverse("review:neighbours", args=[flag.pk])).status_code == 404
    assert other.post(reverse("review:undo", args=[work.run.pk])).status_code == 404
    assert other.post(reverse("review:bulk", args=[work.run.pk, work.dog]), {"action": "reject"}).status_code == 404
    assert not ReviewDecision.objects.exists()


def test_the_queue_shows_the_image_with_the_box_evidence_and_shortcuts(work, reviewer):
    flag = work.flags()[0]
    Flag.objects.filter(pk=flag.pk).update(by_rejection=True, score=0.125, threshold=0.5, label_quality=0.25)

    page = client_for(reviewer).get(queue_url(work))

    html = page.content.decode()
    assert page.status_code == 200
    card = html[html.index(f'id="f{flag.pk}"'):]
    assert reverse("review:image-thumb", args=[flag.image_id]) + "?size=768" in card
    assert re.search(r'<svg class="overlay" viewBox="0 0 64 48"', card)
    assert '<rect x="4.0" y="4.0" width="20.0" height="16.0">' in card
    assert "cluster_outlier" in card and "baseline_rejection" in card
    assert "0.125" in card and "0.500" in card and "0.250" in card  # score / threshold, label quality
    assert "farther than 90 %" in card  # percentile
    assert reverse("review:neighbours", args=[flag.pk]) in card
    for key in ("a", "r", "c", "u", "j", "k", "?"):
        assert f"<kbd>{key}</kbd>" in html
    assert "review/review.js" in html
    data = json.loads(re.search(r'<script id="queue-data" type="application/json">(.*?)</script>', html).group(1))
    assert data["category"] == "dog" and [f["id"] for f in data["flags"]] == [f.pk for f in work.flags()]


def test_the_queue_pages_on_with_a_keyset_link(work, reviewer):
    flags = work.flags()

    page = client_for(reviewer).get(queue_url(work, limit=4))

    data = json.loads(re.search(r'<script id="queue-data" type="application/json">(.*?)</script>',
                                page.content.decode()).group(1))
    assert f"after={flags[3].pk}" in data["nextUrl"] and "limit=4" in data["nextUrl"]
    second = client_for(reviewer).get(data["nextUrl"])
    assert f'id="f{flags[4].pk}"' in second.content.decode() and f'id="f{flags[0].pk}"' not in second.content.decode()


def test_neighbours_fragment_shows_thumbnails_of_the_same_cluster(work, reviewer):
    flag = work.flags()[0]
    same = [f for f in work.flags()[1:] if f.cluster == flag.cluster]

    html = client_for(reviewer).get(reverse("review:neighbours", args=[flag.pk])).content.decode()

    assert html.count('class="neighbour"') == len(same) >= 1
    assert reverse("review:image-thumb", args=[same[0].image_id]) + "?size=128&amp;box=4%2C4%2C20%2C16" in html


def test_deciding_through_fetch_answers_the_updated_card(work, reviewer):
    flag = work.flags()[0]

    response = client_for(reviewer).post(reverse("review:decide", args=[flag.pk]), {"action": "reject"},
                                         headers={"X-Requested-With": "fetch"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<article") and 'data-decision="reject"' in html
    assert ReviewTask.objects.get(flag=flag).decision == "reject"


def test_change_with_the_tag_search_box(work, reviewer):
    flag = work.flags()[0]
    client = client_for(reviewer)

    results = client.get(reverse("review:tag-search", args=[flag.pk]), {"q": "ca"}).content.decode()
    cat = work.tagged.groups["cat"].pk
    assert f'value="{cat}"' in results and ">cat" in results
    response = client.post(reverse("review:decide", args=[flag.pk]), {"action": "change", "new_tag_group": cat},
                           headers={"X-Requested-With": "fetch"})

    assert 'data-decision="change"' in response.content.decode() and "changed to" in response.content.decode()
    flag.refresh_from_db()
    assert (flag.status, flag.resolved_tag_group_id) == ("changed", cat)


def test_a_bad_change_answers_the_card_with_the_error(work, reviewer):
    flag = work.flags()[0]

    response = client_for(reviewer).post(reverse("review:decide", args=[flag.pk]),
                                         {"action": "change", "new_tag_group": work.dog},
                                         headers={"X-Requested-With": "fetch"})

    assert response.status_code == 400 and "accept the flag instead" in response.content.decode()


def test_bulk_reject_of_a_cluster_then_undo_from_the_page(work, reviewer):
    client = client_for(reviewer)
    cluster = [f for f in work.flags() if f.cluster == 1]

    response = client.post(reverse("review:bulk", args=[work.run.pk, work.dog]),
                           {"action": "reject", "cluster": 1, "status": "pending"}, follow=True)

    assert f"rejected {len(cluster)} flag(s) of cluster 1" in response.content.decode()
    assert set(Flag.objects.filter(pk__in=[f.pk for f in cluster]).values_list("status", flat=True)) == {"rejected"}
    undone = client.post(reverse("review:undo", args=[work.run.pk]), {"status": "pending"})
    assert undone.status_code == 302 and f"#f{cluster[0].pk}" in undone["Location"]
    assert set(Flag.objects.filter(pk__in=[f.pk for f in cluster]).values_list("status", flat=True)) == {"open"}


def test_undo_with_nothing_to_undo_goes_back(work, reviewer):
    response = client_for(reviewer).post(reverse("review:undo", args=[work.run.pk]),
                                         {"next": queue_url(work)})

    assert response.status_code == 302 and response["Location"] == queue_url(work)


def test_undo_refuses_an_offsite_next(work, reviewer):
    response = client_for(reviewer).post(reverse("review:undo", args=[work.run.pk]),
                                         {"next": "https://evil.example/"})

    assert response["Location"] == reverse("review:run", args=[work.run.pk])


def test_queue_progress_fragment_counts_my_decisions(work, reviewer):
    client = client_for(reviewer)
    client.post(reverse("review:decide", args=[work.flags()[0].pk]), {"action": "accept"})

    html = client.get(reverse("review:queue-progress", args=[work.run.pk, work.dog])).content.decode()

    assert "1 / 6 decided" in html and "5 pending" in html


def test_curators_assign_reviewers_make_batches_and_apply(run, tagged, curator, make_user,
                                                          django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("celery.current_app.send_task", lambda *a, **kw: None)
    client = client_for(curator)
    ann, ben = make_user("ann"), make_user("ben")

    manage = client.get(reverse("review:manage", args=[run.pk]))
    assert manage.status_code == 200 and ">ann<" in manage.content.decode()
    for user in (ann, ben):
        assert client.post(reverse("review:reviewer-add", args=[run.pk]), {"user": user.pk}).status_code == 302
    response = client.post(reverse("review:batches-create", args=[run.pk]),
                           {"reviewers": [ann.pk, ben.pk], "size": 3, "overlap": 2,
                            "tag_group": tagged.groups["dog"].pk})
    assert response.status_code == 302
    assert ReviewBatch.objects.count() == 2 and ReviewTask.objects.count() == 6
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("review:apply", args=[run.pk]), {"unreviewed": "keep"})
    assert response.status_code == 302
    application = ReviewApplication.objects.get()
    assert application.job.kind == "apply_review"
    page = client.get(reverse("review:manage", args=[run.pk])).content.decode()
    assert f'data-application="{application.pk}"' in page and "every 1s" in page
    agreement = client.get(reverse("review:agreement", args=[run.pk]))
    assert agreement.status_code == 200
    assert client.post(reverse("review:reviewer-remove", args=[run.pk, ann.pk])).status_code == 302
    assert list(RunReviewer.objects.values_list("user__username", flat=True)) == ["ben"]


def test_reviewers_cannot_manage(work, reviewer):
    client = client_for(reviewer)

    assert client.get(reverse("review:manage", args=[work.run.pk])).status_code == 403
    assert client.post(reverse("review:apply", args=[work.run.pk]), {"unreviewed": "keep"}).status_code == 403
    assert client.post(reverse("review:batches-create", args=[work.run.pk]), {}).status_code == 403


def test_apply_of_a_version_that_is_no_longer_the_tip_shows_the_error(work, curator):
    from apps.datasets.services.versions import dataset_version_create_child, dataset_version_seal

    dataset_version_seal(version=dataset_version_create_child(parent=work.run.dataset_version))

    response = client_for(curator).post(reverse("review:apply", args=[work.run.pk]), {"unreviewed": "keep"})

    assert response.status_code == 400 and "applies only to the tip" in response.content.decode()
    assert not ReviewApplication.objects.exists()
