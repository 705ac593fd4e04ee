"""Confident learning on the baseline's probabilities: a second detector of wrong tags, per (image, tag).

Uses cleanlab's multi-label filter (one-vs-rest per class, ``find_multilabel_issues_per_class``), which
estimates per class how often given labels disagree with confident predictions and flags the least likely
ones. Only assigned tags are reported as ``wrong`` by default; ``include_missing`` also reports confident
absences (``missing``), which generation handles in this project. cleanlab is optional: :func:`availability`
says whether it can run, and nothing imports it before it is used.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .regions import Availability


@dataclass(frozen=True)
class ConfidentFlag:
    image: int  # row of pred_probs
    tag: int  # class index
    probability: float
    kind: str  # "wrong" (assigned, likely not there) or "missing" (not assigned, likely there)


def availability() -> Availability:
    if importlib.util.find_spec("cleanlab") is None:
        return Availability(False, "package 'cleanlab' is not installed")
    return Availability(True)


def confident_learning_flags(
    labels: Sequence[Sequence[int]],
    pred_probs: np.ndarray,
    *,
    low_memory: bool = False,
    filter_by: str = "prune_by_noise_rate",
    include_missing: bool = False,
    min_examples_per_class: int = 1,
    n_jobs: int | None = 1,
) -> list[ConfidentFlag]:
    """Per (image, tag) label issues for images ``labels[i]`` (class indices) with probabilities ``(N, K)``.

    ``low_memory=True`` switches cleanlab to its batched estimator (large N; ``filter_by`` is then unused).
    ``n_jobs`` is cleanlab's process count per class (None: all cores; 1 keeps a shared machine quiet).
    """
    state = availability()
    if not state.available:
        raise RuntimeError(f"confident learning is unavailable: {state.reason}")
    from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class

    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    if pred_probs.ndim != 2 or len(pred_probs) != len(labels):
        raise ValueError(f"pred_probs must be (N, K) with N = {len(labels)} images, got {pred_probs.shape}")
    num_classes = pred_probs.shape[1]
    given = np.zeros(pred_probs.shape, dtype=bool)
    for i, row in enumerate(labels):
        for c in row:
            if not 0 <= c < num_classes:
                raise ValueError(f"image {i}: class {c} outside 0..{num_classes - 1}")
            given[i, c] = True
    options = {"low_memory": True} if low_memory else {
        "filter_by": filter_by, "min_examples_per_class": min_examples_per_class, "n_jobs": n_jobs}
    issues = np.asarray(find_multilabel_issues_per_class(
        labels=[list(map(int, row)) for row in labels], pred_probs=pred_probs, **options))  # (N, K) bool
    wanted = issues & given if not include_missing else issues
    images, tags = np.nonzero(wanted)
    return [ConfidentFlag(int(i), int(c), float(pred_probs[i, c]), "wrong" if given[i, c] else "missing")
            for i, c in zip(images, tags)]
