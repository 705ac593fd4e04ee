"""Curating in the admin: changelist search and filters, merge/split/accept/publish actions, the diff view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.services import roles_sync, user_create
from apps.labels.models import GroupChange, LabelSystemVersion, MergeProposal, Tag, TagGroup

from .factories import make_version

pytestmark = pytest.mark.django_db

ACTION_CHECKBOX = "_selected_action"


@pytest.fixture
def curator_client(client):
    roles_sync()
    user = user_create(username="cur", password="pw-12345678", roles=["curator"])
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def draft():
    return make_version([["car", "auto"], "automobile", "dog", "cat"], chinese={"dog": "狗"},
                        thresholds={"cat": 0.9})


def _changelist(name: str) -> str:
    return reverse(f"admin:labels_{name}_changelist")


def _texts(response) -> list[str]:
    return [tag.text for tag in response.context["cl"].result_list]


def test_tag_changelist_search_by_text(curator_client, draft):
    response = curator_client.get(_changelist("tag"), {"q": "auto"})

    assert response.status_code == 200
    assert sorted(_texts(response)) == ["auto", "automobile"]


def test_tag_changelist_search_by_chinese_name(curator_client, draft):
    assert _texts(curator_client.get(_changelist("tag"), {"q": "狗"})) == ["dog"]


def test_tag_changelist_filters_by_group_size(curator_client, draft):
    response = curator_client.get(_changelist("tag"), {"group_size": "2+"})

    assert sorted(_texts(response)) == ["auto", "car"]


def test_tag_changelist_filters_by_threshold(curator_client, draft):
    assert _texts(curator_client.get(_changelist("tag"), {"threshold": "gt80"})) == ["cat"]


def test_tag_changelist_filters_by_category(curator_client, draft):
    Tag.objects.filter(text="dog").update(category="object")

    assert _texts(curator_client.get(_changelist("tag"), {"category__exact": "object"})) == ["dog"]


def test_group_changelist_filters_by_size(curator_client, draft):
    response = curator_client.get(_changelist("taggroup"), {"group_size": "1"})

    assert sorted(g.index for g in response.context["cl"].result_list) == [1, 2, 3]


def test_merge_action_on_groups(curator_client, draft):
    groups = TagGroup.objects.filter(version=draft, index__in=[0, 1])

    response = curator_client.post(_changelist("taggroup"), {
        "action": "merge_groups", ACTION_CHECKBOX: [g.pk for g in groups]}, follow=True)

    assert response.status_code == 200
    assert Tag.objects.get(text="automobile").group.index == 0
    assert GroupChange.objects.get().user.username == "cur"


def test_split_action_on_tags(curator_client, draft):
    auto = Tag.objects.get(text="auto")

    curator_client.post(_changelist("tag"), {"action": "split_off_tags", ACTION_CHECKBOX: [auto.pk]})

    assert Tag.objects.get(text="auto").group.index == 4


def test_accept_suggestions_action(curator_client, draft):
    proposal = MergeProposal.objects.create(version=draft, tag_a=Tag.objects.get(text="car"),
                                            tag_b=Tag.objects.get(text="automobile"), reason="synset",
                                            confidence=0.95)

    curator_client.post(_changelist("mergeproposal"), {"action": "accept_suggestions",
                                                       ACTION_CHECKBOX: [proposal.pk]})

    assert MergeProposal.objects.get().status == "accepted"
    assert Tag.objects.get(text="automobile").provenance == "wordnet"


def test_publish_action(curator_client, draft):
    curator_client.post(_changelist("labelsystemversion"), {"action": "publish", ACTION_CHECKBOX: [draft.pk]})

    assert LabelSystemVersion.objects.get(pk=draft.pk).status == "published"


def test_merge_action_on_a_published_version_shows_the_refusal(curator_client):
    version = make_version(["car", "automobile"], published=True)

    response = curator_client.post(_changelist("taggroup"), {
        "action": "merge_groups", ACTION_CHECKBOX: [g.pk for g in version.groups.all()]}, follow=True)

    assert "is published and cannot be changed" in response.content.decode()
    assert version.groups.count() == 2


def test_tag_of_a_published_version_is_read_only(curator_client):
    version = make_version(["car"], published=True)
    tag = version.tags.get()

    response = curator_client.post(reverse("admin:labels_tag_change", args=[tag.pk]), {"threshold": "0.9"})

    assert response.status_code == 403
    assert Tag.objects.get(pk=tag.pk).threshold == 0.65


def test_tag_edit_in_a_draft_goes_through_the_service(curator_client, draft):
    tag = Tag.objects.get(text="dog")

    curator_client.post(reverse("admin:labels_tag_change", args=[tag.pk]),
                        {"category": "object", "name_zh": "狗", "descriptions": "[]", "threshold": "0.8"})

    tag.refresh_from_db()
    assert (tag.category, tag.threshold, tag.threshold_text) == ("object", 0.8, "0.8")


def test_group_inline_adds_a_tag_to_the_group(curator_client, draft):
    group = TagGroup.objects.get(version=draft, index=2)
    prefix = "tags"
    data = {f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "1", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}
    dog = group.tags.get()
    for i, (pk, text, position) in enumerate([(dog.pk, "dog", 0), ("", "doggy", 1)]):
        data.update({f"{prefix}-{i}-id": pk, f"{prefix}-{i}-group": group.pk, f"{prefix}-{i}-position": position,
                     f"{prefix}-{i}-text": text, f"{prefix}-{i}-category": "object",
                     f"{prefix}-{i}-name_zh": "", f"{prefix}-{i}-threshold": "0.65"})

    response = curator_client.post(reverse("admin:labels_taggroup_change", args=[group.pk]), data)

    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert list(group.tags.order_by("position").values_list("text", flat=True)) == ["dog", "doggy"]
    assert Tag.objects.get(text="doggy").version == draft


def test_diff_view_lists_merges_against_the_parent(curator_client):
    from apps.labels.services import tag_groups_merge, version_create_draft

    base = make_version(["car", "automobile"], published=True)
    draft = version_create_draft(version=base)
    tag_groups_merge(groups=list(draft.groups.all()))

    response = curator_client.get(reverse("admin:labels_labelsystemversion_diff", args=[draft.pk]))

    assert response.status_code == 200
    assert response.context["diff"].merged == [{"group": "car", "from": ["car", "automobile"]}]
    assert "car ← car, automobile" in response.content.decode()


def test_create_draft_action_copies_a_published_version(curator_client):
    version = make_version(["car", "dog"], published=True)

    curator_client.post(_changelist("labelsystemversion"), {"action": "create_draft", ACTION_CHECKBOX: [version.pk]})

    draft = LabelSystemVersion.objects.get(parent=version)
    assert (draft.number, draft.status, draft.groups.count()) == (2, "draft", 2)


def test_split_groups_action_gives_each_tag_its_own_group(curator_client, draft):
    group = TagGroup.objects.get(version=draft, index=0)

    curator_client.post(_changelist("taggroup"), {"action": "split_groups", ACTION_CHECKBOX: [group.pk]})

    assert Tag.objects.get(text="auto").group.index == 4
    assert group.tags.count() == 1


def test_suggest_merges_action_launches_a_job(curator_client, draft, monkeypatch):
    from apps.jobs.models import Job

    monkeypatch.setattr("apps.jobs.services.current_app.send_task", lambda *a, **k: None)

    curator_client.post(_changelist("labelsystemversion"), {"action": "suggest_merges", ACTION_CHECKBOX: [draft.pk]})

    assert Job.objects.get().params["version"] == draft.pk


def test_viewer_sees_no_curation_actions(client, draft):
    roles_sync()
    viewer = user_create(username="view", password="pw-12345678", roles=["viewer"])
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)

    response = client.get(_changelist("taggroup"))

    assert response.status_code == 200
    assert "merge_groups" not in response.content.decode()


def test_inline_edit_that_gives_two_tags_position_zero_keeps_one_primary(curator_client, draft):
    group = TagGroup.objects.get(version=draft, index=0)
    prefix = "tags"
    data = {f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "2", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, tag in enumerate(group.tags.order_by("position")):
        data.update({f"{prefix}-{i}-id": tag.pk, f"{prefix}-{i}-group": group.pk, f"{prefix}-{i}-position": 0,
                     f"{prefix}-{i}-text": tag.text, f"{prefix}-{i}-category": "other",
                     f"{prefix}-{i}-name_zh": "", f"{prefix}-{i}-threshold": "0.65"})

    curator_client.post(reverse("admin:labels_taggroup_change", args=[group.pk]), data)

    assert sorted(group.tags.values_list("position", flat=True)) == [0, 1]


def test_admin_delete_of_a_tag_keeps_tag_ids_contiguous(curator_client, draft):
    dog = Tag.objects.get(text="dog")

    curator_client.post(_changelist("tag"), {"action": "delete_selected", ACTION_CHECKBOX: [dog.pk], "post": "yes"})

    assert not Tag.objects.filter(text="dog").exists()
    assert list(draft.groups.order_by("index").values_list("index", flat=True)) == [0, 1, 2]


@pytest.mark.parametrize("model", ["labelsystem", "labelsystemversion", "taggroup", "tag", "mergeproposal",
                                   "groupchange"])
def test_every_labels_admin_page_renders(curator_client, draft, model):
    from apps.labels.services import tag_groups_merge

    tag_groups_merge(groups=list(TagGroup.objects.filter(version=draft, index__in=[2, 3])))
    _proposal = MergeProposal.objects.create(version=draft, tag_a=Tag.objects.get(text="car"),
                                             tag_b=Tag.objects.get(text="automobile"), reason="synset",
                                             confidence=0.95)
    objects = {"labelsystem": draft.label_system, "labelsystemversion": draft, "taggroup": draft.groups.first(),
               "tag": Tag.objects.first(), "mergeproposal": _proposal, "groupchange": GroupChange.objects.first()}

    listing = curator_client.get(_changelist(model))
    detail = curator_client.get(reverse(f"admin:labels_{model}_change", args=[objects[model].pk]))

    assert (listing.status_code, detail.status_code) == (200, 200)
