"""Precision–recall curves of the best and worst tags, drawn with matplotlib's Agg backend to a PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ram_model.evaluate.metrics import per_class_average_precision, precision_recall_curve


def best_and_worst(aps: np.ndarray, count: int) -> tuple[list[int], list[int]]:
    """Class indices of the `count` highest and lowest APs (classes without positives left out)."""
    valid = [i for i in np.argsort(-np.nan_to_num(aps, nan=-1.0)) if not np.isnan(aps[i])]
    best = valid[:count]
    worst = [i for i in valid[::-1][:count] if i not in best]
    return best, worst


def plot_pr_curves(
    scores: np.ndarray, targets: np.ndarray, tag_names: Sequence[str], out: str | Path, count: int = 5
) -> Path:
    """Write a two-panel PNG: PR curves of the `count` best tags (left) and worst tags (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aps = per_class_average_precision(scores, targets)
    best, worst = best_and_worst(aps, count)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, indices, title in ((axes[0], best, "best tags"), (axes[1], worst, "worst tags")):
        for i in indices:
            precision, recall = precision_recall_curve(scores[:, i], targets[:, i])
            ax.step(np.r_[0.0, recall], np.r_[precision[0], precision], where="pre",
                    label=f"{tag_names[i]} (AP {aps[i]:.3f})")
        ax.set_title(title)
        ax.set_xlabel("recall")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if indices:
            ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("precision")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
