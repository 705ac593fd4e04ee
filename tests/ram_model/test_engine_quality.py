"""Measured quality: each cleaning method's precision and recall on synthetic data with 10 % wrong tags."""

from __future__ import annotations

import numpy as np
import pytest

from ram_model.engine.clustering import ClusterConfig
from ram_model.engine.quality import clustering_mask, evaluate_methods, flag_quality, make_synthetic_engine_data


@pytest.fixture(scope="module")
def results() -> dict:
    return evaluate_methods(make_synthetic_engine_data(seed=0))


def test_synthetic_data_is_deterministic_and_ten_percent_wrong() -> None:
    a = make_synthetic_engine_data(num_images=300, seed=3)
    b = make_synthetic_engine_data(num_images=300, seed=3)
    np.testing.assert_array_equal(a.features, b.features)
    np.testing.assert_array_equal(a.tag, b.tag)
    assert a.is_wrong.mean() == pytest.approx(0.10, abs=0.005)


def test_wrong_tags_are_not_among_the_images_true_tags() -> None:
    data = make_synthetic_engine_data(num_images=300, seed=4)
    pairs = set(zip(data.image.tolist(), data.tag.tolist()))
    assert len(pairs) == len(data.tag)  # a wrong tag never duplicates a tag the image already has


def test_flag_quality_counts_precision_and_recall() -> None:
    quality = flag_quality(np.array([1, 1, 0, 0], bool), np.array([1, 0, 1, 0], bool))
    assert (quality.precision, quality.recall, quality.true_positives) == (0.5, 0.5, 1)


def test_clustering_flags_reach_the_quality_floor(results: dict) -> None:
    assert results["clustering"].precision >= 0.8 and results["clustering"].recall >= 0.8


def test_fast_clustering_preset_reaches_the_same_floor() -> None:
    data = make_synthetic_engine_data(seed=0)
    quality = flag_quality(clustering_mask(data, ClusterConfig.fast()), data.is_wrong)
    assert quality.precision >= 0.8 and quality.recall >= 0.8


def test_baseline_rejection_reaches_the_quality_floor(results: dict) -> None:
    assert results["rejection"].precision >= 0.75 and results["rejection"].recall >= 0.9


def test_confident_learning_reaches_the_quality_floor(results: dict) -> None:
    assert results["confident_learning"].precision >= 0.9 and results["confident_learning"].recall >= 0.7


def test_combining_clustering_and_rejection_raises_recall(results: dict) -> None:
    assert results["clustering_or_rejection"].recall > max(results["clustering"].recall, results["rejection"].recall)
