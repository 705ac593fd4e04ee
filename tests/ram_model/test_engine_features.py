"""Region crops through an encoder: batching, chunking, normalisation, failures and the RAM encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ram_model.engine.features import (
    collect,
    crop_region,
    l2_normalise,
    pooled_image_encoder,
    region_features,
    region_outputs,
    tag_probabilities,
)
from ram_model.engine.regions import Region

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "half": (128, 128, 0)}


@pytest.fixture(scope="module")
def ram():
    """One tiny random RAM for the module (building it takes seconds)."""
    from ram_model import build_model

    torch.manual_seed(0)
    return build_model("ram_tiny").eval()


def _opener(opened: list[str] | None = None):
    def open_image(key: str) -> Image.Image:
        if opened is not None:
            opened.append(key)
        if key == "broken":
            raise OSError("cannot identify image file")
        image = Image.new("RGB", (40, 20), COLOURS[key])
        image.paste((0, 0, 255), (20, 0, 40, 20))  # right half blue
        return image

    return open_image


def _mean_colour(images: torch.Tensor) -> torch.Tensor:
    return images.mean(dim=(2, 3))  # (B, 3)


def _regions() -> list[Region]:
    return [
        Region("red", "a", (0, 0, 20, 20), 1.0, "t"),
        Region("green", "b", (0, 0, 20, 20), 1.0, "t"),
        Region("red", "c", (20, 0, 20, 20), 1.0, "t"),
        Region("half", "d", None, None, "t"),
        Region("green", "e", (20, 0, 20, 20), 1.0, "t"),
    ]


def test_crop_takes_the_xywh_box() -> None:
    image = Image.new("RGB", (40, 20))
    assert crop_region(image, (5, 2, 10, 8)).size == (10, 8)


def test_crop_context_grows_the_box_and_clips_to_the_image() -> None:
    image = Image.new("RGB", (40, 20))
    assert crop_region(image, (0, 0, 10, 10), context=0.5).size == (15, 15)


def test_crop_of_no_box_or_an_empty_box_is_the_whole_image() -> None:
    image = Image.new("RGB", (40, 20))
    assert crop_region(image, None).size == (40, 20)
    assert crop_region(image, (100, 100, 5, 5)).size == (40, 20)


def test_features_are_unit_length_and_in_region_order() -> None:
    features, valid = collect(region_features(_regions(), _opener(), _mean_colour, image_size=8, batch_size=2), 5)
    assert valid.all()
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)
    assert features[0].argmax() == 0 and features[1].argmax() == 1 and features[2].argmax() == 2


def test_chunked_run_equals_one_chunk_and_opens_each_image_once_per_chunk() -> None:
    opened: list[str] = []
    whole, _ = collect(region_features(_regions(), _opener(opened), _mean_colour, image_size=8), 5)
    assert sorted(opened) == ["green", "half", "red"]
    chunks = list(region_features(_regions(), _opener(), _mean_colour, image_size=8, chunk_size=2, batch_size=1))
    assert [c.start for c in chunks] == [0, 2, 4]
    np.testing.assert_allclose(np.concatenate([c.outputs for c in chunks]), whole, rtol=1e-6)


def test_thread_pool_loading_gives_the_same_features() -> None:
    plain, _ = collect(region_features(_regions(), _opener(), _mean_colour, image_size=8), 5)
    threaded, _ = collect(region_features(_regions(), _opener(), _mean_colour, image_size=8, threads=2), 5)
    np.testing.assert_array_equal(plain, threaded)


def test_unreadable_image_marks_its_regions_invalid_with_a_reason() -> None:
    regions = [*_regions(), Region("broken", "x", None, None, "t")]
    chunk = next(region_features(regions, _opener(), _mean_colour, image_size=8))
    assert chunk.valid.tolist() == [True] * 5 + [False]
    assert not chunk.outputs[5].any()
    assert "cannot identify" in chunk.errors[5]


def test_invalid_batch_size_raises() -> None:
    with pytest.raises(ValueError):
        next(region_outputs(_regions(), _opener(), _mean_colour, image_size=8, batch_size=0))


def test_l2_normalise_leaves_zero_rows_at_zero() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_ram_pooled_token_features_have_the_embedding_width(ram) -> None:
    features, valid = collect(region_features(_regions(), _opener(), pooled_image_encoder(ram),
                                              image_size=ram.image_size, batch_size=4), 5)
    assert features.shape == (5, 512) and valid.all()
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-5)


def test_ram_tag_probabilities_cover_every_class(ram) -> None:
    chunk = next(region_outputs(_regions()[:2], _opener(), tag_probabilities(ram), image_size=64))
    assert chunk.outputs.shape == (2, ram.num_classes)
    assert ((chunk.outputs >= 0) & (chunk.outputs <= 1)).all()
