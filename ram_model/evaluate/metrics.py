"""Multi-label tagging metrics: per-class average precision, mAP and the CP/CR/CF1/OP/OR/OF1 family.

Average precision is the step-wise area under the precision-recall curve, with tied scores treated as one
threshold (the same definition as scikit-learn's `average_precision_score`). Only classes that have at
least one positive image take part in the class-averaged figures, because AP is undefined without one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def precision_recall_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at every distinct score threshold, from the highest score down."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel() > 0
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    # the last index of each run of equal scores is where a threshold takes effect
    run_ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    true_pos = np.cumsum(sorted_labels)[run_ends]
    predicted = run_ends + 1
    num_pos = int(labels.sum())
    precision = true_pos / predicted
    recall = true_pos / num_pos if num_pos else np.zeros_like(precision)
    return precision, recall


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """AP of one class = Σ (R_k − R_{k−1})·P_k over distinct thresholds; NaN when there is no positive."""
    labels = np.asarray(labels).ravel() > 0
    if not labels.any():
        return float("nan")
    precision, recall = precision_recall_curve(scores, labels)
    recall_steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(recall_steps * precision))


def per_class_average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """AP of every column of `scores (N, C)` against `targets (N, C)`; NaN for classes without positives."""
    scores = np.asarray(scores)
    targets = np.asarray(targets)
    if scores.shape != targets.shape or scores.ndim != 2:
        raise ValueError(f"scores {scores.shape} and targets {targets.shape} must both be (N, C)")
    return np.array([average_precision(scores[:, c], targets[:, c]) for c in range(scores.shape[1])])


def mean_average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """Mean AP over the classes that have at least one positive."""
    aps = per_class_average_precision(scores, targets)
    valid = ~np.isnan(aps)
    if not valid.any():
        raise ValueError("no class has a positive example; mAP is undefined")
    return float(aps[valid].mean())


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def precision_recall_at_thresholds(
    scores: np.ndarray, targets: np.ndarray, thresholds: float | Sequence[float] | np.ndarray
) -> dict[str, float]:
    """CP, CR, CF1 (per-class averages) and OP, OR, OF1 (pooled over all labels) at `score > threshold`.

    `thresholds` is one global value or one per class. Class averages run over the classes with positives;
    a class that is never predicted has precision 0.
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets) > 0
    thr = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (scores.shape[1],))
    predicted = scores > thr[None, :]
    true_pos = (predicted & targets).sum(axis=0)
    num_pred = predicted.sum(axis=0)
    num_pos = targets.sum(axis=0)
    valid = num_pos > 0
    if not valid.any():
        raise ValueError("no class has a positive example")
    class_precision = np.where(num_pred > 0, true_pos / np.maximum(num_pred, 1), 0.0)[valid]
    class_recall = (true_pos / np.maximum(num_pos, 1))[valid]
    cp, cr = float(class_precision.mean()), float(class_recall.mean())
    tp_all, pred_all, pos_all = true_pos[valid].sum(), num_pred[valid].sum(), num_pos[valid].sum()
    op = float(tp_all / pred_all) if pred_all else 0.0
    orec = float(tp_all / pos_all)
    return {"CP": cp, "CR": cr, "CF1": _f1(cp, cr), "OP": op, "OR": orec, "OF1": _f1(op, orec)}


def evaluation_report(
    scores: np.ndarray,
    targets: np.ndarray,
    tag_names: Sequence[str],
    thresholds: float | Sequence[float] | np.ndarray,
) -> dict:
    """Everything the evaluation CLI prints: mAP, the P/R family and AP per tag (None where undefined)."""
    aps = per_class_average_precision(scores, targets)
    valid = ~np.isnan(aps)
    report: dict = {
        "num_images": int(np.asarray(scores).shape[0]),
        "num_classes": len(tag_names),
        "num_classes_with_positives": int(valid.sum()),
        "mAP": float(aps[valid].mean()) if valid.any() else None,
    }
    report.update(precision_recall_at_thresholds(scores, targets, thresholds))
    report["per_tag_ap"] = {
        name: (None if np.isnan(ap) else float(ap)) for name, ap in zip(tag_names, aps, strict=True)
    }
    return report
