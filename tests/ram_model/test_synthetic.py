"""Synthetic image–caption generator: determinism, agreement of images, captions and tags, file layout."""

import json

import numpy as np
import pytest

from ram_model.data.records import load_ram_json
from ram_model.synthetic import COLOURS, Group, Scene, SyntheticConfig, make_example, write_dataset


def test_same_seed_and_index_give_the_same_image_and_scene():
    config = SyntheticConfig(image_size=48)
    image_a, scene_a = make_example(3, 7, config)
    image_b, scene_b = make_example(3, 7, config)
    assert scene_a == scene_b
    assert image_a.tobytes() == image_b.tobytes()


def test_different_seeds_give_different_streams():
    config = SyntheticConfig(image_size=48)
    a = [make_example(0, i, config)[1] for i in range(20)]
    b = [make_example(1, i, config)[1] for i in range(20)]
    assert a != b


def test_caption_names_counts_colours_shapes_and_relation():
    scene = Scene((Group(2, "red", "circle"), Group(1, "blue", "square")), "above")
    assert scene.captions()[0] == "two red circles above a blue square"
    assert scene.captions()[1] == "a blue square below two red circles"
    assert scene.tags() == ["blue", "circle", "red", "square"]


@pytest.mark.parametrize("index", range(12))
def test_every_tagged_colour_is_drawn_in_the_image(index):
    image, scene = make_example(5, index, SyntheticConfig(image_size=64))
    pixels = np.asarray(image).reshape(-1, 3).astype(int)
    for colour in scene.tags():
        if colour in COLOURS:
            distance = np.abs(pixels - np.array(COLOURS[colour])).max(axis=1)
            assert (distance <= 20).sum() >= 20, colour


def test_write_dataset_produces_a_ram_training_json_the_loader_reads(tmp_path):
    paths = write_dataset(tmp_path, 6, seed=2)
    tags = paths["tag_list"].read_text().split("\n")
    records = load_ram_json([paths["train_json"]], "", len(tags))
    assert len(records) == 6
    lines = [json.loads(line) for line in paths["annotations"].read_text().splitlines()]
    for record, line in zip(records, lines):
        assert sorted(tags[i] for i in record.union_label_id) == line["tags"]
        assert record.image.endswith(line["image"]) and (tmp_path / line["image"]).is_file()
        assert all(parse == record.union_label_id for parse in record.parse_label_id)


def test_write_dataset_can_index_tags_into_a_larger_tag_list(tmp_path):
    big = ["zebra", *SyntheticConfig().tag_list()[::-1], "apple"]
    paths = write_dataset(tmp_path, 3, seed=0, tag_list=big)
    records = json.loads(paths["train_json"].read_text())
    lines = [json.loads(line) for line in paths["annotations"].read_text().splitlines()]
    for record, line in zip(records, lines):
        assert sorted(big[i] for i in record["union_label_id"]) == line["tags"]


def test_write_dataset_rejects_a_tag_list_missing_generator_tags(tmp_path):
    with pytest.raises(ValueError, match="lacks the generator tags"):
        write_dataset(tmp_path, 1, tag_list=["red"])


def test_tag_kinds_select_which_words_become_tags(tmp_path):
    config = SyntheticConfig(tag_kinds=("colour",))
    assert config.tag_list() == list(COLOURS)
    paths = write_dataset(tmp_path, 4, seed=0, config=config)
    for line in paths["annotations"].read_text().splitlines():
        assert set(json.loads(line)["tags"]) <= set(COLOURS)


def test_learning_recipe_data_keeps_counts_relations_and_every_tag():
    """The learning test's generator settings (at most two shapes a group) still say "two red circles above …"."""
    import re

    from ram_model.train.recipes import synthetic_data

    config = synthetic_data()
    scenes = [make_example(0, i, config)[1] for i in range(80)]
    captions = [c for s in scenes for c in s.captions()]
    assert all(g.count <= 2 for s in scenes for g in s.groups)
    assert any(re.fullmatch(r"two \w+ \w+s (above|below|left of|right of) (a|two) \w+ \w+", c) for c in captions)
    assert {t for s in scenes for t in s.tags()} == set(config.tag_list()) == set(COLOURS) | {
        "circle", "square", "triangle", "star"}
