"""Merging and splitting groups of a draft keeps tag IDs contiguous and writes the history."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.labels.models import GroupChange, Tag, TagGroup
from apps.labels.selectors import version_tag_texts
from apps.labels.services import (
    compact_group_indices,
    tag_group_set_primary,
    tag_group_split,
    tag_groups_merge,
    tag_update,
    version_create_draft,
    version_publish,
)

from .factories import make_version

pytestmark = pytest.mark.django_db


def _groups(version, *indices):
    return [TagGroup.objects.get(version=version, index=i) for i in indices]


def _members(version):
    return [list(g.tags.order_by("position").values_list("text", flat=True))
            for g in version.groups.order_by("index")]


def test_merge_keeps_the_lowest_group_and_closes_the_gap(django_user_model):
    version = make_version(["car", "dog", "automobile", "cat"])
    user = django_user_model.objects.create_user("cur")

    kept = tag_groups_merge(groups=_groups(version, 2, 0), user=user)

    assert kept.index == 0
    assert _members(version) == [["car", "automobile"], ["dog"], ["cat"]]
    assert list(version.groups.order_by("index").values_list("index", flat=True)) == [0, 1, 2]


def test_merge_records_who_and_provenance_on_moved_tags(django_user_model):
    version = make_version(["car", "automobile"])
    user = django_user_model.objects.create_user("cur")

    tag_groups_merge(groups=_groups(version, 0, 1), user=user, provenance="wordnet")

    moved = Tag.objects.get(version=version, text="automobile")
    assert (moved.provenance, moved.merged_by, moved.merged_at is not None) == ("wordnet", user, True)
    assert Tag.objects.get(version=version, text="car").provenance == "imported"


def test_merge_writes_a_history_row_in_the_same_transaction(django_user_model):
    version = make_version(["car", "dog", "automobile"])
    user = django_user_model.objects.create_user("cur")

    tag_groups_merge(groups=_groups(version, 0, 2), user=user)

    change = GroupChange.objects.get(version=version)
    assert (change.kind, change.provenance, change.user, change.tags) == ("merge", "manual", user, ["automobile"])
    assert change.detail == {"into": 0, "removed": [2], "primary": "car"}


def test_merge_of_one_group_is_refused():
    version = make_version(["car", "dog"])

    with pytest.raises(ValidationError, match="at least two"):
        tag_groups_merge(groups=_groups(version, 0, 0))


def test_merge_across_versions_is_refused():
    one, two = make_version(["car"]), make_version(["dog"])

    with pytest.raises(ValidationError, match="different versions"):
        tag_groups_merge(groups=[one.groups.get(), two.groups.get()])


def test_split_appends_new_groups_at_the_end(django_user_model):
    version = make_version([["car", "automobile", "auto"], "dog"])
    user = django_user_model.objects.create_user("cur")
    auto = Tag.objects.get(version=version, text="auto")

    new = tag_group_split(group=auto.group, tags=[auto], user=user)

    assert [g.index for g in new] == [2]
    assert _members(version) == [["car", "automobile"], ["dog"], ["auto"]]
    change = GroupChange.objects.get(version=version)
    assert (change.kind, change.tags, change.detail) == ("split", ["auto"], {"from": 0, "new": [2]})


def test_splitting_off_the_primary_promotes_the_next_tag():
    version = make_version([["car", "automobile"]])
    car = Tag.objects.get(version=version, text="car")

    tag_group_split(group=car.group, tags=[car])

    assert version_tag_texts(version) == ["automobile", "car"]


def test_split_must_leave_a_tag_in_the_group():
    version = make_version([["car", "automobile"]])
    group = version.groups.get()

    with pytest.raises(ValidationError, match="keep at least one tag"):
        tag_group_split(group=group, tags=list(group.tags.all()))


def test_split_of_a_tag_from_another_group_is_refused():
    version = make_version([["car", "automobile"], "dog"])

    with pytest.raises(ValidationError, match="choose tags of group #0"):
        tag_group_split(group=version.groups.get(index=0), tags=[Tag.objects.get(version=version, text="dog")])


def test_merge_then_split_round_trips_the_members():
    version = make_version(["car", "automobile"])
    tag_groups_merge(groups=_groups(version, 0, 1))

    tag_group_split(group=version.groups.get(), tags=[Tag.objects.get(version=version, text="automobile")])

    assert _members(version) == [["car"], ["automobile"]]
    assert list(GroupChange.objects.filter(version=version).values_list("kind", flat=True)) == ["split", "merge"]


def test_set_primary_changes_the_exported_name():
    version = make_version([["car", "automobile"]])

    tag_group_set_primary(tag=Tag.objects.get(version=version, text="automobile"))

    assert version_tag_texts(version) == ["automobile"]


def test_compact_renumbers_gaps_keeping_order():
    version = make_version(["a", "b", "c", "d"])
    TagGroup.objects.filter(version=version, index=1).delete()

    assert compact_group_indices(version) == 2
    assert version_tag_texts(version) == ["a", "c", "d"]


def test_tag_update_rewrites_the_threshold_text():
    version = make_version(["dog"])
    tag = Tag.objects.get(version=version)

    tag_update(tag=tag, threshold=0.8, category="object")

    tag.refresh_from_db()
    assert (tag.threshold, tag.threshold_text, tag.category) == (0.8, "0.8", "object")


def test_tag_update_refuses_a_threshold_outside_zero_one():
    tag = Tag.objects.get(version=make_version(["dog"]))

    with pytest.raises(ValidationError, match=r"outside \(0, 1\]"):
        tag_update(tag=tag, threshold=1.5)


def test_tag_update_refuses_renaming():
    tag = Tag.objects.get(version=make_version(["dog"]))

    with pytest.raises(ValidationError, match="cannot be edited here: text"):
        tag_update(tag=tag, text="hound")


def test_draft_copy_keeps_groups_and_gets_the_next_number():
    version = make_version([["car", "automobile"], "dog"])
    version_publish(version=version)

    draft = version_create_draft(version=version)

    assert (draft.number, draft.status, draft.parent_id) == (2, "draft", version.pk)
    assert _members(draft) == [["car", "automobile"], ["dog"]]


def test_publishing_an_empty_version_is_refused():
    with pytest.raises(ValidationError, match="nothing to publish"):
        version_publish(version=make_version([]))


def test_deleting_a_primary_tag_promotes_the_next_one():
    from apps.labels.services import tags_delete

    version = make_version([["car", "automobile"], "dog"])

    tags_delete(tags=[Tag.objects.get(version=version, text="car")])

    assert version_tag_texts(version) == ["automobile", "dog"]
    assert Tag.objects.get(version=version, text="automobile").position == 0


def test_deleting_the_last_tag_of_a_group_removes_its_tag_id():
    from apps.labels.services import tags_delete

    version = make_version(["car", "dog", "cat"])

    tags_delete(tags=[Tag.objects.get(version=version, text="dog")])

    assert version_tag_texts(version) == ["car", "cat"]
    assert list(version.groups.order_by("index").values_list("index", flat=True)) == [0, 1]


def test_deleting_tags_of_a_published_version_is_refused():
    from apps.labels.errors import PublishedVersionError
    from apps.labels.services import tags_delete

    version = make_version(["car", "dog"], published=True)

    with pytest.raises(PublishedVersionError):
        tags_delete(tags=[Tag.objects.get(version=version, text="dog")])


def test_deleting_a_group_closes_the_gap_in_tag_ids():
    from apps.labels.services import tag_groups_delete

    version = make_version(["car", "dog", "cat"])

    tag_groups_delete(groups=[version.groups.get(index=0)])

    assert version_tag_texts(version) == ["dog", "cat"]
    assert list(version.groups.order_by("index").values_list("index", flat=True)) == [0, 1]


def test_merging_a_group_that_other_data_protects_is_refused_with_a_message(monkeypatch):
    from django.db.models import ProtectedError

    version = make_version(["car", "automobile"])
    blocker = version.groups.get(index=1)

    def refuse(self):
        raise ProtectedError("protected", {blocker})

    monkeypatch.setattr("django.db.models.query.QuerySet.delete", refuse)

    with pytest.raises(ValidationError, match=r"still used by labels\.TagGroup"):
        tag_groups_merge(groups=list(version.groups.all()))
    monkeypatch.undo()
    assert version_tag_texts(version) == ["car", "automobile"]
