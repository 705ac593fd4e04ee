"""Confident learning (cleanlab, multi-label) as a second detector of wrong tags, per (image, tag)."""

from __future__ import annotations

import numpy as np
import pytest

from ram_model.engine.confident import availability, confident_learning_flags


def _problem() -> tuple[list[list[int]], np.ndarray]:
    """60 images, 3 classes; image 0 is labelled class 2 though the model is sure it is class 0 only."""
    rng = np.random.default_rng(0)
    labels = [[i % 3] for i in range(60)]
    probs = np.full((60, 3), 0.05) + 0.02 * rng.random((60, 3))
    for i, row in enumerate(labels):
        probs[i, row[0]] = 0.95
    labels[0] = [2]
    return labels, probs


def test_cleanlab_is_available_in_the_environment() -> None:
    assert availability().available


def test_a_wrong_assigned_tag_is_flagged_for_that_image_and_tag() -> None:
    labels, probs = _problem()
    flags = confident_learning_flags(labels, probs)
    assert [(f.image, f.tag, f.kind) for f in flags] == [(0, 2, "wrong")]
    assert flags[0].probability == pytest.approx(probs[0, 2])


def test_confident_absences_are_reported_only_when_asked() -> None:
    labels, probs = _problem()
    flags = confident_learning_flags(labels, probs, include_missing=True)
    assert {(f.image, f.tag, f.kind) for f in flags} == {(0, 2, "wrong"), (0, 0, "missing")}


def test_low_memory_mode_finds_the_same_wrong_tag() -> None:
    labels, probs = _problem()
    assert [(f.image, f.tag) for f in confident_learning_flags(labels, probs, low_memory=True)] == [(0, 2)]


def test_class_outside_the_probabilities_raises() -> None:
    with pytest.raises(ValueError, match="class 5"):
        confident_learning_flags([[5]], np.zeros((1, 3)))
