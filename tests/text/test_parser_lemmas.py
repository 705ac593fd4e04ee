"""WordNet-table lemmatiser, with small hand-made tables (no spaCy needed)."""

from __future__ import annotations

import pytest

from ram_model.text.lemmas import Lemmatizer

NOUN_RULES = [["s", ""], ["ses", "s"], ["ves", "f"], ["xes", "x"], ["ches", "ch"], ["shes", "sh"], ["men", "man"],
              ["ies", "y"]]
VERB_RULES = [["s", ""], ["ies", "y"], ["es", "e"], ["es", ""], ["ed", "e"], ["ed", ""], ["ing", "e"], ["ing", ""]]


@pytest.fixture
def lem() -> Lemmatizer:
    return Lemmatizer(
        noun_index=["dog", "puppy", "cookie", "cooky", "bus", "glass", "leaf", "leave", "man", "box", "wolf", "house"],
        verb_index=["ride", "rid", "swing", "swinge", "sit", "park", "stripe", "strip", "use", "run", "top"],
        noun_exc={"children": ["child"], "leaves": ["leaf", "leave"]},
        verb_exc={"ridden": ["ride"], "lying": ["lie"]},
        noun_rules=NOUN_RULES,
        verb_rules=VERB_RULES,
        adj_index=["red"],
        plural_only=["glasses", "people"],
    )


@pytest.mark.parametrize(
    ("word", "lemma"),
    [("riding", "ride"), ("swinging", "swing"), ("sitting", "sit"), ("parked", "park"), ("striped", "stripe"),
     ("topped", "top"), ("ridden", "ride"), ("lying", "lie"), ("rides", "ride"), ("running", "run")],
)
def test_verb_lemmas(lem, word, lemma):
    assert lem.verb(word, inflected=True) == lemma


def test_unknown_inflected_verb_is_guessed_only_when_tagged(lem):
    assert lem.verb("skateboarding", inflected=True) == "skateboard"
    assert lem.verb("across") == "across"


@pytest.mark.parametrize(
    ("word", "lemma"),
    [("dogs", "dog"), ("puppies", "puppy"), ("buses", "bus"), ("men", "man"), ("children", "child"),
     ("leaves", "leaf"), ("wolves", "wolf"), ("boxes", "box"), ("houses", "house"), ("cookies", "cookie")],
)
def test_plural_nouns_are_made_singular(lem, word, lemma):
    assert lem.noun(word, plural=True) == lemma


def test_singular_looking_nouns_are_left_alone_without_a_tag(lem):
    assert lem.noun("bus") == "bus"
    assert lem.noun("glass") == "glass"


def test_plural_only_nouns_stay_plural(lem):
    assert lem.noun("glasses", plural=True) == "glasses"
    assert lem.noun("people", plural=True) == "people"


def test_unknown_plural_falls_back_to_dropping_s(lem):
    assert lem.noun("selfies", plural=True) == "selfie"


def test_lemma_dispatches_on_the_penn_tag(lem):
    assert lem.lemma("dogs", "NNS") == "dog"
    assert lem.lemma("riding", "VBG") == "ride"
    assert lem.lemma("Paris", "NNP") == "Paris"
    assert lem.lemma("red", "JJ") == "red"


def test_index_membership(lem):
    assert lem.is_noun("dog") and not lem.is_noun("ride")
    assert lem.is_verb("ride")
    assert lem.is_adjective("red")
