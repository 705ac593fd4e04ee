"""Baseline rejection: tags the baseline does not predict on their own region."""

from __future__ import annotations

import numpy as np
import pytest

from ram_model.engine.features import RegionChunk
from ram_model.engine.regions import Region
from ram_model.engine.rejection import baseline_rejections, region_tag_scores


def test_scores_below_the_tag_threshold_are_flagged_with_the_score() -> None:
    flags = baseline_rejections(["cat", "dog", "cat"], [0.2, 0.6, 0.9], {"dog": 0.7}, default_threshold=0.5,
                                ids=["a", "b", "c"])
    assert [(f.id, f.tag, f.score, f.threshold) for f in flags] == [("a", "cat", 0.2, 0.5), ("b", "dog", 0.6, 0.7)]


def test_a_single_threshold_applies_to_every_tag() -> None:
    assert [f.id for f in baseline_rejections(["cat", "dog"], [0.3, 0.5], 0.4)] == [0]


def test_missing_scores_are_not_flagged() -> None:
    assert baseline_rejections(["cat"], [float("nan")], 0.5) == []


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError):
        baseline_rejections(["cat"], [0.1, 0.2])


def test_region_scores_pick_each_regions_own_tag_column() -> None:
    regions = [Region("i", "cat", None, None, "t"), Region("j", "dog", None, None, "t"),
               Region("k", "unknown", None, None, "t"), Region("l", "cat", None, None, "t")]
    probs = np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]], dtype=np.float32)

    def fake(rs):
        yield RegionChunk(0, probs[:2], np.array([True, True]))
        yield RegionChunk(2, probs[2:], np.array([True, False]))

    scores = region_tag_scores(regions, {"cat": 0, "dog": 1}, fake)
    np.testing.assert_allclose(scores[:2], [0.1, 0.8], rtol=1e-6)
    assert np.isnan(scores[2]) and np.isnan(scores[3])
