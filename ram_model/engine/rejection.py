"""Baseline rejection: a tag the baseline model does not predict on its own region is suspect.

The second cleaning signal of the RAM data engine. The score is the baseline's probability for the tag on the
crop of the tag's region; a score below the tag's threshold flags the assignment, with the score as evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .regions import Region


@dataclass(frozen=True)
class RejectionFlag:
    id: Any
    tag: str
    score: float
    threshold: float


def _threshold(tag: str, thresholds: Mapping[str, float] | float | None, default: float) -> float:
    if thresholds is None:
        return default
    if isinstance(thresholds, (int, float)):
        return float(thresholds)
    return float(thresholds.get(tag, default))


def baseline_rejections(
    tags: Sequence[str],
    scores: Sequence[float] | np.ndarray,
    thresholds: Mapping[str, float] | float | None = None,
    *,
    default_threshold: float = 0.5,
    ids: Sequence[Any] | None = None,
) -> list[RejectionFlag]:
    """Flag every assignment whose own-region score is below its tag's threshold (NaN scores are skipped)."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(tags) != len(scores):
        raise ValueError(f"{len(tags)} tags for {len(scores)} scores")
    ids = list(range(len(tags))) if ids is None else list(ids)
    flags = []
    for key, tag, score in zip(ids, tags, scores):
        limit = _threshold(tag, thresholds, default_threshold)
        if np.isfinite(score) and score < limit:
            flags.append(RejectionFlag(key, tag, float(score), limit))
    return flags


def region_tag_scores(
    regions: Sequence[Region],
    class_index: Mapping[str, int],
    region_probabilities: Callable[[Sequence[Region]], Any],
) -> np.ndarray:
    """Each region's probability for its own tag; NaN where the tag is not a class or the image failed.

    ``region_probabilities`` yields :class:`~ram_model.engine.features.RegionChunk` objects of class
    probabilities for the regions, e.g. ``lambda rs: region_outputs(rs, open_image, tag_probabilities(model),
    image_size=model.image_size)``.
    """
    scores = np.full(len(regions), np.nan)
    columns = np.array([class_index.get(r.tag, -1) for r in regions])
    for chunk in region_probabilities(regions):
        rows = np.arange(len(chunk.outputs))
        cols = columns[chunk.start + rows]
        ok = chunk.valid & (cols >= 0)
        scores[chunk.start + rows[ok]] = chunk.outputs[rows[ok], cols[ok]]
    return scores
