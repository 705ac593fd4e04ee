"""Cleaning end to end on coloured images: regions, features, cluster and rejection flags with evidence."""

from __future__ import annotations

import zlib

import numpy as np
import torch
from PIL import Image

from ram_model.engine.cleaning import clean_assignments
from ram_model.engine.clustering import ClusterConfig
from ram_model.engine.regions import DetectionsFileSource, GroundingDinoSource

RGB = {"red": (220, 20, 20), "green": (20, 200, 20), "blue": (20, 20, 220)}
CLASSES = {"red": 0, "green": 1, "blue": 2}


def _open(key: str) -> Image.Image:
    """``colour-n`` → a 32×32 image of that colour with a little noise (fixed by the key)."""
    if key.startswith("missing"):
        raise OSError("no such file")
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    pixels = np.array(RGB[key.split("-")[0]], dtype=float) + rng.normal(0, 8, (32, 32, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _mean_colour(images: torch.Tensor) -> torch.Tensor:
    return images.mean(dim=(2, 3))


def _colour_probabilities(images: torch.Tensor) -> torch.Tensor:
    return torch.softmax(8 * images.mean(dim=(2, 3)), dim=1)  # (B, 3) in red, green, blue order


def _assignments() -> list[tuple[str, str, str]]:
    rows = [(f"{c}-{i}/{c}", f"{c}-{i}", c) for c in RGB for i in range(30)]
    rows.append(("wrong/red", "blue-99", "red"))  # a blue image tagged red
    return rows


def _clean(**options):
    return clean_assignments(_assignments(), sources=[], open_image=_open, encoder=_mean_colour, image_size=16,
                             config=ClusterConfig(flag_fraction=0.05), **options)


def test_the_wrong_tag_is_its_categorys_farthest_region() -> None:
    result = _clean()
    outliers = [f for f in result.flags if f.reason == "cluster_outlier" and f.tag == "red"]
    assert outliers[0].assignment == "wrong/red" and outliers[0].rank == 0
    assert outliers[0].cluster == 0 and outliers[0].distance > 0 and outliers[0].percentile == 1.0
    assert result.categories["red"]["regions"] == 31


def test_baseline_rejection_flags_only_the_tag_missing_from_its_region() -> None:
    result = _clean(probabilities=_colour_probabilities, class_index=CLASSES, thresholds=0.5)
    rejected = [f for f in result.flags if f.reason == "baseline_rejection"]
    assert [f.assignment for f in rejected] == ["wrong/red"]
    assert rejected[0].score < 0.5 and rejected[0].threshold == 0.5


def test_flags_keep_the_region_box_from_the_detections_file() -> None:
    detections = DetectionsFileSource([{"image_id": "blue-99", "tag": "red", "bbox": [2, 2, 20, 20], "score": 0.4}])
    result = clean_assignments(_assignments(), sources=[detections], open_image=_open, encoder=_mean_colour,
                               image_size=16, config=ClusterConfig(flag_fraction=0.05))
    flag = next(f for f in result.flags if f.assignment == "wrong/red")
    assert (flag.box, flag.region_source, flag.score) == ((2.0, 2.0, 20.0, 20.0), "detections", 0.4)


def test_missing_regions_get_the_whole_image_box_when_asked() -> None:
    result = _clean(whole_image_boxes=True)
    assert result.regions[0].box == (0.0, 0.0, 32.0, 32.0) and result.regions[0].source == "whole_image"


def test_only_the_chosen_categories_are_cleaned() -> None:
    result = _clean(categories=["green"], probabilities=_colour_probabilities, class_index=CLASSES, thresholds=0.9)
    assert set(result.categories) == {"green"} and len(result.regions) == 30
    assert {f.tag for f in result.flags} == {"green"}


def test_unavailable_sources_and_unreadable_images_are_reported_not_raised() -> None:
    rows = [*_assignments(), ("gone", "missing-1", "red")]
    result = clean_assignments(rows, sources=[GroundingDinoSource(None)], open_image=_open, encoder=_mean_colour,
                               image_size=16)
    assert "grounding_dino" in result.skipped_sources
    assert list(result.image_errors) == [len(rows) - 1]
    assert all(f.assignment != "gone" for f in result.flags)
