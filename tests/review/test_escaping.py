"""Tag texts, captions and run names are escaped on every review page and in the page's JSON data."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.datasets.models import Caption
from apps.datasets.services.versions import dataset_version_create_child, dataset_version_seal
from apps.review.services.decisions import review_decide
from apps.review.services.work import review_batches_create, run_reviewer_add
from tests.engine.factories import TaggedVersion, flagged_run, tagged_version

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")


@pytest.fixture
def hostile(image_root, make_user, curator):
    tagged = tagged_version(images=3, tags=[SCRIPT, IMG, "cat"], tags_per_image=(SCRIPT, IMG),
                            image_root=str(image_root / "hostile"))
    child = dataset_version_create_child(parent=tagged.version)
    Caption.objects.bulk_create(Caption(dataset_id=child.dataset_id, image=image, text=f"a dog {SCRIPT} {IMG}",
                                        added_in_seq=child.seq) for image in tagged.images)
    child = dataset_version_seal(version=child)
    tagged = TaggedVersion(child, tagged.images, tagged.groups, tagged.assignments)
    run = flagged_run(tagged, clusters=1, name=f"run {SCRIPT}{IMG}")
    reviewer, other = make_user("rita"), make_user("ben")
    for user in (reviewer, other):
        run_reviewer_add(run=run, user=user)
    review_batches_create(run=run, reviewers=[reviewer, other], size=10, overlap=2)
    flag = run.flags.order_by("id").first()
    for user in (reviewer, other):
        review_decide(user=user, flag=flag, action="change", new_tag_group=tagged.groups[IMG])
    return run, tagged, reviewer, curator, flag


def _clean(html: str) -> None:
    for raw in RAW:
        assert raw not in html


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_review_page_escapes_tag_text_captions_and_names(hostile):
    run, tagged, reviewer, curator, flag = hostile
    script_group = tagged.groups[SCRIPT].pk
    as_reviewer, as_curator = client_for(reviewer), client_for(curator)
    pages = {
        "home": as_reviewer.get(reverse("review:home")),
        "run": as_reviewer.get(reverse("review:run", args=[run.pk])),
        "progress": as_reviewer.get(reverse("review:run-progress", args=[run.pk])),
        "queue": as_reviewer.get(reverse("review:queue", args=[run.pk, script_group]) + "?status=change"),
        "card": as_reviewer.get(reverse("review:card", args=[flag.pk])),
        "decide": as_reviewer.post(reverse("review:decide", args=[flag.pk]), {"action": "change",
                                   "new_tag_group": tagged.groups[IMG].pk}, headers={"X-Requested-With": "fetch"}),
        "tags": as_reviewer.get(reverse("review:tag-search", args=[flag.pk]), {"q": "img"}),
        "neighbours": as_reviewer.get(reverse("review:neighbours", args=[flag.pk])),
        "manage": as_curator.get(reverse("review:manage", args=[run.pk])),
        "agreement": as_curator.get(reverse("review:agreement", args=[run.pk])),
        "applications": as_curator.get(reverse("review:applications", args=[run.pk])),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        _clean(response.content.decode())
    escaped_script = "&lt;script&gt;alert(1)&lt;/script&gt;"
    escaped_img = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    for name in ("run", "progress", "queue", "card", "manage", "agreement"):
        assert escaped_script in pages[name].content.decode(), name
    for name in ("queue", "card", "decide", "tags", "manage"):
        assert escaped_img in pages[name].content.decode(), name
    queue = pages["queue"].content.decode()
    assert f"a dog {escaped_script}" in queue  # the caption
    data = re.search(r'<script id="queue-data" type="application/json">(.*?)</script>', queue, re.S).group(1)
    assert "\\u003Cscript\\u003E" in data and json.loads(data)["category"] == SCRIPT


def test_the_api_returns_tag_text_as_data(hostile):
    run, tagged, reviewer, _, _ = hostile
    client = client_for(reviewer)

    response = client.get(reverse("reviewrun-queue", args=[run.pk]),
                          {"category": tagged.groups[SCRIPT].pk, "status": "change"})

    assert response["Content-Type"].startswith("application/json")
    item = response.json()["results"][0]
    assert item["tag"] == SCRIPT and item["new_tag"] == IMG
    assert item["captions"][0] == f"a dog {SCRIPT} {IMG}"
