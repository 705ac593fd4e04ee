"""Merge proposals for a draft: suggested from WordNet/plurals/translations, accepted or rejected (bulk too)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.labels.errors import PublishedVersionError
from apps.labels.models import GroupChange, MergeProposal, Tag
from apps.labels.selectors import version_tag_texts
from apps.labels.services import (
    merge_proposals_accept,
    merge_proposals_reject,
    merge_proposals_suggest,
    tag_groups_merge,
)

from .factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    return make_version(["car", "dog", "automobile", "dogs", "bazaar", "fair"],
                        chinese={"bazaar": "集市", "fair": "集市 ", "dog": "狗"})


def _pairs(version):
    return {(p.tag_a.text, p.tag_b.text, p.reason) for p in MergeProposal.objects.filter(version=version)}


def test_suggest_stores_pending_proposals_for_each_reason(draft, wordnet):
    result = merge_proposals_suggest(version=draft, wordnet=wordnet)

    assert {("car", "automobile", "synset"), ("dog", "dogs", "plural"),
            ("bazaar", "fair", "translation")} <= _pairs(draft)
    assert set(MergeProposal.objects.values_list("status", flat=True)) == {"pending"}
    assert result["created"] == MergeProposal.objects.count()


def test_suggest_twice_adds_nothing_new(draft, wordnet):
    merge_proposals_suggest(version=draft, wordnet=wordnet)

    assert merge_proposals_suggest(version=draft, wordnet=wordnet)["created"] == 0


def test_suggest_skips_pairs_already_in_one_group(draft, wordnet):
    tag_groups_merge(groups=[Tag.objects.get(version=draft, text=t).group for t in ("car", "automobile")])

    merge_proposals_suggest(version=draft, wordnet=wordnet, reasons=["synset"])

    assert ("car", "automobile", "synset") not in _pairs(draft)


def test_suggest_on_a_published_version_is_refused(wordnet):
    with pytest.raises(PublishedVersionError):
        merge_proposals_suggest(version=make_version(["car"], published=True), wordnet=wordnet)


def test_accept_merges_with_wordnet_provenance(draft, wordnet, django_user_model):
    user = django_user_model.objects.create_user("cur")
    merge_proposals_suggest(version=draft, wordnet=wordnet, reasons=["synset"])
    proposal = MergeProposal.objects.get(tag_a__text="car", tag_b__text="automobile")

    merge_proposals_accept(proposals=[proposal], user=user)

    proposal.refresh_from_db()
    automobile = Tag.objects.get(version=draft, text="automobile")
    assert (proposal.status, proposal.decided_by) == ("accepted", user)
    assert automobile.group == Tag.objects.get(version=draft, text="car").group
    assert (automobile.provenance, automobile.merged_by) == ("wordnet", user)
    assert GroupChange.objects.get(version=draft).proposal == proposal


def test_accepting_a_translation_proposal_records_translation_provenance(draft, wordnet):
    merge_proposals_suggest(version=draft, wordnet=wordnet, reasons=["translation"])

    merge_proposals_accept(proposals=MergeProposal.objects.filter(version=draft))

    assert Tag.objects.get(version=draft, text="fair").provenance == "translation"


def test_bulk_accept_compacts_tag_ids_once(draft, wordnet):
    merge_proposals_suggest(version=draft, wordnet=wordnet)

    merge_proposals_accept(proposals=MergeProposal.objects.filter(version=draft))

    assert version_tag_texts(draft) == ["car", "dog", "bazaar"]
    assert list(draft.groups.order_by("index").values_list("index", flat=True)) == [0, 1, 2]


def test_bulk_reject_leaves_groups_alone(draft, wordnet):
    merge_proposals_suggest(version=draft, wordnet=wordnet)

    count = merge_proposals_reject(proposals=MergeProposal.objects.filter(version=draft))

    assert count == MergeProposal.objects.filter(status="rejected").count() > 0
    assert len(version_tag_texts(draft)) == 6


def test_deciding_a_proposal_twice_is_refused(draft, wordnet):
    merge_proposals_suggest(version=draft, wordnet=wordnet, reasons=["plural"])
    proposal = MergeProposal.objects.get()
    merge_proposals_reject(proposals=[proposal])

    with pytest.raises(ValidationError, match="already rejected"):
        merge_proposals_accept(proposals=[proposal])
