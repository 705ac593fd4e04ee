"""WordNet helpers (ram_model.text.wordnet / synonyms): pure functions over WordNet 3.0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ram_model.text.synonyms import MergeProposal, suggest_merges, synset_confidence
from ram_model.text.wordnet import (
    INSTALL_HINT,
    WordNetMissingError,
    category_of_lexname,
    first_senses,
    lemma_forms,
    load_wordnet,
    related_terms,
    singular,
    suggest_category,
    synonyms_in_vocabulary,
    wordnet_key,
)


def test_wordnet_is_version_3_0(wordnet):
    assert wordnet.reader.get_version() == "3.0"


def test_missing_wordnet_raises_one_error_saying_how_to_install(tmp_path):
    with pytest.raises(WordNetMissingError) as caught:
        load_wordnet(tmp_path)

    assert INSTALL_HINT in str(caught.value)
    assert "apt-get install wordnet-base wordnet-sense-index && python scripts/setup_wordnet.py" in INSTALL_HINT


def test_unset_nltk_data_raises_the_same_error(monkeypatch):
    monkeypatch.delenv("NLTK_DATA", raising=False)

    with pytest.raises(WordNetMissingError, match="NLTK_DATA is not set"):
        load_wordnet()


def test_multi_word_tags_use_underscore_forms():
    assert wordnet_key("Ice  cream") == "ice_cream"


def test_lemma_forms_singularise_plurals(wordnet):
    assert lemma_forms(wordnet, "dogs")[0] == "dog"
    assert lemma_forms(wordnet, "sports cars")[0] == "sports car"


def test_singular_keeps_a_plural_only_lemma(wordnet):
    assert singular(wordnet, "glasses") == "glasses"
    assert singular(wordnet, "red cars") == "red car"


def test_first_senses_rank_nouns_before_verbs(wordnet):
    names = [synset.name() for synset, _rank in first_senses(wordnet, "dog", 3)]

    assert names[0] == "dog.n.01"
    assert "chase.v.01" not in names


def test_synonyms_in_vocabulary_share_a_first_sense(wordnet):
    found = synonyms_in_vocabulary(wordnet, "car", ["automobile", "dog", "railcar", "car"])

    assert ("automobile", "car.n.01", 0) in found
    assert all(other != "dog" for other, _s, _r in found)


def test_related_terms_give_hypernyms_and_hyponyms(wordnet):
    related = related_terms(wordnet, "dog")

    assert "canine" in related["hypernyms"]
    assert "puppy" in related["hyponyms"]


@pytest.mark.parametrize(("tag", "category"), [
    ("dog", "object"), ("car", "object"), ("apple", "object"), ("red", "attribute"),
    ("mountain", "object"), ("sunset", "scene"), ("swimming", "action"), ("running", "action"),
    ("ice cream", "object"), ("red car", "object"), ("xyzzyq", "other"),
])
def test_categories_come_from_lexicographer_files(wordnet, tag, category):
    assert suggest_category(wordnet, tag)[0] == category


@pytest.mark.parametrize(("lexname", "category"), [
    ("noun.artifact", "object"), ("noun.location", "scene"), ("verb.motion", "action"), ("adj.all", "attribute"),
    ("noun.cognition", "other"),
])
def test_lexname_mapping(lexname, category):
    assert category_of_lexname(lexname) == category


def test_suggest_merges_finds_shared_synsets_with_rank_confidence(wordnet):
    proposals = suggest_merges(wordnet, ["car", "dog", "automobile"])

    assert proposals == [MergeProposal("car", "automobile", "synset", 0.95,
                                       "share car.n.01 (sense 1 of 'car', sense 1 of 'automobile')")]


def test_lower_sense_ranks_lower_the_confidence():
    assert synset_confidence(0, 0) > synset_confidence(0, 1) > synset_confidence(2, 2)


def test_suggest_merges_pairs_plural_and_singular(wordnet):
    proposals = suggest_merges(wordnet, ["dog", "dogs"], reasons=["plural"])

    assert [(p.tag_a, p.tag_b, p.reason, p.confidence) for p in proposals] == [("dog", "dogs", "plural", 0.9)]


def test_suggest_merges_pairs_equal_translations(wordnet):
    proposals = suggest_merges(wordnet, ["bazaar", "fair", "dog"], {"bazaar": "集市 ", "fair": "集市", "dog": "狗"},
                               reasons=["translation"])

    assert [(p.tag_a, p.tag_b, p.reason) for p in proposals] == [("bazaar", "fair", "translation")]


def test_suggest_merges_refuses_unknown_reasons(wordnet):
    with pytest.raises(ValueError, match="unknown reason"):
        suggest_merges(wordnet, ["dog"], reasons=["vibes"])


@pytest.mark.slow
def test_ram_and_tag2text_union_has_real_merges(wordnet, shared_data_dir):
    ram = (shared_data_dir / "ram_tag_list.txt").read_text(encoding="utf-8").split("\n")
    chinese = (shared_data_dir / "ram_tag_list_chinese.txt").read_text(encoding="utf-8").split("\n")
    tag2text = (shared_data_dir / "tag2text_ori_tag_list.txt").read_text(encoding="utf-8").split("\n")
    vocabulary = list(dict.fromkeys(ram + tag2text))

    proposals = suggest_merges(wordnet, vocabulary, dict(zip(ram, chinese)))  # timing: bench/wordnet_merges.py

    pairs = {(p.tag_a, p.tag_b, p.reason) for p in proposals}
    assert len(vocabulary) > 5000
    assert ("plane", "airplane", "synset") in pairs
    assert {p.reason for p in proposals} == {"synset", "plural", "translation"}


def test_text_modules_import_neither_django_nor_torch():
    code = ("import sys, ram_model.text.wordnet, ram_model.text.synonyms; "
            "print(sorted(m for m in ('django', 'torch') if m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
