"""Generation: above-threshold tags that are missing, and the before/after report."""

from __future__ import annotations

import numpy as np
import pytest

from ram_model.engine.generation import (
    Assignment,
    TagCountReport,
    generate_batch,
    missing_tags,
    predicted_tags,
)

TAGS = ["cat", "dog", "sky"]


def test_predicted_tags_are_strictly_above_their_threshold() -> None:
    scores = np.array([[0.9, 0.5, 0.71], [0.1, 0.2, 0.3]])
    assert predicted_tags(["a", "b"], scores, TAGS, [0.5, 0.5, 0.7]) == {"a": {"cat": 0.9, "sky": 0.71}, "b": {}}


def test_only_missing_tags_are_added_with_their_score() -> None:
    scores = np.array([[0.9, 0.8, 0.1]])
    added = generate_batch({"a": {"cat"}}, ["a"], scores, TAGS, 0.5)
    assert added == [Assignment("a", "dog", "generated", pytest.approx(0.8))]


def test_caption_tags_are_added_without_score_under_their_source() -> None:
    added = missing_tags({"a": {"cat"}}, {"a": ["cat", "grass"]}, "caption")
    assert added == [Assignment("a", "grass", "caption", None)]


def test_mismatched_threshold_count_raises() -> None:
    with pytest.raises(ValueError, match="2 thresholds for 3 classes"):
        predicted_tags(["a"], np.zeros((1, 3)), TAGS, [0.5, 0.5])


def test_report_counts_before_and_after_per_tag_and_source() -> None:
    existing = [Assignment("a", "cat", "parsed"), Assignment("b", "cat", "parsed"), Assignment("b", "dog", "manual")]
    added = [Assignment("a", "dog", "generated", 0.8), Assignment("a", "sky", "caption")]
    report = TagCountReport.build(existing, added).to_dict()
    assert report["total"] == {"before": 3, "after": 5, "growth": pytest.approx(5 / 3)}
    assert report["per_source"]["generated"] == {"before": 0, "after": 1}
    assert report["per_source"]["parsed"] == {"before": 2, "after": 2}
    assert report["per_tag"]["dog"] == {"before": 1, "after": 2, "added": {"generated": 1}}
    assert report["per_tag"]["sky"] == {"before": 0, "after": 1, "added": {"caption": 1}}
