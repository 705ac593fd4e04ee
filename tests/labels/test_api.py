"""The label-system API: curators curate, viewers read; refusals come back as 400/403 with a message."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.services import roles_sync
from apps.labels.models import LabelSystemVersion, MergeProposal, Tag, TagGroup

from .factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(api_client_for):
    roles_sync()
    return api_client_for("curator")


@pytest.fixture
def viewer(api_client_for):
    roles_sync()
    return api_client_for("viewer")


@pytest.fixture
def draft():
    return make_version([["car", "auto"], "automobile", "dog", "cat"], thresholds={"cat": 0.9},
                        chinese={"dog": "狗"})


def _proposal(version) -> MergeProposal:
    return MergeProposal.objects.create(version=version, tag_a=Tag.objects.get(version=version, text="car"),
                                        tag_b=Tag.objects.get(version=version, text="automobile"),
                                        reason="synset", confidence=0.95)


def test_viewer_lists_tags_filtered_by_category_and_threshold(viewer, draft):
    Tag.objects.filter(text__in=["dog", "cat"]).update(category="object")

    response = viewer.get("/api/tags/", {"version": draft.pk, "category": "object", "threshold_min": 0.8})

    assert response.status_code == 200
    assert [t["text"] for t in response.json()["results"]] == ["cat"]


def test_tag_search_covers_chinese_names(viewer, draft):
    assert [t["text"] for t in viewer.get("/api/tags/", {"search": "狗"}).json()["results"]] == ["dog"]


def test_curator_edits_a_draft_tag(curator, draft):
    tag = Tag.objects.get(text="dog")

    response = curator.patch(f"/api/tags/{tag.pk}/", {"threshold": 0.8, "category": "object"}, format="json")

    assert response.status_code == 200
    assert (response.json()["threshold"], response.json()["category"]) == (0.8, "object")


def test_viewer_cannot_edit_a_tag(viewer, draft):
    tag = Tag.objects.get(text="dog")

    assert viewer.patch(f"/api/tags/{tag.pk}/", {"threshold": 0.8}, format="json").status_code == 403


def test_editing_a_published_tag_is_refused_with_the_message(curator):
    tag = make_version(["dog"], published=True).tags.get()

    response = curator.patch(f"/api/tags/{tag.pk}/", {"threshold": 0.8}, format="json")

    assert response.status_code == 400
    assert "is published and cannot be changed" in response.json()[0]


def test_curator_merges_groups(curator, draft):
    groups = TagGroup.objects.filter(version=draft, index__in=[0, 1])

    response = curator.post("/api/tag-groups/merge/", {"groups": [g.pk for g in groups]}, format="json")

    assert response.status_code == 200
    assert [t["text"] for t in response.json()["tags"]] == ["car", "auto", "automobile"]


def test_viewer_cannot_merge_groups(viewer, draft):
    groups = TagGroup.objects.filter(version=draft, index__in=[0, 1])

    assert viewer.post("/api/tag-groups/merge/", {"groups": [g.pk for g in groups]},
                       format="json").status_code == 403


def test_curator_splits_a_group(curator, draft):
    auto = Tag.objects.get(text="auto")

    response = curator.post(f"/api/tag-groups/{auto.group_id}/split/", {"tags": [auto.pk]}, format="json")

    assert response.status_code == 201
    assert response.json()[0]["index"] == 4


def test_group_list_filters_by_size(viewer, draft):
    response = viewer.get("/api/tag-groups/", {"version": draft.pk, "min_size": 2})

    assert [g["index"] for g in response.json()["results"]] == [0]


def test_curator_creates_a_draft_and_publishes_it(curator):
    base = make_version(["dog"], published=True)

    created = curator.post(f"/api/label-system-versions/{base.pk}/draft/", {}, format="json")
    published = curator.post(f"/api/label-system-versions/{created.json()['id']}/publish/")

    assert (created.status_code, created.json()["number"], created.json()["status"]) == (201, 2, "draft")
    assert (published.status_code, published.json()["status"]) == (200, "published")


def test_viewer_cannot_publish(viewer, draft):
    assert viewer.post(f"/api/label-system-versions/{draft.pk}/publish/").status_code == 403
    assert LabelSystemVersion.objects.get(pk=draft.pk).status == "draft"


def test_diff_endpoint_defaults_to_the_parent(curator):
    from apps.labels.services import tag_update, version_create_draft

    base = make_version(["dog"], published=True)
    draft = version_create_draft(version=base)
    tag_update(tag=draft.tags.get(), threshold=0.7)

    response = curator.get(f"/api/label-system-versions/{draft.pk}/diff/")

    assert response.json()["threshold_changed"] == [{"tag": "dog", "old": 0.65, "new": 0.7}]


def test_export_returns_a_file_as_text(viewer, draft):
    response = viewer.get(f"/api/label-system-versions/{draft.pk}/export/", {"file": "tags"})

    assert response.status_code == 200
    assert response.content == b"car\nautomobile\ndog\ncat"


def test_import_endpoint_reports_file_line_and_reason(curator):
    upload = SimpleUploadedFile("tags.txt", b"dog\ncat\ndog")

    response = curator.post("/api/label-systems/import/", {"name": "mine", "tags": upload}, format="multipart")

    assert response.status_code == 400
    assert response.json() == ["tags.txt, line 3: duplicate tag 'dog' (first on line 1)"]


def test_import_endpoint_creates_a_version(curator):
    upload = SimpleUploadedFile("tags.txt", b"dog\ncat")

    response = curator.post("/api/label-systems/import/", {"name": "mine", "tags": upload}, format="multipart")

    assert (response.status_code, response.json()["tag_count"]) == (201, 2)


def test_curator_accepts_a_proposal(curator, draft):
    proposal = _proposal(draft)

    response = curator.post(f"/api/merge-proposals/{proposal.pk}/accept/")

    assert response.status_code == 200
    assert response.json()[0]["status"] == "accepted"


def test_curator_bulk_rejects_proposals(curator, draft):
    proposal = _proposal(draft)

    response = curator.post("/api/merge-proposals/bulk-reject/", {"ids": [proposal.pk]}, format="json")

    assert [p["status"] for p in response.json()] == ["rejected"]


def test_curator_bulk_accepts_proposals(curator, draft):
    proposal = _proposal(draft)

    curator.post("/api/merge-proposals/bulk-accept/", {"ids": [proposal.pk]}, format="json")

    assert Tag.objects.get(text="automobile").group == Tag.objects.get(text="car").group


def test_viewer_cannot_accept_proposals(viewer, draft):
    proposal = _proposal(draft)

    assert viewer.post(f"/api/merge-proposals/{proposal.pk}/accept/").status_code == 403
    assert viewer.get("/api/merge-proposals/", {"status": "pending"}).json()["count"] == 1


def test_suggest_merges_endpoint_launches_a_job(curator, draft, monkeypatch):
    monkeypatch.setattr("apps.jobs.services.current_app.send_task", lambda *a, **k: None)

    response = curator.post(f"/api/label-system-versions/{draft.pk}/suggest-merges/", {"reasons": ["synset"]},
                            format="json")

    assert response.status_code == 202
    assert (response.json()["kind"], response.json()["params"]["reasons"]) == ("suggest_merges", ["synset"])


def test_wordnet_endpoint_shows_synonyms_in_the_version(viewer, draft, wordnet):
    tag = Tag.objects.get(text="car")

    body = viewer.get(f"/api/tags/{tag.pk}/wordnet/").json()

    assert {"tag": "automobile", "synset": "car.n.01", "sense_rank": 0} in body["synonyms_in_vocabulary"]
    assert body["suggested_category"] == "object"


def test_wordnet_endpoint_without_wordnet_answers_503_with_the_install_command(viewer, draft, monkeypatch):
    from ram_model.text.wordnet import INSTALL_HINT, WordNetMissingError

    def missing():
        raise WordNetMissingError(f"WordNet 3.0 not found. Install it with: {INSTALL_HINT}")

    monkeypatch.setattr("apps.labels.services.wordnet_for_site", missing)

    response = viewer.get(f"/api/tags/{Tag.objects.get(text='car').pk}/wordnet/")

    assert response.status_code == 503
    assert INSTALL_HINT in response.json()["detail"]
