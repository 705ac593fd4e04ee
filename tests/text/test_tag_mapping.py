"""TagMapper: phrases -> tag IDs through synonym groups, with unmapped-phrase counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ram_model.text.tag_mapping import TagMapper, singular_candidates

GROUPS = [
    {"id": 0, "tags": ["dog", "puppy"]},
    {"id": 1, "tags": ["grass"]},
    {"id": 2, "tags": ["play"]},
    {"id": 3, "tags": ["traffic light"]},
    {"id": 4, "tags": ["light"]},
    {"id": 5, "tags": ["hot dog"]},
    {"id": 6, "tags": ["bus"]},
    {"id": 7, "tags": ["city street", "street"]},
    {"id": 8, "tags": ["T-Shirt"]},
    {"id": 9, "tags": ["glasses"]},
    {"id": 10, "tags": ["glass"]},
]


@pytest.fixture
def mapper() -> TagMapper:
    return TagMapper(GROUPS)


def test_synonyms_share_one_group(mapper):
    assert mapper.lookup("dog") == mapper.lookup("puppy") == 0


def test_lookup_is_case_insensitive(mapper):
    assert mapper.lookup("Traffic LIGHT") == 3
    assert mapper.lookup("t-shirt") == 8


def test_plurals_map_to_the_singular_tag(mapper):
    assert mapper.lookup("puppies") == 0
    assert mapper.lookup("buses") == 6
    assert mapper.lookup("traffic lights") == 3


def test_plural_tag_is_matched_as_written_before_singularising(mapper):
    assert mapper.lookup("glasses") == 9
    assert mapper.lookup("glass") == 10


def test_longest_match_wins_for_multi_word_tags(mapper):
    result = mapper.map_tags(["traffic light", "hot dog"])
    assert result.tag_ids == [3, 5]
    assert result.matched == [("traffic light", 3), ("hot dog", 5)]


def test_phrase_without_whole_match_is_split_into_known_tags(mapper):
    result = mapper.map_tags(["red traffic lights near a hot dog stand"])
    assert result.tag_ids == [3, 5]
    assert result.unmapped == Counter({"red": 1, "near": 1, "stand": 1})


def test_example_caption_tags_map_to_dog_grass_play(mapper):
    assert mapper.map_tags(["puppy", "grass", "play"]).tag_ids == [0, 1, 2]


def test_unmapped_phrases_are_counted(mapper):
    report = mapper.map_all([["dog", "zebra"], ["zebra", "grass"], ["striped zebra"]])
    assert report.tag_ids == [[0], [1], []]
    assert report.tag_counts == Counter({0: 1, 1: 1})
    assert report.unmapped == Counter({"zebra": 2, "striped zebra": 1})


def test_stopwords_and_numbers_are_neither_tags_nor_unmapped(mapper):
    result = mapper.map_tags(["two dogs on the grass", "3 puppies"])
    assert result.tag_ids == [0, 1]
    assert result.unmapped == Counter()


def test_same_tag_in_two_groups_is_rejected():
    with pytest.raises(ValueError, match="groups 0 and 1"):
        TagMapper([{"id": 0, "tags": ["dog"]}, {"id": 1, "tags": ["Dog"]}])


@pytest.mark.parametrize(
    "groups",
    [[{"id": "0", "tags": ["dog"]}], [{"id": 0, "tags": []}], [{"id": 0, "tags": ["dog"]}, {"id": 0, "tags": ["cat"]}]],
)
def test_malformed_groups_are_rejected(groups):
    with pytest.raises(ValueError):
        TagMapper(groups)


def test_tag_list_file_gives_one_group_per_line(tmp_path):
    path = tmp_path / "tags.txt"
    path.write_text("3D CG rendering\ndog\nt shirt\nt-shirt\ntraffic light\n", encoding="utf-8")
    mapper = TagMapper.from_tag_list(path)
    assert len(mapper) == 5
    assert mapper.lookup("3d cg rendering") == 0
    assert mapper.lookup("dogs") == 1
    assert mapper.lookup("t-shirt") == 3  # exact spelling first; the word form "t shirt" is group 2's
    assert mapper.map_tags(["traffic lights"]).tag_ids == [4]


def test_custom_singulariser_is_tried_first():
    mapper = TagMapper([{"id": 0, "tags": ["goose"]}], singularise={"geese": "goose"}.get)
    assert mapper.lookup("geese") == 0


def test_repeated_phrases_hit_the_cache(mapper):
    mapper.map_phrase("puppies")
    mapper.map_phrase("puppies")
    assert mapper._lookup_phrase.cache_info().hits >= 1


@pytest.mark.parametrize(
    ("word", "candidates"),
    [("dogs", ("dog",)), ("puppies", ("puppy", "puppie")), ("buses", ("buse", "bus")), ("bus", ()),
     ("glass", ()), ("knives", ("knife",))],
)
def test_singular_candidates(word, candidates):
    assert singular_candidates(word) == candidates


def test_end_to_end_with_the_parser():
    from ram_model.text.parser import CaptionParser

    tags = CaptionParser().parse("two puppies playing on grass")["tags"]
    assert TagMapper(GROUPS).map_tags(tags).tag_ids == [0, 1, 2]


RAM_TAG_LIST = Path(__file__).resolve().parents[2] / "ram_model" / "assets" / "ram_tag_list.txt"


@pytest.mark.skipif(not RAM_TAG_LIST.exists(), reason="RAM tag list asset not in this checkout")
def test_ram_tag_list_maps_parsed_tags():
    mapper = TagMapper.from_tag_list(RAM_TAG_LIST)
    assert len(mapper) > 4000
    result = mapper.map_tags(["man", "horse", "beach", "ride", "traffic lights", "wooden"])
    assert [mapper.names[i] for i in result.tag_ids] == ["man", "horse", "beach", "ride", "traffic light"]
    assert result.unmapped == Counter({"wooden": 1})
