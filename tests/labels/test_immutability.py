"""A published version cannot change: the models refuse it, and so does the database under raw SQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from apps.labels.errors import PublishedVersionError
from apps.labels.models import LabelSystemVersion, Tag, TagGroup
from apps.labels.services import tag_group_split, tag_groups_merge, tag_update, version_create_draft, version_publish

from .factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    return make_version([["car", "automobile"], "dog", "cat"], published=True)


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_saving_a_tag_of_a_published_version_is_refused(published):
    tag = Tag.objects.get(version=published, text="dog")
    tag.threshold = 0.9

    with pytest.raises(PublishedVersionError, match="is published and cannot be changed; create a draft copy"):
        tag.save()


def test_deleting_a_tag_of_a_published_version_is_refused(published):
    with pytest.raises(PublishedVersionError):
        Tag.objects.get(version=published, text="dog").delete()


def test_queryset_update_on_published_tags_is_refused(published):
    with pytest.raises(PublishedVersionError):
        Tag.objects.filter(version=published).update(threshold=0.9)


def test_adding_a_group_to_a_published_version_is_refused(published):
    with pytest.raises(PublishedVersionError):
        TagGroup.objects.create(version=published, index=99)


def test_deleting_a_published_version_is_refused(published):
    with pytest.raises(PublishedVersionError):
        published.delete()


def test_deleting_the_label_system_of_a_published_version_is_refused(published):
    with pytest.raises(PublishedVersionError):
        published.label_system.delete()


def test_services_refuse_a_published_version_with_a_clear_message(published):
    groups = list(published.groups.all())
    tag = Tag.objects.get(version=published, text="automobile")

    with pytest.raises(PublishedVersionError, match="create a draft copy"):
        tag_groups_merge(groups=groups[1:])
    with pytest.raises(PublishedVersionError):
        tag_group_split(group=tag.group, tags=[tag])
    with pytest.raises(PublishedVersionError):
        tag_update(tag=tag, threshold=0.7)


def test_publishing_twice_is_refused(published):
    with pytest.raises(PublishedVersionError):
        version_publish(version=published)


def test_raw_sql_update_of_a_published_tag_is_refused_by_the_database(published):
    tag = Tag.objects.get(version=published, text="dog")

    with pytest.raises(IntegrityError, match="published"):
        _raw("UPDATE labels_tag SET threshold = %s WHERE id = %s", [0.9, tag.pk])
    tag.refresh_from_db()
    assert tag.threshold == 0.65


def test_raw_sql_insert_into_a_published_version_is_refused_by_the_database(published):
    with pytest.raises(IntegrityError, match="published"):
        _raw('INSERT INTO labels_taggroup (version_id, "index") VALUES (%s, %s)', [published.pk, 50])


def test_raw_sql_moving_a_published_group_is_refused_by_the_database(published):
    group = published.groups.get(index=2)

    with pytest.raises(IntegrityError, match="published"):
        _raw('UPDATE labels_taggroup SET "index" = 7 WHERE id = %s', [group.pk])


def test_raw_sql_unpublishing_a_version_is_refused_by_the_database(published):
    with pytest.raises(IntegrityError, match="published"):
        _raw("UPDATE labels_labelsystemversion SET status = 'draft' WHERE id = %s", [published.pk])
    assert LabelSystemVersion.objects.get(pk=published.pk).status == "published"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="delete triggers exist on PostgreSQL only "
                    "(SQLite test flushes delete tables in arbitrary order)")
def test_raw_sql_delete_of_a_published_tag_is_refused_by_postgresql(published):
    with pytest.raises(IntegrityError, match="published"):
        _raw("DELETE FROM labels_tag WHERE version_id = %s", [published.pk])


def test_deleting_the_user_who_curated_a_published_version_is_allowed(django_user_model):
    user = django_user_model.objects.create_user("curator-gone")
    version = make_version(["car", "automobile"])
    tag_groups_merge(groups=list(version.groups.all()), user=user)
    version_publish(version=version, user=user)

    user.delete()  # SET_NULL of audit columns must not trip the triggers

    tag = Tag.objects.get(version=version, text="automobile")
    assert (tag.merged_by, tag.provenance) == (None, "manual")


def test_a_draft_copy_of_a_published_version_is_editable(published):
    draft = version_create_draft(version=published)
    tag = Tag.objects.get(version=draft, text="dog")

    tag_update(tag=tag, threshold=0.9)

    assert Tag.objects.get(version=draft, text="dog").threshold == 0.9
    assert Tag.objects.get(version=published, text="dog").threshold == 0.65
    assert draft.parent == published
