"""Reviewers and curators in a real browser: review a queue with the keyboard alone, bulk-reject a cluster and
undo it, and apply the review as a new dataset version (on a real worker) whose counts the page shows."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.services import user_create
from apps.datasets.models import DatasetVersion
from apps.engine.models import Flag
from apps.review.models import ReviewApplication, ReviewDecision, ReviewTask
from apps.review.services.decisions import review_decide
from apps.review.services.work import review_batches_create, run_reviewer_add
from tests.engine.factories import flagged_run, tagged_version, write_images

pytestmark = [pytest.mark.browser]


@pytest.fixture
def review_data(settings, tmp_path, transactional_db):
    """Six images on disk tagged dog and grass, a cleaning run flagging all 12 tags (dog clusters 0,2,1,0,2,1)."""
    root = tmp_path / "images"
    root.mkdir()
    settings.LABELHUB_IMAGE_ROOTS = [root]
    settings.LABELHUB_THUMBNAIL_DIR = tmp_path / "thumbnails"
    tagged = tagged_version(images=6, image_root=str(root / "ds"))
    write_images(tagged)
    run = flagged_run(tagged, clusters=3)
    dog = list(Flag.objects.filter(run=run, tag_group=tagged.groups["dog"]).order_by("id"))
    return tagged, run, dog


def _assign(run, username: str):
    user = get_user_model().objects.get(username=username)
    run_reviewer_add(run=run, user=user)
    review_batches_create(run=run, reviewers=[user], size=100)
    return user


def _open_queue(page, live_server, run, tagged) -> None:
    page.goto(f"{live_server.url}/review/runs/{run.pk}/queue/{tagged.groups['dog'].pk}/")
    page.wait_for_selector("body[data-review-ready]")


def _decision(flag: Flag, user) -> str:
    return ReviewTask.objects.get(flag=flag, reviewer=user).decision


def test_reviewer_reviews_a_queue_with_the_keyboard_alone(logged_in, live_server, review_data):
    tagged, run, dog = review_data
    page = logged_in("reviewer")
    user = _assign(run, "reviewer-browser")
    _open_queue(page, live_server, run, tagged)

    first = page.locator(f"#f{dog[0].pk}")
    assert "current" in first.get_attribute("class")
    assert first.locator("svg.overlay rect").count() == 1  # the region box over the image
    page.wait_for_function(f"document.querySelector('#f{dog[0].pk} .frame img').naturalWidth > 0")
    page.wait_for_selector(f"#f{dog[0].pk} .neighbours .neighbour")  # same-cluster thumbnails
    assert page.locator("#shortcuts").inner_text().startswith("a accept")

    page.keyboard.press("a")
    page.wait_for_selector(f"#f{dog[0].pk}[data-decision=accept]")
    page.wait_for_selector(f"#f{dog[1].pk}.current")
    page.keyboard.press("r")
    page.wait_for_selector(f"#f{dog[1].pk}[data-decision=reject]")
    page.wait_for_selector(f"#f{dog[2].pk}.current")
    page.keyboard.press("c")
    page.wait_for_selector(f"#f{dog[2].pk} .tag-search:focus")
    page.keyboard.type("ca")
    cat = tagged.groups["cat"].pk
    page.wait_for_function(f"[...document.querySelectorAll('#f{dog[2].pk} .tag-results button')]"
                           f".map(b => b.dataset.tagGroup).join() === '{cat}'")  # only the match is left
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#f{dog[2].pk}[data-decision=change]")
    page.wait_for_selector(f"#f{dog[3].pk}.current")
    page.keyboard.press("k")
    page.wait_for_selector(f"#f{dog[2].pk}.current")
    page.keyboard.press("j")
    page.wait_for_selector(f"#f{dog[3].pk}.current")
    page.wait_for_selector("#queue-progress:has-text('3 / 6 decided')")

    assert [_decision(f, user) for f in dog[:4]] == ["accept", "reject", "change", ""]
    assert Flag.objects.get(pk=dog[2].pk).resolved_tag_group_id == tagged.groups["cat"].pk

    page.keyboard.press("u")  # takes back the change
    page.wait_for_url(re.compile(rf"#f{dog[2].pk}$"))
    page.wait_for_selector("body[data-review-ready]")
    page.wait_for_selector(f"#f{dog[2].pk}.current[data-decision='']")
    assert [_decision(f, user) for f in dog[:3]] == ["accept", "reject", ""]
    assert list(ReviewDecision.objects.order_by("id").values_list("action", flat=True)) == [
        "accept", "reject", "change", "undo"]

    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()


def test_reviewer_bulk_rejects_a_cluster_and_undoes_it(logged_in, live_server, review_data):
    tagged, run, dog = review_data
    page = logged_in("reviewer")
    _assign(run, "reviewer-browser")
    cluster = [f for f in dog if f.cluster == 1]
    _open_queue(page, live_server, run, tagged)

    page.locator(f"#f{cluster[0].pk} button[data-bulk=reject]").click()
    page.wait_for_selector(f"text=rejected {len(cluster)} flag(s) of cluster 1")
    page.wait_for_selector("body[data-review-ready]")

    assert set(Flag.objects.filter(pk__in=[f.pk for f in cluster]).values_list("status", flat=True)) == {"rejected"}
    assert page.locator(".flag-card").count() == len(dog) - len(cluster)  # the pending queue moved on
    assert all(page.locator(f"#f{f.pk}").count() == 0 for f in cluster)

    page.keyboard.press("u")
    page.wait_for_selector(f"text=Undid {len(cluster)} decision(s).")
    page.wait_for_selector(f"#f{cluster[0].pk}")
    assert set(Flag.objects.filter(run=run).values_list("status", flat=True)) == {"open"}


@pytest.mark.worker
@pytest.mark.slow
def test_curator_applies_the_review_and_sees_the_new_versions_counts(logged_in, live_server, review_data,
                                                                     start_worker):
    tagged, run, dog = review_data
    reviewer = user_create(username="rita", password="pw-12345678", roles=["reviewer"])
    run_reviewer_add(run=run, user=reviewer)
    review_batches_create(run=run, reviewers=[reviewer], size=100)
    review_decide(user=reviewer, flag=dog[0], action="accept")
    review_decide(user=reviewer, flag=dog[1], action="reject")
    review_decide(user=reviewer, flag=dog[2], action="change", new_tag_group=tagged.groups["cat"])
    start_worker("review-browser")
    page = logged_in("curator")

    page.goto(f"{live_server.url}/review/runs/{run.pk}/")
    page.click("#manage-link")
    page.wait_for_selector("#run-progress:has-text('3 / 12')")
    page.check("#apply-form input[value=keep]")
    page.click("#apply-form button")
    page.wait_for_selector("#applications-table tr[data-state=succeeded]", timeout=90_000)

    row = page.locator("#applications-table tr[data-application]")
    assert (row.locator(".removed").inner_text(), row.locator(".replaced").inner_text(),
            row.locator(".kept").inner_text()) == ("1", "1", "10")
    assert row.locator(".version-counts").inner_text() == "11 (−2 / +1)"
    row.locator("a.output-version").click()
    page.wait_for_url(re.compile(r"/datasets/versions/\d+/$"))
    cards = page.locator(".cards .card").all_inner_texts()
    assert any(text.startswith("11") and "tag assignments" in text for text in cards)
    assert any("manual: 1" in text for text in cards)

    child = ReviewApplication.objects.get().output_version
    assert child.sealed and child.seq == 2 and child.counts["assignments"] == 11
    assert DatasetVersion.objects.filter(dataset=tagged.version.dataset).count() == 2
