"""The JSON document keeps what the RAM files cannot: synonym groups, categories, descriptions."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from apps.accounts.services import roles_sync
from apps.labels.errors import LabelFileError
from apps.labels.models import LabelSystem, Tag
from apps.labels.selectors import label_system_version_diff, label_system_version_files
from apps.labels.services import (
    document_bytes,
    label_system_import_document,
    tag_groups_merge,
    tag_update,
    version_document,
)

from .factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def curated():
    version = make_version(["car", "automobile", "dog"], chinese={"dog": "狗 "}, name="curated")
    tag_groups_merge(groups=list(version.groups.filter(index__in=[0, 1])), provenance="wordnet")
    tag_update(tag=Tag.objects.get(version=version, text="dog"), category="object", threshold=0.8,
               descriptions=["a domestic animal that barks"])
    return version


def test_document_round_trip_keeps_groups_and_tag_fields(curated):
    copy = label_system_import_document(data=document_bytes(curated), name="copy")

    assert label_system_version_diff(curated, copy).is_empty
    dog = Tag.objects.get(version=copy, text="dog")
    assert (dog.category, dog.name_zh, dog.descriptions, dog.threshold) == (
        "object", "狗 ", ["a domestic animal that barks"], 0.8)
    assert Tag.objects.get(version=copy, text="automobile").provenance == "wordnet"
    assert label_system_version_files(copy) == label_system_version_files(curated)


def test_document_import_defaults_to_the_named_system_and_next_number(curated):
    copy = label_system_import_document(data=document_bytes(curated))

    assert (copy.label_system.name, copy.number) == ("curated", 2)


def test_merges_without_provenance_are_recorded_as_imported():
    document = {"format": "labelhub-label-system", "label_system": "mini",
                "groups": [{"tags": [{"text": "car"}, {"text": "automobile"}]}]}

    version = label_system_import_document(data=json.dumps(document).encode())

    assert Tag.objects.get(version=version, text="automobile").provenance == "imported"


@pytest.mark.parametrize(("document", "reason"), [
    (b"{not json", "invalid JSON"),
    (json.dumps({"format": "other"}).encode(), "not a label system document"),
    (json.dumps({"format": "labelhub-label-system", "label_system": "x", "groups": []}).encode(),
     "'groups' must be a non-empty list"),
    (json.dumps({"format": "labelhub-label-system", "label_system": "x",
                 "groups": [{"tags": [{"text": "a"}]}, {"tags": [{"text": "a"}]}]}).encode(),
     "groups[1].tags[0]: duplicate tag 'a' (first at groups[0].tags[0])"),
    (json.dumps({"format": "labelhub-label-system", "label_system": "x",
                 "groups": [{"tags": [{"text": "a", "threshold": 1.5}]}]}).encode(), "outside (0, 1]"),
    (json.dumps({"format": "labelhub-label-system", "label_system": "x",
                 "groups": [{"tags": [{"text": "a", "category": "vibe"}]}]}).encode(), "unknown category"),
])
def test_bad_documents_are_refused_and_nothing_is_written(document, reason):
    with pytest.raises(LabelFileError, match=re.escape(reason)):
        label_system_import_document(data=document, file="doc.json")

    assert not LabelSystem.objects.exists()


def test_export_and_import_commands_round_trip_json(curated, tmp_path):
    call_command("export_label_system", str(curated.pk), "--out", str(tmp_path), "--format", "json",
                 stdout=io.StringIO())
    out = io.StringIO()

    call_command("import_label_system", "--json", str(tmp_path / "label_system.json"), "--name", "moved",
                 stdout=out)

    assert "imported moved v1" in out.getvalue()


def test_import_command_needs_a_name_with_tags(tmp_path):
    (tmp_path / "t.txt").write_bytes(b"dog")

    with pytest.raises(CommandError, match="--name is required"):
        call_command("import_label_system", "--tags", str(tmp_path / "t.txt"))


def test_api_exports_and_imports_the_document(curated, api_client_for):
    roles_sync()
    curator = api_client_for("curator")

    document = curator.get(f"/api/label-system-versions/{curated.pk}/export/", {"file": "json"}).json()
    upload = SimpleUploadedFile("label_system.json", json.dumps(document).encode())
    response = curator.post("/api/label-systems/import/", {"name": "via-api", "document": upload},
                            format="multipart")

    assert response.status_code == 201, response.json()
    assert document == {**version_document(curated), "label_system": "curated"}
    assert response.json()["tag_count"] == 2
