"""Cleaning end to end for one batch of assignments: regions → features → cluster and rejection flags.

The function a cleaning job calls (per shard of a dataset version): it resolves one region per (image, tag),
runs the crops through the checkpoint's image encoder, clusters each category, optionally scores each region
with the baseline's own tag probability, and returns flags that carry all their evidence (box, region
source, cluster, distance, rank, score, threshold). Everything is held in memory, so a job over a large
version runs it per category set or streams features per category into :func:`~.clustering.cluster_groups`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .clustering import ClusterConfig, cluster_categories, cluster_flags, summary
from .features import Encoder, ImageOpener, collect, region_features, region_outputs
from .regions import Box, Region, RegionSource, available_sources, resolve_regions
from .rejection import baseline_rejections, region_tag_scores


@dataclass(frozen=True)
class CleaningFlag:
    """One suspect assignment and why; ``reason`` is ``cluster_outlier`` or ``baseline_rejection``."""

    assignment: Any
    image_key: str
    tag: str
    reason: str
    box: Box | None
    region_source: str
    cluster: int | None = None
    distance: float | None = None
    rank: int | None = None
    percentile: float | None = None
    score: float | None = None
    threshold: float | None = None


@dataclass
class CleaningResult:
    flags: list[CleaningFlag]
    regions: list[Region]
    categories: Mapping[str, dict[str, Any]]  # per category: regions, k, algorithm, flagged
    skipped_sources: dict[str, str] = field(default_factory=dict)  # source name → why it could not run
    image_errors: dict[int, str] = field(default_factory=dict)  # row of ``regions`` → why its image failed


def clean_assignments(
    assignments: Sequence[tuple[Any, str, str]],
    *,
    sources: Sequence[RegionSource],
    open_image: ImageOpener,
    encoder: Encoder,
    image_size: int,
    config: ClusterConfig | None = None,
    categories: Sequence[str] | None = None,
    probabilities: Encoder | None = None,
    class_index: Mapping[str, int] | None = None,
    thresholds: Mapping[str, float] | float | None = None,
    default_threshold: float = 0.5,
    whole_image_boxes: bool = False,
    **feature_options: Any,
) -> CleaningResult:
    """Flags for ``assignments`` = ``[(assignment id, image key, tag), …]``.

    ``categories`` limits the whole run to those tags (all by default): other assignments get no region, no
    features and no flags, and ``regions`` follows the kept assignments in order. Baseline rejection runs when
    ``probabilities`` (e.g. :func:`~.features.tag_probabilities` of the baseline) and ``class_index`` (tag →
    column) are given. Images are opened for region resolution only when a source needs them (Grounding DINO)
    or ``whole_image_boxes`` asks for full-size boxes; otherwise a missing region is the whole image, box None.
    """
    if categories is not None:
        chosen = set(categories)
        assignments = [a for a in assignments if a[2] in chosen]
    usable, skipped = available_sources(sources)
    need_image = whole_image_boxes or any(getattr(s, "needs_image", False) for s in usable)
    regions = _regions(assignments, usable, open_image if need_image else None)
    features, valid = collect(region_features(regions, open_image, encoder, image_size=image_size,
                                              **feature_options), len(regions))
    errors = {i: "image could not be read" for i in np.nonzero(~valid)[0].tolist()}
    rows = np.nonzero(valid)[0]
    tags = [r.tag for r in regions]
    results = cluster_categories(features[rows], [tags[i] for i in rows], config or ClusterConfig(), ids=rows)
    flags = [_cluster_flag(assignments, regions, f) for f in cluster_flags(results)]
    if probabilities is not None and class_index is not None:
        scores = region_tag_scores(
            regions, class_index,
            lambda rs: region_outputs(rs, open_image, probabilities, image_size=image_size, **feature_options))
        for f in baseline_rejections(tags, scores, thresholds, default_threshold=default_threshold):
            region = regions[f.id]
            flags.append(CleaningFlag(assignments[f.id][0], region.image_key, region.tag, "baseline_rejection",
                                      region.box, region.source, score=f.score, threshold=f.threshold))
    return CleaningResult(flags, regions, summary(results), skipped, errors)


def _regions(assignments: Sequence[tuple[Any, str, str]], sources: Sequence[RegionSource],
             open_image: ImageOpener | None) -> list[Region]:
    """One region per assignment, resolved image by image, in the order of ``assignments``."""
    by_image: dict[str, list[int]] = {}
    for row, (_, image_key, _) in enumerate(assignments):
        by_image.setdefault(image_key, []).append(row)
    regions: list[Region | None] = [None] * len(assignments)
    for image_key, rows in by_image.items():
        image = None
        if open_image is not None:
            try:
                image = open_image(image_key)
            except (OSError, ValueError):
                image = None  # features will report the image as failed
        asked = [s for s in sources if image is not None or not getattr(s, "needs_image", False)]
        found = resolve_regions(image_key, [assignments[r][2] for r in rows], asked, image)
        for row, region in zip(rows, found):
            regions[row] = region
    return regions  # type: ignore[return-value]


def _cluster_flag(assignments: Sequence[tuple[Any, str, str]], regions: Sequence[Region], flag: Any) -> CleaningFlag:
    region = regions[flag.id]
    return CleaningFlag(assignments[flag.id][0], region.image_key, region.tag, "cluster_outlier", region.box,
                        region.source, cluster=flag.cluster, distance=flag.distance, rank=flag.rank,
                        percentile=flag.percentile, score=region.score)
