"""Per-category K-Means++ outlier flags: counts, ranking, evidence, subsets, processes, large categories."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ram_model.engine.clustering import (
    ClusterConfig,
    choose_k,
    cluster_categories,
    cluster_category,
    cluster_flags,
    cluster_groups,
    flagged_mask,
    summary,
)


def _blobs(n: int, outliers: int, seed: int, dim: int = 16, modes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points around ``modes`` centres plus ``outliers`` far-away points; returns features and truth."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((modes, dim)) * 3
    inliers = centres[rng.integers(0, modes, n - outliers)] + 0.3 * rng.standard_normal((n - outliers, dim))
    far = rng.standard_normal((outliers, dim)) * 3 + 12 * rng.choice([-1, 1], size=(outliers, dim))
    truth = np.r_[np.zeros(n - outliers, bool), np.ones(outliers, bool)]
    return np.vstack([inliers, far]), truth


def test_k_is_capped_by_regions_per_cluster() -> None:
    config = ClusterConfig(k=8, min_per_cluster=50)
    assert [choose_k(n, config) for n in (10, 120, 1000)] == [1, 2, 8]


def test_the_configured_fraction_of_each_category_is_flagged() -> None:
    features, _ = _blobs(200, 0, seed=0)
    result = cluster_category("dog", features, ClusterConfig(flag_fraction=0.15))
    assert result.flagged.sum() == 30


def test_flagged_regions_are_the_most_distant_ones() -> None:
    features, _ = _blobs(300, 0, seed=1)
    result = cluster_category("dog", features, ClusterConfig())
    assert result.distances[result.flagged].min() >= result.distances[~result.flagged].max()


def test_planted_outliers_are_flagged() -> None:
    features, truth = _blobs(400, 40, seed=2)
    result = cluster_category("dog", features, ClusterConfig(k=3, flag_fraction=0.10))
    np.testing.assert_array_equal(result.flagged, truth)


def test_flags_carry_category_cluster_distance_rank_and_percentile() -> None:
    features, _ = _blobs(100, 10, seed=3)
    flags = cluster_flags([cluster_category("dog", features, ClusterConfig(k=2), ids=np.arange(100) + 1000)])
    assert len(flags) == 10
    first = flags[0]
    assert first.category == "dog" and first.rank == 0 and first.percentile == 1.0
    assert first.id >= 1000 and first.category_size == 100 and first.cluster_size >= 1
    assert [f.rank for f in flags] == list(range(10))
    assert all(a.distance >= b.distance for a, b in itertools.pairwise(flags))


def test_only_the_chosen_categories_are_clustered() -> None:
    features, _ = _blobs(300, 0, seed=4)
    categories = ["cat"] * 100 + ["dog"] * 100 + ["fish"] * 100
    results = cluster_categories(features, categories, ClusterConfig(), only=["dog"])
    assert [r.category for r in results] == ["dog"]
    assert results[0].ids.tolist() == list(range(100, 200))


def test_a_category_gets_the_same_result_alone_or_with_others() -> None:
    features, _ = _blobs(300, 20, seed=5)
    categories = ["cat"] * 150 + ["dog"] * 150
    together = {r.category: r for r in cluster_categories(features, categories, ClusterConfig(k=3))}
    alone = cluster_categories(features, categories, ClusterConfig(k=3), only=["dog"])[0]
    np.testing.assert_array_equal(alone.flagged, together["dog"].flagged)


def test_processes_give_the_same_flags_as_one_process() -> None:
    features, _ = _blobs(400, 20, seed=6)
    categories = [f"c{i % 4}" for i in range(400)]
    serial = cluster_categories(features, categories, ClusterConfig(k=3))
    parallel = cluster_categories(features, categories, ClusterConfig(k=3), n_jobs=2)
    assert [r.category for r in parallel] == [r.category for r in serial]
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.flagged, b.flagged)


def test_large_categories_use_minibatch_kmeans() -> None:
    features, truth = _blobs(600, 60, seed=7)
    result = cluster_category("dog", features, ClusterConfig(k=3, minibatch_above=500, batch_size=256))
    assert result.algorithm == "minibatch"
    assert (result.flagged & truth).sum() >= 55


def test_kmeans_plus_plus_seeded_on_a_sample_still_finds_planted_outliers() -> None:
    features, truth = _blobs(400, 40, seed=2)
    result = cluster_category("dog", features, ClusterConfig(k=3, init_sample=100, n_init=2))
    assert result.algorithm == "kmeans" and result.centers.shape == (3, 16)
    np.testing.assert_array_equal(result.flagged, truth)


def test_fast_preset_seeds_on_a_sample_and_caps_lloyd_iterations() -> None:
    config = ClusterConfig.fast(k=3)
    assert (config.dtype, config.init_sample, config.max_iter, config.tol, config.k) == ("float32", 500, 10, 0.0, 3)
    features, truth = _blobs(400, 40, seed=2)
    np.testing.assert_array_equal(cluster_category("dog", features, config).flagged, truth)


def test_fitting_on_a_sample_still_measures_every_region() -> None:
    features, truth = _blobs(400, 40, seed=2)
    result = cluster_category("dog", features, ClusterConfig(k=3, fit_sample=150))
    assert len(result.distances) == 400 and result.distances.all()
    assert (result.flagged & truth).sum() >= 36


def test_small_categories_are_skipped_without_flags() -> None:
    result = cluster_category("rare", np.ones((5, 4)), ClusterConfig(min_regions=10))
    assert result.algorithm == "skipped" and not result.flagged.any()
    assert cluster_flags([result]) == []


def test_ignoring_small_clusters_flags_a_clump_that_got_its_own_centre() -> None:
    rng = np.random.default_rng(8)
    inliers = rng.standard_normal((380, 8)) * 0.5
    clump = 20 + 0.05 * rng.standard_normal((20, 8))  # tight wrong group: k-means gives it a centre
    features = np.vstack([inliers, clump])
    plain = cluster_category("dog", features, ClusterConfig(k=4, min_per_cluster=10, flag_fraction=0.05,
                                                            ignore_cluster_share=0.0))
    robust = cluster_category("dog", features, ClusterConfig(k=4, min_per_cluster=10, flag_fraction=0.05,
                                                             ignore_cluster_share=0.1))
    assert plain.flagged[380:].sum() < 10
    assert robust.flagged[380:].all()


def test_flagged_mask_and_summary_cover_all_rows() -> None:
    features, _ = _blobs(200, 0, seed=9)
    results = cluster_categories(features, ["a"] * 100 + ["b"] * 100, ClusterConfig())
    assert flagged_mask(results, 200).sum() == 20
    assert summary(results)["a"] == {"regions": 100, "k": 2, "algorithm": "kmeans", "flagged": 10}


def test_streamed_groups_give_results_in_input_order() -> None:
    features, _ = _blobs(100, 0, seed=10)
    results = list(cluster_groups([("b", features[:50], None), ("a", features[50:], None)], ClusterConfig()))
    assert [r.category for r in results] == ["b", "a"]


@pytest.mark.parametrize("bad", [{"flag_fraction": 1.5}, {"k": 0}, {"ignore_cluster_share": 1.0},
                                 {"fit_sample": 0}, {"init_sample": 0}])
def test_invalid_config_raises(bad: dict) -> None:
    with pytest.raises(ValueError):
        ClusterConfig(**bad)


def test_mismatched_rows_raise() -> None:
    with pytest.raises(ValueError, match="2 feature rows for 3 categories"):
        cluster_categories(np.zeros((2, 3)), ["a", "b", "c"])
