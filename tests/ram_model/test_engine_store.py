"""Feature chunks on disk: whole chunks only, per-category reads in memory-bounded batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ram_model.engine.clustering import ClusterConfig, cluster_categories, cluster_groups
from ram_model.engine.store import FeatureStore


def _fill(store: FeatureStore, seed: int = 0) -> tuple[np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((300, 8)).astype(np.float32)
    categories = [("cat", "dog", "fish")[i % 3] for i in range(300)]
    ids = np.arange(300) + 5000
    for start in range(0, 300, 70):
        store.append(ids[start:start + 70], categories[start:start + 70], features[start:start + 70])
    return features, categories, ids


def test_chunks_are_counted_so_a_job_can_resume(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    _fill(store)
    assert len(store) == 5
    assert len(FeatureStore(tmp_path)) == 5


def test_a_half_written_chunk_is_not_counted_and_gets_rewritten(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    store.append([1], ["cat"], np.ones((1, 4)))
    (tmp_path / "features-00001.npy").write_bytes(b"partial")  # killed before its rows file was written
    assert len(store) == 1
    assert store.append([2], ["dog"], np.ones((1, 4))) == 1
    assert store.category_sizes() == {"cat": 1, "dog": 1}


def test_each_category_reads_back_its_rows_and_ids(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path, dtype="float32")
    features, categories, ids = _fill(store)
    groups = {c: (f, i) for c, f, i in store.category_groups()}
    assert sorted(groups) == ["cat", "dog", "fish"]
    rows = [i for i, c in enumerate(categories) if c == "dog"]
    np.testing.assert_array_equal(groups["dog"][1], ids[rows])
    np.testing.assert_array_equal(groups["dog"][0], features[rows])


def test_float16_storage_reads_back_as_close_float32(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    features, _, _ = _fill(store)
    _, read, _ = next(store.category_groups(["cat"]))
    assert read.dtype == np.float32
    np.testing.assert_allclose(read, features[0::3], atol=1e-2)


def test_small_memory_budget_gives_the_same_groups(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    _fill(store)
    whole = [(c, i.tolist()) for c, _, i in store.category_groups()]
    batched = [(c, i.tolist()) for c, _, i in store.category_groups(max_rows=50)]
    assert whole == batched


def test_clustering_from_the_store_matches_clustering_in_memory(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path, dtype="float32")
    features, categories, ids = _fill(store)
    from_store = list(cluster_groups(store.category_groups(["fish"]), ClusterConfig()))
    in_memory = cluster_categories(features, categories, ClusterConfig(), only=["fish"], ids=ids)
    np.testing.assert_array_equal(from_store[0].ids[from_store[0].flagged], in_memory[0].ids[in_memory[0].flagged])


def test_mismatched_chunk_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk needs"):
        FeatureStore(tmp_path).append([1, 2], ["cat"], np.ones((2, 4)))
