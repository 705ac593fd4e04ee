"""SceneGraph on hand-written dependency parses: the repairs of small-model mistakes, without spaCy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ram_model.text.graph import SceneGraph
from ram_model.text.lemmas import Lemmatizer
from ram_model.text.lexicon import Lexicon

ROOT = Path(__file__).resolve().parents[2]
VERB_RULES = [["s", ""], ["es", "e"], ["es", ""], ["ed", "e"], ["ed", ""], ["ing", "e"], ["ing", ""]]


@pytest.fixture(scope="module")
def lem() -> Lemmatizer:
    return Lemmatizer(
        noun_index=["fire", "hydrant", "sidewalk", "zebra", "grass", "cat", "water", "glass", "trash", "can",
                    "shadow", "ground", "woman", "dog", "kitchen", "interior", "brick", "wall"],
        verb_index=["stand", "drink", "walk", "can", "shadow"],
        noun_exc={},
        verb_exc={},
        noun_rules=[["s", ""]],
        verb_rules=VERB_RULES,
        adj_index=["yellow", "modern", "red"],
    )


def build(lem: Lemmatizer, tokens: list[tuple[str, str, str, int]]) -> SceneGraph:
    words, tags, deps, heads = (list(col) for col in zip(*tokens))
    return SceneGraph(words, tags, deps, heads, lexicon=Lexicon(), lemmatizer=lem)


def test_noun_mistagged_as_adjective_after_a_noun_becomes_the_head(lem):
    # spaCy small: A/det yellow/amod fire/ROOT hydrant/JJ-amod-of-fire on a sidewalk
    g = build(lem, [("a", "DT", "det", 2), ("yellow", "JJ", "amod", 2), ("fire", "NN", "ROOT", 2),
                    ("hydrant", "JJ", "amod", 2), ("on", "IN", "prep", 3), ("a", "DT", "det", 6),
                    ("sidewalk", "NN", "pobj", 4)])
    assert g.objects() == ["fire hydrant", "sidewalk"]
    assert g.attributes == [["fire hydrant", "yellow"]]
    assert g.relations == [["fire hydrant", "on", "sidewalk"]]


def test_ing_noun_after_a_compound_is_read_as_a_participle(lem):
    g = build(lem, [("zebra", "NN", "compound", 1), ("standing", "NN", "ROOT", 1), ("in", "IN", "prep", 1),
                    ("grass", "NN", "pobj", 2)])
    assert g.objects() == ["zebra", "grass"]
    assert g.relations == [["zebra", "stand in", "grass"]]


def test_participle_parsed_as_compound_gets_its_subject_and_object(lem):
    g = build(lem, [("a", "DT", "det", 1), ("cat", "NN", "ROOT", 1), ("drinking", "VBG", "compound", 3),
                    ("water", "NN", "appos", 1)])
    assert g.objects() == ["cat", "water"]
    assert g.relations == [["cat", "drink", "water"]]


def test_fragment_final_modal_is_a_noun(lem):
    g = build(lem, [("a", "DT", "det", 2), ("metal", "NN", "compound", 2), ("trash", "NN", "nsubj", 3),
                    ("can", "MD", "ROOT", 3)])
    assert g.objects() == ["trash can"]
    assert g.attributes == [["trash can", "metal"]]


def test_auxiliary_modal_stays_a_verb(lem):
    g = build(lem, [("you", "PRP", "nsubj", 2), ("can", "MD", "aux", 2), ("see", "VB", "ROOT", 2),
                    ("the", "DT", "det", 4), ("mountains", "NNS", "dobj", 2)])
    assert g.objects() == ["mountain"]


def test_fragment_initial_noun_read_as_imperative_is_a_noun(lem):
    g = build(lem, [("shadow", "VB", "ROOT", 0), ("on", "IN", "prep", 0), ("the", "DT", "det", 3),
                    ("ground", "NN", "pobj", 1)])
    assert g.objects() == ["shadow", "ground"]
    assert g.relations == [["shadow", "on", "ground"]]


def test_fragment_subject_attached_as_npadvmod(lem):
    g = build(lem, [("woman", "NN", "npadvmod", 1), ("walking", "VBG", "ROOT", 1), ("dog", "NN", "dobj", 1)])
    assert g.relations == [["woman", "walk", "dog"]]


def test_repair_that_would_make_a_cycle_is_undone(lem):
    # "walking" (NN, verbal) would be re-attached to "woman", which already hangs under it.
    g = build(lem, [("woman", "NN", "nsubj", 1), ("walking", "NN", "ROOT", 1), ("in", "IN", "prep", 1),
                    ("grass", "NN", "pobj", 2)])
    assert g.h == [1, 1, 1, 2]
    assert g.objects() == ["woman", "walking", "grass"]


def test_adjective_on_a_compound_modifier_describes_the_whole_object(lem):
    g = build(lem, [("modern", "JJ", "amod", 1), ("kitchen", "NN", "compound", 2), ("interior", "NN", "ROOT", 2)])
    assert g.objects() == ["kitchen interior"]
    assert g.attributes == [["kitchen interior", "modern"]]


def test_colour_on_a_material_modifier_describes_the_object(lem):
    g = build(lem, [("a", "DT", "det", 3), ("red", "JJ", "amod", 2), ("brick", "NN", "compound", 3),
                    ("wall", "NN", "ROOT", 3)])
    assert g.objects() == ["wall"]
    assert sorted(g.attributes) == [["wall", "brick"], ["wall", "red"]]


def test_text_package_imports_neither_torch_nor_spacy():
    code = (
        "import sys, ram_model.text, ram_model.text.tag_mapping, ram_model.text.noise, ram_model.text.graph;"
        "bad = [m for m in ('torch', 'spacy') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_parser_module_does_not_import_torch():
    code = "import sys, ram_model.text.parser, ram_model.parse; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
