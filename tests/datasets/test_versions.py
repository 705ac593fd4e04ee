"""Versions hold only their changes; a version's view is resolved in SQL; sealed versions never change."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.datasets import selectors
from apps.datasets.errors import BranchingError, SealedVersionError
from apps.datasets.models import Caption, DatasetVersion, Image, TagAssignment
from apps.datasets.services.versions import (
    AssignmentRow,
    CaptionRow,
    assignments_add,
    assignments_remove,
    captions_add,
    captions_remove,
    dataset_create,
    dataset_version_create,
    dataset_version_create_child,
    dataset_version_discard,
    dataset_version_seal,
    dataset_version_update_note,
)


@pytest.fixture
def base(db, image_root, lsv):
    """v1 (sealed): two images, dog+grass on image a, cat on image b."""
    dataset = dataset_create(name="d", image_root=str(image_root))
    v1 = dataset_version_create(dataset=dataset, label_system_version=lsv)
    a = Image.objects.create(dataset=dataset, uri="a.jpg", added_in_seq=1)
    b = Image.objects.create(dataset=dataset, uri="b.jpg", added_in_seq=1)
    groups = {g.tags.first().text: g.pk for g in lsv.groups.all()}
    captions_add(version=v1, rows=[CaptionRow(a.pk, "a dog on grass"), CaptionRow(b.pk, "a cat")])
    assignments_add(version=v1, rows=[AssignmentRow(a.pk, groups["dog"], "parsed"),
                                      AssignmentRow(a.pk, groups["grass"], "parsed"),
                                      AssignmentRow(b.pk, groups["cat"], "imported")])
    v1 = dataset_version_seal(version=v1)
    return {"dataset": dataset, "v1": v1, "a": a, "b": b, "groups": groups}


def _tags(version):
    names = selectors.tag_names(label_system_version_id=version.label_system_version_id)
    rows = selectors.version_assignments(version=version).values_list("image__uri", "tag_group__index")
    return sorted((uri, names[index]) for uri, index in rows)


def test_child_sees_parent_rows_without_copying_them(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assert _tags(v2) == _tags(base["v1"])
    assert TagAssignment.objects.count() == 3


def test_removal_in_child_changes_child_only(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    removed = assignments_remove(version=v2, assignments=TagAssignment.objects.filter(
        image=base["a"], tag_group_id=base["groups"]["grass"]))
    assert removed == 1
    assert ("a.jpg", "grass") in _tags(base["v1"])
    assert ("a.jpg", "grass") not in _tags(v2)
    assert TagAssignment.objects.count() == 3  # one row got removed_in_seq; nothing copied


def test_rows_added_in_child_are_invisible_in_parent(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assignments_add(version=v2, rows=[AssignmentRow(base["b"].pk, base["groups"]["play"], "generated", 0.9)])
    assert ("b.jpg", "play") in _tags(v2)
    assert ("b.jpg", "play") not in _tags(base["v1"])


def test_removing_a_row_added_in_the_same_version_deletes_it(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assignments_add(version=v2, rows=[AssignmentRow(base["b"].pk, base["groups"]["play"], "manual")])
    assignments_remove(version=v2, assignments=TagAssignment.objects.filter(tag_group_id=base["groups"]["play"]))
    assert not TagAssignment.objects.filter(tag_group_id=base["groups"]["play"]).exists()


def test_grandchild_resolves_the_whole_line(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assignments_remove(version=v2, assignments=TagAssignment.objects.filter(tag_group_id=base["groups"]["dog"]))
    dataset_version_seal(version=v2)
    v3 = dataset_version_create_child(parent=v2)
    assignments_add(version=v3, rows=[AssignmentRow(base["a"].pk, base["groups"]["dog"], "manual")])
    assert _tags(v3) == [("a.jpg", "dog"), ("a.jpg", "grass"), ("b.jpg", "cat")]
    assert _tags(v2) == [("a.jpg", "grass"), ("b.jpg", "cat")]
    assert [v.seq for v in selectors.dataset_version_lineage(version=v3)] == [1, 2, 3]


def test_reading_a_version_is_one_query(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    with CaptureQueriesContext(connection) as queries:
        list(selectors.version_assignments(version=v2))
    assert len(queries) == 1


def test_live_duplicate_assignments_are_skipped(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assignments_add(version=v2, rows=[AssignmentRow(base["a"].pk, base["groups"]["dog"], "parsed")])
    assert selectors.version_assignments(version=v2).count() == 3


def test_child_of_an_open_parent_is_refused(db, image_root):
    dataset = dataset_create(name="d", image_root=str(image_root))
    v1 = dataset_version_create(dataset=dataset)
    with pytest.raises(ValidationError, match="seal it"):
        dataset_version_create_child(parent=v1)


def test_second_child_of_an_old_version_is_refused(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    dataset_version_seal(version=v2)
    with pytest.raises(BranchingError, match="already has a child"):
        dataset_version_create_child(parent=base["v1"])


def test_dataset_version_create_on_existing_dataset_makes_child_of_tip(base):
    v2 = dataset_version_create(dataset=base["dataset"])
    assert (v2.seq, v2.parent_id, v2.label_system_version_id) == (2, base["v1"].pk, base["v1"].label_system_version_id)


def test_services_refuse_writes_to_a_sealed_version(base):
    with pytest.raises(SealedVersionError):
        assignments_add(version=base["v1"], rows=[AssignmentRow(base["b"].pk, base["groups"]["dog"], "manual")])
    with pytest.raises(SealedVersionError):
        captions_remove(version=base["v1"], captions=Caption.objects.all())


def test_seal_caches_counts(base):
    assert base["v1"].counts["images"] == 2
    assert base["v1"].counts["assignments"] == 3
    assert base["v1"].counts["assignments_by_source"] == {"imported": 1, "parsed": 2}


def _refused(statement) -> None:
    with pytest.raises(IntegrityError, match="sealed"), transaction.atomic():
        statement()


def test_database_refuses_inserting_rows_into_a_sealed_version(base):
    _refused(lambda: TagAssignment.objects.create(dataset=base["dataset"], image=base["b"], source="manual",
                                                  tag_group_id=base["groups"]["dog"], added_in_seq=1))
    _refused(lambda: Caption.objects.create(dataset=base["dataset"], image=base["b"], text="x", added_in_seq=1))
    _refused(lambda: Image.objects.create(dataset=base["dataset"], uri="c.jpg", added_in_seq=1))


def test_database_refuses_changing_rows_of_a_sealed_version(base):
    _refused(lambda: TagAssignment.objects.filter(dataset=base["dataset"]).update(score=0.5))
    _refused(lambda: TagAssignment.objects.filter(dataset=base["dataset"]).update(removed_in_seq=None,
                                                                                 source="manual"))
    _refused(lambda: Caption.objects.update(text="changed"))
    _refused(lambda: Image.objects.filter(pk=base["a"].pk).update(uri="moved.jpg"))


def test_database_refuses_removing_a_row_in_a_sealed_version(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assignments_remove(version=v2, assignments=TagAssignment.objects.filter(tag_group_id=base["groups"]["dog"]))
    dataset_version_seal(version=v2)
    _refused(lambda: TagAssignment.objects.update(removed_in_seq=None))
    _refused(lambda: TagAssignment.objects.filter(removed_in_seq__isnull=True).update(removed_in_seq=1 + 1))


def test_database_refuses_unsealing_a_version(base):
    _refused(lambda: DatasetVersion.objects.filter(pk=base["v1"].pk).update(sealed=False))
    _refused(lambda: DatasetVersion.objects.filter(pk=base["v1"].pk).update(seq=7))


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_database_refuses_deleting_a_sealed_version_or_its_rows(base):
    _refused(lambda: TagAssignment.objects.all().delete())
    _refused(lambda: DatasetVersion.objects.filter(pk=base["v1"].pk).delete())


def test_image_facts_of_a_sealed_version_may_be_filled_once(base):
    Image.objects.filter(pk=base["a"].pk).update(width=10, height=20, checksum="ab")
    _refused(lambda: Image.objects.filter(pk=base["a"].pk).update(width=11))


def test_note_of_a_sealed_version_stays_editable(base):
    dataset_version_update_note(version=base["v1"], note="checked")
    base["v1"].refresh_from_db()
    assert base["v1"].note == "checked"


def test_diff_counts_added_and_removed_per_tag_and_source(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    assignments_remove(version=v2, assignments=TagAssignment.objects.filter(tag_group_id=base["groups"]["grass"]))
    assignments_add(version=v2, rows=[AssignmentRow(base["b"].pk, base["groups"]["play"], "generated"),
                                      AssignmentRow(base["a"].pk, base["groups"]["play"], "generated")])
    diff = selectors.version_diff(base=base["v1"], other=v2)
    assert diff["added"] == [{"tag_index": 3, "tag": "play", "source": "generated", "count": 2}]
    assert diff["removed"] == [{"tag_index": 2, "tag": "grass", "source": "parsed", "count": 1}]
    assert (diff["added_by_source"], diff["removed_by_source"]) == ({"generated": 2}, {"parsed": 1})
    reverse = selectors.version_diff(base=v2, other=base["v1"])
    assert (reverse["added_total"], reverse["removed_total"]) == (1, 2)


def test_tag_frequency_counts_images_per_tag(base):
    rows = selectors.version_tag_frequency(version=base["v1"])
    assert {r["tag"]: r["count"] for r in rows} == {"dog": 1, "grass": 1, "cat": 1}


def test_discarding_an_open_version_restores_the_parent_as_tip(base):
    v2 = dataset_version_create_child(parent=base["v1"])
    c = Image.objects.create(dataset=base["dataset"], uri="c.jpg", added_in_seq=2)
    captions_add(version=v2, rows=[CaptionRow(c.pk, "new")])
    assignments_add(version=v2, rows=[AssignmentRow(c.pk, base["groups"]["dog"], "manual")])
    assignments_remove(version=v2, assignments=TagAssignment.objects.filter(tag_group_id=base["groups"]["cat"]))
    dataset_version_discard(version=v2)
    assert not Image.objects.filter(uri="c.jpg").exists() and Caption.objects.count() == 2
    assert TagAssignment.objects.filter(removed_in_seq__isnull=True).count() == 3
    assert dataset_version_create_child(parent=base["v1"]).seq == 2


def test_sealed_versions_cannot_be_discarded(base):
    with pytest.raises(SealedVersionError):
        dataset_version_discard(version=base["v1"])


def test_database_refuses_bulk_inserts_that_ignore_conflicts(base):
    row = TagAssignment(dataset=base["dataset"], image=base["b"], source="manual", tag_group_id=base["groups"]["dog"],
                        added_in_seq=1)
    _refused(lambda: TagAssignment.objects.bulk_create([row], ignore_conflicts=True))
