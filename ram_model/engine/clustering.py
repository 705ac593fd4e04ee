"""Per-category K-Means++ on region features; the regions farthest from every centre are flagged.

The RAM data engine's cleaning: regions of one tag should look alike, so after clustering a tag's region
features (a few clusters cover a tag's visual modes), the most distant fraction (default 10 %) are likely
wrong tags. Each category is clustered on its own, with a seed derived from the run seed and the category
name, so a category's result does not depend on which other categories run, in which order or in which
process. Large categories switch to ``MiniBatchKMeans``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ClusterConfig:
    """How each category is clustered and how much of it is flagged.

    k = min(``k``, n // ``min_per_cluster``) clusters (at least 1); categories with fewer than
    ``min_regions`` regions are skipped (nothing flagged). Distances are measured only to clusters holding at
    least ``ignore_cluster_share`` of the category: k-means++ seeds centres on far points, and a centre left
    on a few wrong regions would otherwise make them look typical (0 = every centre counts).
    """

    k: int = 8
    min_per_cluster: int = 50
    flag_fraction: float = 0.10
    min_regions: int = 10
    minibatch_above: int = 20_000
    n_init: int = 1
    max_iter: int = 300
    tol: float = 1e-4
    batch_size: int = 2048
    dtype: str = "float32"
    seed: int = 0
    ignore_cluster_share: float = 0.02
    threads: int | None = None  # BLAS/OpenMP threads inside one category (None: library default)
    fit_sample: int | None = None  # fit the centres on this many random regions; distances for all
    init_sample: int | None = None  # k-means++ seeding on this many random regions, then Lloyd on all

    @classmethod
    def fast(cls, **overrides: Any) -> ClusterConfig:
        """Several times faster than scikit-learn's defaults at the same flag precision (bench/RESULTS.md):
        float32, k-means++ seeded on 500 sampled regions, at most 10 Lloyd iterations over all regions, and
        ``tol=0`` (stop when no label changes; scikit-learn would spend a pass over the data on the variance)."""
        return cls(**{"dtype": "float32", "init_sample": 500, "max_iter": 10, "tol": 0.0, **overrides})

    def __post_init__(self) -> None:
        if not 0.0 <= self.flag_fraction <= 1.0:
            raise ValueError(f"flag_fraction must be in [0, 1], got {self.flag_fraction}")
        if self.k < 1 or self.min_per_cluster < 1 or self.n_init < 1:
            raise ValueError("k, min_per_cluster and n_init must be positive")
        if not 0.0 <= self.ignore_cluster_share < 1.0:
            raise ValueError("ignore_cluster_share must be in [0, 1)")
        if (self.fit_sample is not None and self.fit_sample < 1) or (
                self.init_sample is not None and self.init_sample < 1):
            raise ValueError("fit_sample and init_sample must be positive")


@dataclass
class CategoryClusters:
    """One category's clustering: per region its cluster, distance, rank (0 = farthest) and flag."""

    category: str
    ids: np.ndarray  # (n,) the caller's ids of the regions (row numbers by default)
    k: int
    algorithm: str  # "kmeans", "minibatch" or "skipped"
    labels: np.ndarray  # (n,) int
    distances: np.ndarray  # (n,) float32, to the nearest (counted) centre
    rank: np.ndarray  # (n,) int, 0 = most distant
    flagged: np.ndarray  # (n,) bool
    centers: np.ndarray  # (k, D)
    inertia: float = 0.0


@dataclass(frozen=True)
class ClusterFlag:
    """Evidence for one flagged region: where it sits in its category's clustering."""

    id: Any
    category: str
    cluster: int
    distance: float
    rank: int  # 0 = the category's most distant region
    percentile: float  # share of the category at or below this distance (1.0 = farthest)
    cluster_size: int
    category_size: int


def choose_k(n: int, config: ClusterConfig) -> int:
    return max(1, min(config.k, n // config.min_per_cluster, n))


def category_seed(category: str, seed: int) -> int:
    """A seed fixed by the run seed and the category name (stable across processes and subsets)."""
    return (seed * 1_000_003 + zlib.crc32(category.encode("utf-8"))) % (2**32)


def _seeded_kmeans(features: np.ndarray, k: int, config: ClusterConfig, seed: int) -> Any:
    """k-means++ seeding on a random sample (in float64), then Lloyd on every region in ``config.dtype``.

    scikit-learn computes float32 k-means++ seeding distances with a float64 upcast, which costs as much as
    the whole Lloyd run here; seeding on a sample is what MiniBatchKMeans does too. Best inertia of ``n_init``.
    """
    from sklearn.cluster import KMeans, kmeans_plusplus

    rng = np.random.default_rng(seed)
    best = None
    for attempt in range(config.n_init):
        rows = rng.choice(len(features), min(len(features), max(config.init_sample or 0, k)), replace=False)
        centres, _ = kmeans_plusplus(features[rows].astype(np.float64), k, random_state=(seed + attempt) % 2**32)
        model = KMeans(n_clusters=k, init=centres.astype(features.dtype), n_init=1, max_iter=config.max_iter,
                       tol=config.tol, random_state=seed).fit(features)
        if best is None or model.inertia_ < best.inertia_:
            best = model
    return best


def _fit(features: np.ndarray, k: int, config: ClusterConfig, seed: int) -> tuple[Any, str]:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if config.fit_sample is not None and len(features) > config.fit_sample:
        rows = np.random.default_rng(seed).choice(len(features), config.fit_sample, replace=False)
        features = features[np.sort(rows)]
    if len(features) > config.minibatch_above:
        model = MiniBatchKMeans(n_clusters=k, init="k-means++", n_init=config.n_init, max_iter=config.max_iter,
                                tol=config.tol, batch_size=config.batch_size, random_state=seed)
        return model.fit(features), "minibatch"
    if config.init_sample is not None:
        return _seeded_kmeans(features, k, config, seed), "kmeans"
    model = KMeans(n_clusters=k, init="k-means++", n_init=config.n_init, max_iter=config.max_iter, tol=config.tol,
                   random_state=seed)
    return model.fit(features), "kmeans"


def _distances(features: np.ndarray, centres: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest counted centre and the Euclidean distance to it (one matrix product, in the features' dtype)."""
    centres = centres.astype(features.dtype, copy=False)
    squared = (np.einsum("ij,ij->i", features, features)[:, None] - 2.0 * features @ centres.T
               + np.einsum("ij,ij->i", centres, centres)[None, :])  # (n, k)
    np.maximum(squared, 0.0, out=squared)
    k = len(centres)
    if share > 0 and k > 1:
        sizes = np.bincount(squared.argmin(axis=1), minlength=k)
        counted = sizes >= share * len(features)
        if counted.any():
            squared[:, ~counted] = np.inf
    labels = squared.argmin(axis=1)
    return labels, np.sqrt(squared[np.arange(len(features)), labels]).astype(np.float32)


def _skipped(category: str, ids: np.ndarray, dim: int) -> CategoryClusters:
    n = len(ids)
    return CategoryClusters(category, ids, 0, "skipped", np.full(n, -1), np.zeros(n, np.float32),
                            np.arange(n), np.zeros(n, bool), np.zeros((0, dim), np.float32))


def cluster_category(
    category: str, features: np.ndarray, config: ClusterConfig = ClusterConfig(), ids: Sequence[Any] | None = None
) -> CategoryClusters:
    """Cluster one category's ``(n, D)`` features and flag its most distant ``flag_fraction``."""
    features = np.asarray(features, dtype=config.dtype)
    if features.ndim != 2:
        raise ValueError(f"features must be (n, D), got shape {features.shape}")
    ids_array = np.arange(len(features)) if ids is None else np.asarray(ids)
    if len(ids_array) != len(features):
        raise ValueError(f"{len(ids_array)} ids for {len(features)} feature rows")
    if len(features) < config.min_regions:
        return _skipped(category, ids_array, features.shape[1])
    k = choose_k(len(features), config)
    seed = category_seed(category, config.seed)
    if config.threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(config.threads):
            model, algorithm = _fit(features, k, config, seed)
            labels, distances = _distances(features, model.cluster_centers_, config.ignore_cluster_share)
    else:
        model, algorithm = _fit(features, k, config, seed)
        labels, distances = _distances(features, model.cluster_centers_, config.ignore_cluster_share)
    order = np.argsort(-distances, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    flagged = rank < int(config.flag_fraction * len(features) + 0.5)
    return CategoryClusters(category, ids_array, k, algorithm, labels, distances, rank, flagged,
                            model.cluster_centers_, float(getattr(model, "inertia_", 0.0)))


def group_rows(categories: Sequence[str], only: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Row indices per category (in first-seen order), restricted to ``only`` when given."""
    keep = set(only) if only is not None else None
    rows: dict[str, list[int]] = {}
    for i, category in enumerate(categories):
        if keep is None or category in keep:
            rows.setdefault(category, []).append(i)
    return {category: np.asarray(index) for category, index in rows.items()}


def cluster_groups(
    groups: Iterable[tuple[str, np.ndarray, Sequence[Any] | None]],
    config: ClusterConfig = ClusterConfig(),
    *,
    n_jobs: int = 1,
) -> Iterator[CategoryClusters]:
    """Cluster a stream of ``(category, features, ids)``; ``n_jobs`` > 1 runs categories in processes.

    Results come back in input order either way, and are identical: each category has its own seed.
    """
    if n_jobs == 1:
        for category, features, ids in groups:
            yield cluster_category(category, features, config, ids)
        return
    from joblib import Parallel, delayed

    worker_config = config if config.threads is not None else _with_threads(config, 1)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")
    yield from parallel(delayed(cluster_category)(c, f, worker_config, i) for c, f, i in groups)


def _with_threads(config: ClusterConfig, threads: int) -> ClusterConfig:
    from dataclasses import replace

    return replace(config, threads=threads)


def cluster_categories(
    features: np.ndarray,
    categories: Sequence[str],
    config: ClusterConfig = ClusterConfig(),
    *,
    only: Iterable[str] | None = None,
    ids: Sequence[Any] | None = None,
    n_jobs: int = 1,
) -> list[CategoryClusters]:
    """In-memory convenience: rows of ``features`` grouped by ``categories``, all or ``only`` some."""
    if len(features) != len(categories):
        raise ValueError(f"{len(features)} feature rows for {len(categories)} categories")
    ids_array = np.arange(len(features)) if ids is None else np.asarray(ids)
    groups = ((c, features[rows], ids_array[rows]) for c, rows in group_rows(categories, only).items())
    return list(cluster_groups(groups, config, n_jobs=n_jobs))


def cluster_flags(results: Iterable[CategoryClusters]) -> list[ClusterFlag]:
    """The flagged regions with their evidence, farthest first within each category."""
    flags: list[ClusterFlag] = []
    for result in results:
        n = len(result.ids)
        if not result.flagged.any():
            continue
        sizes = np.bincount(result.labels[result.labels >= 0], minlength=max(result.k, 1))
        for i in np.argsort(result.rank):
            if not result.flagged[i]:
                break
            flags.append(ClusterFlag(
                id=result.ids[i].item() if hasattr(result.ids[i], "item") else result.ids[i],
                category=result.category,
                cluster=int(result.labels[i]),
                distance=float(result.distances[i]),
                rank=int(result.rank[i]),
                percentile=float((n - result.rank[i]) / n),
                cluster_size=int(sizes[result.labels[i]]),
                category_size=n,
            ))
    return flags


def flagged_mask(results: Iterable[CategoryClusters], total: int) -> np.ndarray:
    """A ``(total,)`` bool mask over row ids 0..total-1 (for results built with the default row ids)."""
    mask = np.zeros(total, dtype=bool)
    for result in results:
        mask[result.ids[result.flagged].astype(np.int64)] = True
    return mask


def summary(results: Iterable[CategoryClusters]) -> Mapping[str, dict[str, Any]]:
    """Per category: regions, k, algorithm, flagged count (for the run report)."""
    return {r.category: {"regions": len(r.ids), "k": r.k, "algorithm": r.algorithm, "flagged": int(r.flagged.sum())}
            for r in results}
