"""Score a benchmark with a model: map benchmark classes to model classes, predict, compute the report.

The benchmark's class names are looked up in the model's tag list by name and the model is trimmed to those
classes where it can be (RAM / RAM++: only the benchmark's label embeddings are kept, so the head runs on
214 queries instead of 4585); otherwise the logits are computed in full and the columns selected. Images
that cannot be read are skipped and listed in the report with the reason. Images are loaded and
preprocessed exactly as for tagging (`ram_model.inference`: square resize, ImageNet normalisation).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from ram_model.evaluate.annotations import Benchmark, class_indices
from ram_model.evaluate.metrics import evaluation_report
from ram_model.inference import ImageFiles, collate_images


def trim_model(model: torch.nn.Module, indices: list[int]) -> tuple[torch.nn.Module, list[int] | None]:
    """(model, columns): a copy reduced to `indices` where supported (columns None), else the model as is."""
    arch = getattr(model, "config", {}).get("arch")
    if arch == "ram":
        trimmed = copy.deepcopy(model)
        trimmed.set_label_embeddings(model.label_embed.detach()[indices])
        return trimmed, None
    if arch == "ram_plus":
        trimmed = copy.deepcopy(model)
        per_class = model.label_embed.detach().reshape(model.num_classes, model.num_descriptions, -1)
        trimmed.set_label_embeddings(per_class[indices])
        return trimmed, None
    return model, indices


@torch.no_grad()
def predict_scores(
    model: torch.nn.Module,
    paths: Sequence[str],
    *,
    image_size: int,
    batch_size: int = 16,
    num_workers: int = 0,
    device: torch.device | str = "cpu",
    columns: list[int] | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """Sigmoid scores `(N, C)` (NaN rows for unreadable images) and {row: reason} of the skipped images."""
    was_training = model.training
    model.eval()
    loader = DataLoader(ImageFiles(paths, image_size), batch_size=batch_size, num_workers=num_workers,
                        collate_fn=collate_images)
    scores: np.ndarray | None = None
    failed: dict[int, str] = {}
    for rows, images, bad in loader:
        failed.update(dict(bad))
        if images is None:
            continue
        logits = model.tagging_logits(images.to(device)).float()
        if columns is not None:
            logits = logits[:, columns]
        probs = torch.sigmoid(logits).cpu().numpy()
        if scores is None:
            scores = np.full((len(paths), probs.shape[1]), np.nan, dtype=np.float32)
        scores[rows] = probs
    model.train(was_training)
    if scores is None:
        raise ValueError(f"none of the {len(paths)} benchmark images could be read")
    return scores, failed


def evaluate_model(
    model: torch.nn.Module,
    benchmark: Benchmark,
    model_tags: Sequence[str] | None,
    *,
    thresholds: float | Sequence[float] | np.ndarray = 0.5,
    image_size: int | None = None,
    batch_size: int = 16,
    num_workers: int = 0,
    device: torch.device | str = "cpu",
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """(report, scores, targets) of `model` on `benchmark`.

    `model_tags` names the model's classes (needed when the benchmark names its classes; index benchmarks
    use model indices directly). Per-class `thresholds` are given in model class order.
    """
    if benchmark.by_index:
        indices = list(benchmark.classes)
    else:
        if model_tags is None:
            raise ValueError("the model's tag list is needed to map benchmark class names")
        indices = class_indices(list(benchmark.classes), list(model_tags))
    thr = np.asarray(thresholds, dtype=np.float64)
    if thr.ndim == 1:
        thr = thr[indices]
    scorer, columns = trim_model(model, indices)
    scores, failed = predict_scores(
        scorer, benchmark.image_paths, image_size=image_size or model.image_size, batch_size=batch_size,
        num_workers=num_workers, device=device, columns=columns,
    )
    keep = np.array([i not in failed for i in range(len(benchmark.image_paths))])
    targets = benchmark.targets()
    names = [str(c) if model_tags is None else model_tags[i] for c, i in zip(benchmark.classes, indices)]
    report = evaluation_report(scores[keep], targets[keep], names, thr)
    report["skipped"] = [{"image": benchmark.image_paths[i], "reason": r} for i, r in sorted(failed.items())]
    return report, scores[keep], targets[keep]


def open_set_model(
    model: torch.nn.Module,
    class_names: Sequence[str],
    clip: torch.nn.Module | str,
    *,
    clip_model_name: str = "ViT-B-16",
    descriptions: dict[str, Sequence[str]] | None = None,
    cache_dir: str | None = None,
) -> torch.nn.Module:
    """A copy of a RAM / RAM++ model whose classes are exactly ``class_names`` (open-set evaluation).

    Label embeddings come from CLIP: the 63-template ensemble for RAM; for RAM++ the per-tag ``descriptions``
    (e.g. the OpenImages-rare LLM descriptions) or, without them, the template prompts kept per description.
    """
    from ram_model.label_embeddings import build_label_embeddings

    arch = getattr(model, "config", {}).get("arch")
    if arch not in {"ram", "ram_plus"}:
        raise ValueError(f"open-set evaluation needs a RAM or RAM++ model; {arch!r} has learned label queries")
    if arch == "ram_plus" and descriptions is not None:
        missing = [name for name in class_names if name not in descriptions]
        if missing:
            raise ValueError(f"no descriptions for {len(missing)} benchmark classes: {missing[:20]}")
        ordered = {name: list(descriptions[name]) for name in class_names}
        flat = build_label_embeddings(ordered, clip, model_name=clip_model_name, cache_dir=cache_dir)
    else:
        flat = build_label_embeddings(list(class_names), clip, model_name=clip_model_name,
                                      average=arch == "ram", cache_dir=cache_dir)
    embeds = flat if arch == "ram" else flat.reshape(len(class_names), -1, flat.shape[-1])
    opened = copy.deepcopy(model)
    opened.set_label_embeddings(embeds)
    return opened


def read_descriptions(path: str) -> dict[str, list[str]]:
    """RAM++ tag descriptions: the official JSON list of ``{tag: [texts]}`` (or one such dict)."""
    import json

    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    entries = data if isinstance(data, list) else [data]
    return {tag: list(texts) for entry in entries for tag, texts in entry.items()}
