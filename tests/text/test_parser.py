"""Caption parser on the real spaCy pipeline: one test per construction, with explicit expected output."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ram_model.text.parser import CaptionParser


@pytest.fixture(scope="module")
def parser() -> CaptionParser:
    return CaptionParser()


def parse(parser: CaptionParser, caption: str) -> dict:
    return parser.parse(caption)


def test_result_has_the_stable_json_shape(parser):
    result = parse(parser, "a man riding a horse on the beach")
    assert list(result) == ["caption", "objects", "attributes", "relations", "tags"]
    assert json.loads(json.dumps(result)) == result


def test_verb_relation_and_prepositional_relation(parser):
    result = parse(parser, "a man riding a horse on the beach")
    assert result["objects"] == ["man", "horse", "beach"]
    assert ["man", "ride", "horse"] in result["relations"]
    assert ["man", "on", "beach"] in result["relations"] or ["horse", "on", "beach"] in result["relations"]


def test_conjoined_nouns_are_separate_objects(parser):
    assert parse(parser, "a dog and a cat")["objects"] == ["dog", "cat"]


def test_conjoined_subjects_share_the_relation(parser):
    result = parse(parser, "a dog and a cat sleeping on a bed")
    assert result["relations"] == [["dog", "sleep on", "bed"], ["cat", "sleep on", "bed"]]


def test_counted_nouns_are_lemmatised_and_counts_are_not_attributes(parser):
    result = parse(parser, "two men")
    assert result["objects"] == ["man"]
    assert result["attributes"] == []


def test_compound_nouns_stay_one_object(parser):
    result = parse(parser, "a hot dog next to a teddy bear and a traffic light")
    assert result["objects"] == ["hot dog", "teddy bear", "traffic light"]


def test_passive_with_agent_is_turned_active(parser):
    assert parse(parser, "a horse ridden by a man")["relations"] == [["man", "ride", "horse"]]


def test_possessive_becomes_have(parser):
    result = parse(parser, "the man's hat")
    assert result["objects"] == ["man", "hat"]
    assert result["relations"] == [["man", "have", "hat"]]


def test_container_of_phrase_keeps_both_and_links_content_to_container(parser):
    result = parse(parser, "a glass of water")
    assert result["objects"] == ["glass", "water"]
    assert result["relations"] == [["water", "in", "glass"]]


def test_collective_of_phrase_keeps_only_the_members(parser):
    assert parse(parser, "a group of people")["objects"] == ["people"]
    assert parse(parser, "a bunch of bananas")["objects"] == ["banana"]


def test_caption_level_photo_of_is_dropped(parser):
    result = parse(parser, "a photo of a dog on a couch")
    assert result["objects"] == ["dog", "couch"]
    assert result["relations"] == [["dog", "on", "couch"]]


def test_colour_and_material_adjectives_are_attributes(parser):
    result = parse(parser, "a red wooden chair")
    assert result["objects"] == ["chair"]
    assert result["attributes"] == [["chair", "red"], ["chair", "wooden"]]


def test_material_noun_modifier_is_an_attribute_not_part_of_the_name(parser):
    result = parse(parser, "a metal bench")
    assert result["objects"] == ["bench"]
    assert result["attributes"] == [["bench", "metal"]]


def test_predicate_adjective_after_copula_is_an_attribute(parser):
    assert parse(parser, "the sky is blue")["attributes"] == [["sky", "blue"]]


def test_verb_without_object_joins_its_preposition(parser):
    assert parse(parser, "a cat sitting on a couch")["relations"] == [["cat", "sit on", "couch"]]


def test_complex_prepositions_are_kept_whole(parser):
    assert parse(parser, "a cat in front of a mirror")["relations"] == [["cat", "in front of", "mirror"]]
    assert parse(parser, "a lamp next to a bed")["relations"] == [["lamp", "next to", "bed"]]


def test_relative_clause_subject_is_the_noun_it_modifies(parser):
    assert parse(parser, "a woman who is holding an umbrella")["relations"] == [["woman", "hold", "umbrella"]]


def test_existential_there_is(parser):
    assert parse(parser, "there is a cat on the table")["relations"] == [["cat", "on", "table"]]


def test_region_style_fragment(parser):
    result = parse(parser, "white clouds in blue sky")
    assert result["objects"] == ["cloud", "sky"]
    assert result["attributes"] == [["cloud", "white"], ["sky", "blue"]]
    assert result["relations"] == [["cloud", "in", "sky"]]


def test_lowercase_caption_without_articles(parser):
    result = parse(parser, "man riding horse on beach")
    assert result["objects"] == ["man", "horse", "beach"]
    assert ["man", "ride", "horse"] in result["relations"]


def test_web_noise_is_ignored(parser):
    result = parse(parser, "cute puppy playing w/ ball in backyard!!! 😍 #dogs http://t.co/x @bob")
    assert result["objects"] == ["puppy", "ball", "backyard"]
    assert result["attributes"] == [["puppy", "cute"]]
    assert result["relations"] == [["puppy", "play with", "ball"], ["puppy", "play in", "backyard"]]


def test_chat_spellings_and_typos_are_tolerated(parser):
    result = parse(parser, "kids playin soccer at teh park")
    assert result["objects"] == ["kid", "soccer", "park"]
    assert result["relations"] == [["kid", "play", "soccer"], ["kid", "at", "park"]]


def test_html_entities_are_decoded(parser):
    assert parse(parser, "fish &amp; chips on a plate")["objects"] == ["fish", "chip", "plate"]


def test_shouted_caption_is_parsed_like_lower_case(parser):
    result = parse(parser, "VINTAGE RED TRUCK PARKED ON FARM")
    assert result["objects"] == ["truck", "farm"]
    assert result["attributes"] == [["truck", "vintage"], ["truck", "red"]]
    assert result["relations"] == [["truck", "park on", "farm"]]


def test_tags_hold_objects_attributes_and_actions(parser):
    assert parse(parser, "two puppies playing on the beach")["tags"] == ["puppy", "beach", "play"]
    assert parse(parser, "a red wooden chair")["tags"] == ["chair", "red", "wooden"]


def test_empty_and_noise_only_captions_give_empty_results(parser):
    for caption in ["", "   ", "😍😍 #love http://t.co/x"]:
        result = parse(parser, caption)
        assert result == {"caption": caption, "objects": [], "attributes": [], "relations": [], "tags": []}


def test_parse_many_keeps_order_and_count(parser):
    captions = ["a dog", "", "a red car", "two cats"]
    results = list(parser.parse_many(captions, batch_size=2))
    assert [r["caption"] for r in results] == captions
    assert [r["objects"] for r in results] == [["dog"], [], ["car"], ["cat"]]


def test_participle_after_a_with_or_in_phrase_belongs_to_the_outer_noun(parser):
    result = parse(parser, "A man in a suit talking on a cell phone.")
    assert result["relations"] == [["man", "in", "suit"], ["man", "talk on", "cell phone"]]


def test_lemmatiser_prefers_ride_over_rid(parser):
    assert parse(parser, "a girl riding a bike")["relations"] == [["girl", "ride", "bike"]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80))
def test_any_text_parses_to_the_result_shape(parser, text):
    result = parse(parser, text)
    assert result["caption"] == text
    assert all(isinstance(o, str) and o for o in result["objects"])
    assert all(len(a) == 2 and a[0] in result["objects"] for a in result["attributes"])
    assert all(len(r) == 3 and r[0] in result["objects"] and r[2] in result["objects"] for r in result["relations"])


def test_overlong_caption_is_truncated_not_fatal(parser):
    caption = "a dog on a couch " + "and a cat " * 100_000
    result = parse(parser, caption)
    assert result["caption"] == caption
    assert result["objects"][:3] == ["dog", "couch", "cat"]
