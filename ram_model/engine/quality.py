"""Measured quality of the cleaning methods on synthetic data with a known share of wrong tags.

The synthetic set mimics what cleaning sees: each category's region features lie around a few visual modes
(Gaussian blobs on the unit sphere, a few atypical but correct regions with wider spread), images carry 1–4
tags, and a chosen fraction of the assignments (default 10 %) are wrong: the tag was replaced by another
category while the region still shows the original object. The baseline's probabilities are high for what is
in the image and low for what is not, with overlap. Every method's flags are scored against the truth.

    python -m ram_model.engine.quality   # prints precision/recall per method as JSON
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from .clustering import ClusterConfig, cluster_categories, flagged_mask
from .rejection import baseline_rejections


@dataclass
class SyntheticEngineData:
    """Assignments (rows) with region features and the truth, plus per-image probabilities."""

    features: np.ndarray  # (M, D) float32, L2-normalised region features
    image: np.ndarray  # (M,) image index of each assignment
    tag: np.ndarray  # (M,) class index of each (possibly wrong) assignment
    is_wrong: np.ndarray  # (M,) bool, the truth
    region_scores: np.ndarray  # (M,) baseline probability of the tag on its own region
    pred_probs: np.ndarray  # (N, K) baseline probabilities per image
    tag_names: list[str] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        return [self.tag_names[t] for t in self.tag]

    @property
    def labels(self) -> list[list[int]]:
        """Assigned class indices per image (what confident learning reads)."""
        rows: list[list[int]] = [[] for _ in range(len(self.pred_probs))]
        for i, t in zip(self.image, self.tag):
            rows[i].append(int(t))
        return rows


def make_synthetic_engine_data(
    *,
    num_categories: int = 30,
    num_images: int = 3000,
    dim: int = 64,
    modes_per_category: int = 3,
    noise: float = 0.06,
    mode_spread: float = 0.5,
    atypical_fraction: float = 0.03,
    atypical_noise: float = 2.5,
    wrong_fraction: float = 0.10,
    max_tags: int = 4,
    probability_shape: tuple[float, float] = (8.0, 2.0),
    seed: int = 0,
) -> SyntheticEngineData:
    """A deterministic synthetic cleaning problem (same seed → same data)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_categories, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    offsets = rng.standard_normal((num_categories, modes_per_category, dim)) / np.sqrt(dim)
    modes = centres[:, None, :] + mode_spread * offsets  # (K, modes, D)

    present = [rng.choice(num_categories, size=rng.integers(1, max_tags + 1), replace=False) for _ in range(num_images)]
    image = np.concatenate([np.full(len(tags), i) for i, tags in enumerate(present)])
    truth = np.concatenate(present)
    m = len(truth)

    mode = rng.integers(0, modes_per_category, size=m)
    scale = np.where(rng.random(m) < atypical_fraction, noise * atypical_noise, noise)
    features = modes[truth, mode] + scale[:, None] * rng.standard_normal((m, dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)

    tag = truth.copy()
    is_wrong = np.zeros(m, dtype=bool)
    assigned = [set(tags.tolist()) for tags in present]  # true tags and wrong ones given so far
    for row in rng.choice(m, size=round(wrong_fraction * m), replace=False):
        choices = [c for c in range(num_categories) if c not in assigned[image[row]]]
        if choices:
            tag[row] = rng.choice(choices)
            assigned[image[row]].add(int(tag[row]))
            is_wrong[row] = True

    high, low = probability_shape
    pred_probs = rng.beta(low, high, size=(num_images, num_categories))  # absent: mostly low
    for i, tags in enumerate(present):
        pred_probs[i, tags] = rng.beta(high, low, size=len(tags))  # in the image: mostly high
    region_scores = np.where(is_wrong, rng.beta(low, high, size=m), rng.beta(high, low, size=m))
    return SyntheticEngineData(features.astype(np.float32), image, tag, is_wrong, region_scores, pred_probs,
                               [f"tag_{c:03d}" for c in range(num_categories)])


@dataclass(frozen=True)
class FlagQuality:
    precision: float
    recall: float
    f1: float
    flags: int
    wrong: int
    true_positives: int


def flag_quality(flagged: np.ndarray, truth: np.ndarray) -> FlagQuality:
    """Precision and recall of a flag mask against the known wrong assignments."""
    flagged = np.asarray(flagged, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if flagged.shape != truth.shape:
        raise ValueError(f"flag mask {flagged.shape} and truth {truth.shape} differ")
    tp = int((flagged & truth).sum())
    precision = tp / int(flagged.sum()) if flagged.any() else 0.0
    recall = tp / int(truth.sum()) if truth.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return FlagQuality(precision, recall, f1, int(flagged.sum()), int(truth.sum()), tp)


def clustering_mask(data: SyntheticEngineData, config: ClusterConfig | None = None) -> np.ndarray:
    results = cluster_categories(data.features, data.categories, config or ClusterConfig())
    return flagged_mask(results, len(data.tag))


def rejection_mask(data: SyntheticEngineData, threshold: float = 0.5) -> np.ndarray:
    mask = np.zeros(len(data.tag), dtype=bool)
    for flag in baseline_rejections(data.categories, data.region_scores, threshold):
        mask[flag.id] = True
    return mask


def confident_mask(data: SyntheticEngineData, *, low_memory: bool = False) -> np.ndarray:
    from .confident import confident_learning_flags

    row = {(int(i), int(t)): r for r, (i, t) in enumerate(zip(data.image, data.tag))}
    mask = np.zeros(len(data.tag), dtype=bool)
    for flag in confident_learning_flags(data.labels, data.pred_probs, low_memory=low_memory):
        mask[row[(flag.image, flag.tag)]] = True
    return mask


def evaluate_methods(
    data: SyntheticEngineData,
    config: ClusterConfig | None = None,
    *,
    rejection_threshold: float = 0.5,
    confident: bool = True,
    low_memory: bool = False,
) -> dict[str, FlagQuality]:
    """Precision/recall of each method, and of clustering ∪ rejection (the engine's combined flags)."""
    masks = {"clustering": clustering_mask(data, config), "rejection": rejection_mask(data, rejection_threshold)}
    masks["clustering_or_rejection"] = masks["clustering"] | masks["rejection"]
    if confident:
        masks["confident_learning"] = confident_mask(data, low_memory=low_memory)
    return {name: flag_quality(mask, data.is_wrong) for name, mask in masks.items()}


def main() -> None:
    data = make_synthetic_engine_data()
    results = evaluate_methods(data)
    print(json.dumps({name: asdict(q) for name, q in results.items()}, indent=2))


if __name__ == "__main__":
    main()
