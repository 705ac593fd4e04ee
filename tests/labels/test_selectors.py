"""label_system_version_diff: added, removed, merged, split and threshold changes between two versions."""

from __future__ import annotations

import pytest

from apps.labels.models import Tag, TagGroup
from apps.labels.selectors import label_system_version_diff
from apps.labels.services import tag_group_split, tag_groups_merge, tag_update, version_create_draft

from .factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def base():
    return make_version([["car", "auto"], "automobile", "dog", "cat"], published=True)


def test_identical_versions_have_an_empty_diff(base):
    diff = label_system_version_diff(base, version_create_draft(version=base))

    assert diff.is_empty


def test_diff_reports_merges(base):
    draft = version_create_draft(version=base)
    tag_groups_merge(groups=list(TagGroup.objects.filter(version=draft, index__in=[0, 1])))

    diff = label_system_version_diff(base, draft)

    assert diff.merged == [{"group": "car", "from": ["car", "automobile"]}]
    assert (diff.added, diff.removed, diff.split) == ([], [], [])


def test_diff_reports_splits(base):
    draft = version_create_draft(version=base)
    auto = Tag.objects.get(version=draft, text="auto")
    tag_group_split(group=auto.group, tags=[auto])

    assert label_system_version_diff(base, draft).split == [{"group": "car", "into": ["car", "auto"]}]


def test_diff_reports_threshold_changes(base):
    draft = version_create_draft(version=base)
    tag_update(tag=Tag.objects.get(version=draft, text="dog"), threshold=0.9)

    assert label_system_version_diff(base, draft).threshold_changed == [{"tag": "dog", "old": 0.65, "new": 0.9}]


def test_diff_reports_added_and_removed_tags(base):
    other = make_version([["car", "auto"], "automobile", "dog", "bird"])

    diff = label_system_version_diff(base, other)

    assert (diff.added, diff.removed) == (["bird"], ["cat"])
