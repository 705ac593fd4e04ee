"""Reads: the queue's keyset pages and filters (one indexed query, no OFFSET/COUNT), neighbours, progress,
agreement."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.review.selectors import QueueFilter, flag_neighbours, queue_page, run_agreement, run_progress, tag_search
from apps.review.services.decisions import review_decide
from apps.review.services.work import review_batches_create, run_reviewer_add

pytestmark = pytest.mark.django_db


def _ids(page) -> list[int]:
    return [t.flag_id for t in page.tasks]


def test_queue_pages_follow_flag_order_by_keyset(work, reviewer):
    dog = [f.pk for f in work.flags()]

    first = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, limit=4)
    second = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, after=first.last_flag_id, limit=4)
    back = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, before=second.first_flag_id, limit=4)

    assert _ids(first) == dog[:4] and first.has_next and not first.has_previous
    assert _ids(second) == dog[4:] and not second.has_next and second.has_previous
    assert _ids(back) == dog[:4]
    assert first.names[work.dog] == "dog"


def test_queue_filters_by_status_reason_and_cluster(work, reviewer):
    dog = work.flags()
    review_decide(user=reviewer, flag=dog[0], action="reject")

    pending = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog)
    rejected = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, queue_filter=QueueFilter("reject"))
    cluster = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, queue_filter=QueueFilter(cluster=1))
    other_reason = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog,
                              queue_filter=QueueFilter(reason="confident_learning"))

    assert _ids(pending) == [f.pk for f in dog[1:]]
    assert _ids(rejected) == [dog[0].pk]
    assert _ids(cluster) == [f.pk for f in dog[1:] if f.cluster == 1]
    assert _ids(other_reason) == []


def test_queue_filter_from_query_ignores_unknown_values():
    assert QueueFilter.from_query({"status": "bogus", "reason": "<x>", "cluster": "a"}) == QueueFilter()
    assert QueueFilter.from_query({"status": "change", "cluster": "-1"}) == QueueFilter("change", "", -1)


def test_the_queue_is_one_query_without_offset_or_count_plus_captions_and_names(work, reviewer):
    with CaptureQueriesContext(connection) as queries:
        page = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, after=0, limit=3)
        for task in page.tasks:  # everything a card reads is already loaded
            _ = (task.flag.box, task.flag.image.uri, task.flag.image.visible_captions, task.new_tag_group)

    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert len(sql) == 3  # tasks (+ flag, image), captions of the page's images, tag names
    assert "OFFSET" not in sql[0] and "COUNT(" not in sql[0]
    assert '"REVIEW_REVIEWTASK"."REVIEWER_ID" =' in sql[0] and '"REVIEW_REVIEWTASK"."FLAG_ID" >' in sql[0]
    assert "ORDER BY \"REVIEW_REVIEWTASK\".\"FLAG_ID\" ASC" in sql[0] and "LIMIT 4" in sql[0]
    assert '"ENGINE_FLAG"."ID" >' in sql[0]  # the cursor on the flag side too (PostgreSQL merge joins)


def test_the_first_page_bounds_the_flag_side_by_the_first_task(work, reviewer):
    with CaptureQueriesContext(connection) as queries:
        page = queue_page(user=reviewer, run=work.run, tag_group_id=work.dog, limit=3)

    assert _ids(page) == [f.pk for f in work.flags()[:3]]
    assert '"ENGINE_FLAG"."ID" >=' in queries.captured_queries[1]["sql"].upper()


def test_the_queue_page_makes_as_many_queries_for_3_cards_as_for_12(work, reviewer):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(reviewer)
    url = reverse("review:queue", args=[work.run.pk, work.dog])
    counts = []
    for limit in (3, 12):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"limit": limit, "after": 0}).status_code == 200
        counts.append(len(queries.captured_queries))

    assert counts[0] == counts[1] <= 12


def test_neighbours_come_from_the_same_run_category_and_cluster(work):
    dog = work.flags()
    flag = dog[0]

    found = flag_neighbours(flag=flag)

    assert [f.pk for f in found] == [f.pk for f in dog[1:] if f.cluster == flag.cluster]


def test_tag_search_finds_other_tags_of_the_same_version(work):
    flag = work.flags()[0]

    assert [r["name"] for r in tag_search(flag=flag, query="ca")] == ["cat"]
    assert "dog" not in [r["name"] for r in tag_search(flag=flag, query="")]


def test_progress_counts_flags_per_category_and_status(work, reviewer):
    dog = work.flags()
    review_decide(user=reviewer, flag=dog[0], action="accept")
    review_decide(user=reviewer, flag=dog[1], action="reject")

    progress = run_progress(run=work.run)

    assert (progress["flags"], progress["decided"], progress["tasks"]["decided"]) == (12, 2, 2)
    row = next(c for c in progress["categories"] if c["name"] == "dog")
    assert (row["total"], row["decided"], row["accepted"], row["rejected"], row["open"]) == (6, 2, 1, 1, 4)


def test_agreement_per_reviewer_and_per_tag(run, tagged, make_user):
    ann, ben, cem = (make_user(n) for n in ("ann", "ben", "cem"))
    for user in (ann, ben, cem):
        run_reviewer_add(run=run, user=user)
    review_batches_create(run=run, reviewers=[ann, ben, cem], size=2, overlap=3, tag_group=tagged.groups["dog"])
    f1, f2 = sorted({t.flag for t in ann_tasks(ann)}, key=lambda f: f.pk)
    # f1: unanimous accept; f2: ann and ben reject, cem accepts (cem disagrees with the majority).
    for user in (ann, ben, cem):
        review_decide(user=user, flag=f1, action="accept")
    review_decide(user=ann, flag=f2, action="reject")
    review_decide(user=ben, flag=f2, action="reject")
    review_decide(user=cem, flag=f2, action="accept")

    agreement = run_agreement(run=run)

    per_reviewer = {r["username"]: (r["decisions"], r["agreeing"]) for r in agreement["reviewers"]}
    assert per_reviewer == {"ann": (2, 2), "ben": (2, 2), "cem": (2, 1)}
    assert agreement["tags"] == [{"tag_group_id": tagged.groups["dog"].pk, "name": "dog", "flags": 2,
                                  "unanimous": 1, "agreement": 0.5}]


def ann_tasks(user):
    from apps.review.models import ReviewTask

    return ReviewTask.objects.filter(reviewer=user).select_related("flag")
