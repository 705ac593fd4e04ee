"""Bench: the clustering part of cleaning, 534 categories × 5,000 regions' 512-d features, on one CPU core.

Each category's features are synthetic but structured: 1–6 visual modes around a category centre on the unit
sphere, plus 10 % regions drawn from other categories (the wrong tags). Only the clustering call is timed
(feature generation is not). Every configuration runs on the same categories in the same process; the
baseline is scikit-learn's defaults (KMeans, k-means++, float64). With ``--subset N`` only the first N
categories are timed and the totals are extrapolated to all of them (the output says so). Flags of each
configuration are compared with the baseline's (overlap) and with the planted wrong regions (precision), so
speed is not bought with quality. The synthetic quality figures of every cleaning method follow.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python bench/engine_clustering.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ram_model.engine.clustering import ClusterConfig, category_seed, cluster_category
from ram_model.engine.quality import clustering_mask, evaluate_methods, flag_quality, make_synthetic_engine_data


def category_features(index: int, regions: int, dim: int, wrong: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One category's float32 features (unit rows) and which rows are planted wrong regions."""
    rng = np.random.default_rng(category_seed(f"bench-{index}", seed))
    centre = rng.standard_normal(dim)
    centre /= np.linalg.norm(centre)
    modes = centre + 0.6 * rng.standard_normal((int(rng.integers(1, 7)), dim)) / np.sqrt(dim)
    n_wrong = round(wrong * regions)
    good = modes[rng.integers(0, len(modes), regions - n_wrong)]
    others = rng.standard_normal((n_wrong, dim))
    others /= np.linalg.norm(others, axis=1, keepdims=True)  # centres of other categories
    spread = 0.5 * np.exp(0.8 * rng.standard_normal((regions, 1)))  # heavy tail: some correct regions are atypical
    features = np.vstack([good, others]) + spread * rng.standard_normal((regions, dim)) / np.sqrt(dim)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    truth = np.r_[np.zeros(regions - n_wrong, bool), np.ones(n_wrong, bool)]
    return features.astype(np.float32), truth


@dataclass
class Timing:
    name: str
    seconds: float = 0.0  # wall clock
    cpu_seconds: float = 0.0  # this process's CPU time (fair on a shared machine with one thread)
    flags: int = 0
    hits: int = 0  # flags that are planted wrong regions
    shared: int = 0  # flags also flagged by the baseline
    baseline_flags: int = 0


def run(configs: dict[str, ClusterConfig], data: list) -> list[Timing]:
    """Every configuration on each category in turn, so load changes on the machine hit all of them alike."""
    timings = [Timing(name) for name in configs]
    for i, (features, truth) in enumerate(data):
        baseline = None
        for timing, config in zip(timings, configs.values()):
            wall, cpu = time.perf_counter(), time.process_time()
            flagged = cluster_category(f"c{i}", features, config).flagged
            timing.seconds += time.perf_counter() - wall
            timing.cpu_seconds += time.process_time() - cpu
            baseline = flagged if baseline is None else baseline
            timing.flags += int(flagged.sum())
            timing.hits += int((flagged & truth).sum())
            timing.shared += int((flagged & baseline).sum())
            timing.baseline_flags += int(baseline.sum())
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--categories", type=int, default=534)
    parser.add_argument("--regions", type=int, default=5000)
    parser.add_argument("--dim", type=int, default=512, help="RAM's pooled image token is 512-d")
    parser.add_argument("--subset", type=int, default=100, help="categories timed per configuration (extrapolated)")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args()

    threads = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    subset = min(args.subset, args.categories)
    print(f"clustering bench: {args.categories} categories × {args.regions} regions × {args.dim}-d; timing "
          f"{subset} categories per configuration, extrapolated ×{args.categories / subset:.2f}; threads {threads}")
    data = [category_features(i, args.regions, args.dim, 0.10, args.seed) for i in range(subset)]

    configs = {
        "baseline: KMeans k-means++ float64 (sklearn defaults)": ClusterConfig(
            k=args.k, dtype="float64", minibatch_above=10**12),
        "KMeans k-means++ float32": ClusterConfig(k=args.k, dtype="float32", minibatch_above=10**12),
        "KMeans float32, k-means++ seeded on 1,000 sampled regions": ClusterConfig(
            k=args.k, dtype="float32", minibatch_above=10**12, init_sample=1000),
        "ClusterConfig.fast(): float32, k-means++ seeded on 500 regions, ≤ 10 Lloyd iterations, tol 0":
            ClusterConfig.fast(k=args.k, minibatch_above=10**12),
        "MiniBatchKMeans k-means++ float32, batch 1024": ClusterConfig(
            k=args.k, dtype="float32", minibatch_above=0, batch_size=1024, max_iter=100),
        "KMeans k-means++ float32 fitted on 2,000 sampled regions": ClusterConfig(
            k=args.k, dtype="float32", minibatch_above=10**12, fit_sample=2000),
        "KMeans k-means++ float32 fitted on 1,000 sampled regions": ClusterConfig(
            k=args.k, dtype="float32", minibatch_above=10**12, fit_sample=1000),
    }
    timings = run(configs, data)
    base_wall, base_cpu = timings[0].seconds, timings[0].cpu_seconds
    print(f"\n| configuration | CPU s / category | {args.categories} categories, CPU (extrapolated) | speed-up CPU | "
          "speed-up wall | flag overlap with baseline | flag precision |")
    print("|---|---|---|---|---|---|---|")
    for t in timings:
        per = t.cpu_seconds / subset
        print(f"| {t.name} | {per:.3f} | {per * args.categories:.0f} s | {base_cpu / t.cpu_seconds:.2f}× | "
              f"{base_wall / t.seconds:.2f}× | {t.shared / t.baseline_flags:.3f} | {t.hits / t.flags:.3f} |")

    if not args.no_quality:
        print("\nflag quality on the synthetic set (30 categories, 3,000 images, 10 % wrong tags, seed 0):")
        print("| method | precision | recall | F1 | flags | wrong |")
        print("|---|---|---|---|---|---|")
        synthetic = make_synthetic_engine_data(seed=0)
        results = evaluate_methods(synthetic)
        results["clustering with ClusterConfig.fast()"] = flag_quality(clustering_mask(synthetic, ClusterConfig.fast()),
                                                                       synthetic.is_wrong)
        for name, q in results.items():
            print(f"| {name} | {q.precision:.3f} | {q.recall:.3f} | {q.f1:.3f} | {q.flags} | {q.wrong} |")


if __name__ == "__main__":
    main()
