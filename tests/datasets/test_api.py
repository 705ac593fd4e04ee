"""Datasets API and pages: permissions per role, counts, lineage, diff, frequency, seal, propose."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from apps.datasets.models import DatasetVersion, TagAssignment
from apps.datasets.services.versions import (
    assignments_remove,
    dataset_version_create_child,
    dataset_version_seal,
)


@pytest.fixture
def versions(db, image_root, write_file, lsv):
    path = write_file("a.jsonl", [{"image": "a.jpg", "caption": "a dog", "tags": ["dog", "grass"]},
                                  {"image": "b.jpg", "caption": "a cat", "tags": ["cat"]}])
    out = io.StringIO()
    call_command("import_dataset", str(path), "--name", "d", "--format", "jsonl", "--label-system-version",
                 str(lsv.pk), stdout=out)
    v1 = DatasetVersion.objects.get(pk=json.loads(out.getvalue())["version_id"])
    v2 = dataset_version_create_child(parent=v1, note="clean")
    assignments_remove(version=v2, assignments=TagAssignment.objects.filter(tag_group__index=2))
    return v1, v2


def test_viewer_lists_datasets_and_versions(versions, api_client_for):
    client = api_client_for("viewer")
    assert client.get("/api/datasets/").json()["results"][0]["version_count"] == 2
    rows = client.get("/api/dataset-versions/", {"dataset": versions[0].dataset_id}).json()["results"]
    assert [(r["seq"], r["sealed"]) for r in rows] == [(1, True), (2, False)]


def test_anonymous_and_roleless_users_are_refused(versions, api_client_for):
    assert api_client_for("anonymous").get("/api/datasets/").status_code in (401, 403)
    assert api_client_for("norole").get("/api/dataset-versions/").status_code == 403


def test_counts_lineage_and_frequency(versions, api_client_for):
    client = api_client_for("viewer")
    v1, v2 = versions
    assert client.get(f"/api/dataset-versions/{v2.pk}/counts/").json()["assignments"] == 2
    assert [r["seq"] for r in client.get(f"/api/dataset-versions/{v2.pk}/lineage/").json()] == [1, 2]
    frequency = client.get(f"/api/dataset-versions/{v1.pk}/frequency/").json()
    assert {r["tag"] for r in frequency} == {"dog", "grass", "cat"}


def test_diff_defaults_to_the_parent(versions, api_client_for):
    body = api_client_for("viewer").get(f"/api/dataset-versions/{versions[1].pk}/diff/").json()
    assert body["removed"] == [{"tag_index": 2, "tag": "grass", "source": "imported", "count": 1}]
    assert body["added_total"] == 0


def test_diff_of_a_first_version_without_other_is_a_400(versions, api_client_for):
    assert api_client_for("viewer").get(f"/api/dataset-versions/{versions[0].pk}/diff/").status_code == 400


def test_seal_needs_the_curator_role(versions, api_client_for):
    url = f"/api/dataset-versions/{versions[1].pk}/seal/"
    assert api_client_for("viewer").post(url).status_code == 403
    response = api_client_for("curator").post(url)
    assert response.status_code == 200 and response.json()["sealed"] is True
    assert response.json()["counts"]["assignments_removed"] == 1


def test_note_of_a_sealed_version_can_be_changed(versions, api_client_for):
    response = api_client_for("curator").post(f"/api/dataset-versions/{versions[0].pk}/note/", {"note": "ok"})
    assert response.status_code == 200 and response.json()["note"] == "ok"


def test_propose_label_system_without_phrases_is_a_400(versions, api_client_for):
    response = api_client_for("curator").post(f"/api/dataset-versions/{versions[0].pk}/propose-label-system/",
                                              {"top_k": 5}, format="json")
    assert response.status_code == 400 and "no phrase counts" in response.json()[0]


def test_snapshots_are_listed_with_their_manifest(versions, api_client_for, tmp_path):
    call_command("export_snapshot", str(versions[0].pk), "--format", "jsonl", "--out", str(tmp_path / "s"),
                 stdout=io.StringIO())
    (row,) = api_client_for("viewer").get("/api/snapshots/").json()["results"]
    assert row["manifest"]["counts"]["records"] == 2 and row["format"] == "jsonl"


@pytest.fixture
def viewer_client(role_user) -> Client:
    client = Client()
    client.force_login(role_user("viewer"))
    return client


def test_pages_list_datasets_versions_counts_and_lineage(versions, viewer_client):
    v1, v2 = versions
    dataset_version_seal(version=v2)
    assert "d" in viewer_client.get("/datasets/").content.decode()
    page = viewer_client.get(f"/datasets/{v1.dataset_id}/").content.decode()
    assert f'href="/datasets/versions/{v2.pk}/"' in page and "sealed" in page
    version_page = viewer_client.get(f"/datasets/versions/{v2.pk}/").content.decode()
    assert "+0 / −1 assignments" in version_page and "grass" in version_page and "v1</a> → " in version_page


def test_pages_need_a_role(versions, role_user):
    client = Client()
    client.force_login(role_user(None))
    assert client.get("/datasets/").status_code == 403


def test_admin_pages_of_datasets_load(versions, client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin_user)
    for url in ("/admin/datasets/dataset/", "/admin/datasets/datasetversion/", "/admin/datasets/image/",
                "/admin/datasets/snapshot/", f"/admin/datasets/datasetversion/{versions[0].pk}/change/"):
        assert client.get(url).status_code == 200, url


def test_admin_seal_action_seals_open_versions(versions, client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    client.post("/admin/datasets/datasetversion/", {"action": "seal", "_selected_action": [versions[1].pk]})
    versions[1].refresh_from_db()
    assert versions[1].sealed


def test_curator_branches_an_old_version_into_a_new_dataset(versions, api_client_for):
    v1, v2 = versions
    dataset_version_seal(version=v2)
    client = api_client_for("curator")
    refused = client.post(f"/api/dataset-versions/{v1.pk}/branch/", {"name": "d"}, format="json")
    assert refused.status_code == 400 and "already exists" in refused.json()[0]
    response = client.post(f"/api/dataset-versions/{v1.pk}/branch/", {"name": "d-branch"}, format="json")
    assert response.status_code == 201 and response.json()["counts"]["assignments"] == 3
    assert api_client_for("viewer").post(f"/api/dataset-versions/{v1.pk}/branch/", {"name": "x"}).status_code == 403
