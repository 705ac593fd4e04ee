"""Region crops through an image encoder, in batches and chunks: the features clustering works on.

The encoder is any callable ``(B, 3, S, S) → (B, D)``; :func:`pooled_image_encoder` makes one from a
tagger (token 0 of ``image_embeddings``, RAM's pooled image token), :func:`tag_probabilities` one that
returns sigmoid tag probabilities (for baseline rejection). Regions are processed in chunks so a run over
millions of regions holds one chunk of images and features in memory, and each image is opened once per
chunk however many of its regions are in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..inference import preprocess
from .regions import Box, Region

Encoder = Callable[[torch.Tensor], torch.Tensor]
ImageOpener = Callable[[str], Image.Image]


@dataclass
class RegionChunk:
    """Outputs for ``regions[start : start + len(outputs)]``; rows whose image failed are zero, invalid."""

    start: int
    outputs: np.ndarray  # (n, D) float32
    valid: np.ndarray  # (n,) bool
    errors: dict[int, str] = field(default_factory=dict)  # region index → reason


def pooled_image_encoder(model: Any) -> Encoder:
    """Token 0 of ``model.image_embeddings`` (the pooled image token), ``(B, D)``."""
    return lambda images: model.image_embeddings(images)[:, 0]


def tag_probabilities(model: Any) -> Encoder:
    """Sigmoid of ``model.tagging_logits``, ``(B, num_classes)``."""
    return lambda images: torch.sigmoid(model.tagging_logits(images))


def crop_region(image: Image.Image, box: Box | None, *, context: float = 0.0) -> Image.Image:
    """The box (xywh pixels) grown by ``context`` × its size on each side, clipped; None → whole image."""
    if box is None:
        return image
    x, y, w, h = box
    x0 = max(0, int(np.floor(x - context * w)))
    y0 = max(0, int(np.floor(y - context * h)))
    x1 = min(image.width, int(np.ceil(x + w + context * w)))
    y1 = min(image.height, int(np.ceil(y + h + context * h)))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return image  # a box outside the image or of zero area: fall back to the whole image
    return image.crop((x0, y0, x1, y1))


def l2_normalise(features: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, eps)


def _chunk_tensors(
    regions: Sequence[Region], open_image: ImageOpener, image_size: int, context: float, threads: int
) -> tuple[list[torch.Tensor | None], dict[int, str]]:
    """Preprocessed crops of one chunk, each image opened once; failures reported per region."""
    by_image: dict[str, list[int]] = {}
    for i, region in enumerate(regions):
        by_image.setdefault(region.image_key, []).append(i)

    def crops(key: str) -> tuple[list[int], list[torch.Tensor] | str]:
        try:
            image = open_image(key)
            return by_image[key], [preprocess(crop_region(image, regions[i].box, context=context), image_size)
                                   for i in by_image[key]]
        except (OSError, ValueError) as exc:
            return by_image[key], f"{type(exc).__name__}: {exc}"

    tensors: list[torch.Tensor | None] = [None] * len(regions)
    errors: dict[int, str] = {}
    if threads > 0:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(crops, by_image))
    else:
        results = [crops(key) for key in by_image]
    for indices, result in results:
        for j, i in enumerate(indices):
            if isinstance(result, str):
                errors[i] = result
            else:
                tensors[i] = result[j]
    return tensors, errors


@torch.inference_mode()
def region_outputs(
    regions: Sequence[Region],
    open_image: ImageOpener,
    encoder: Encoder,
    *,
    image_size: int,
    batch_size: int = 64,
    chunk_size: int = 4096,
    device: str | torch.device = "cpu",
    context: float = 0.0,
    threads: int = 0,
    normalise: bool = False,
) -> Iterator[RegionChunk]:
    """Run ``encoder`` over every region's crop; yields one :class:`RegionChunk` per ``chunk_size`` regions.

    ``open_image`` maps an image key to a PIL image (and raises OSError/ValueError for a bad file, which
    marks that image's regions invalid instead of stopping the run). ``threads`` > 0 decodes and crops images
    in a thread pool while the model runs.
    """
    if batch_size < 1 or chunk_size < 1:
        raise ValueError("batch_size and chunk_size must be positive")
    device = torch.device(device)
    for start in range(0, len(regions), chunk_size):
        chunk = regions[start : start + chunk_size]
        tensors, errors = _chunk_tensors(chunk, open_image, image_size, context, threads)
        ok = [i for i, t in enumerate(tensors) if t is not None]
        outputs: np.ndarray | None = None
        for b in range(0, len(ok), batch_size):
            rows = ok[b : b + batch_size]
            batch = torch.stack([tensors[i] for i in rows]).to(device, non_blocking=True)  # (B, 3, S, S)
            out = encoder(batch).float().cpu().numpy()  # (B, D)
            if outputs is None:
                outputs = np.zeros((len(chunk), out.shape[1]), dtype=np.float32)
            outputs[rows] = out
        if outputs is None:
            outputs = np.zeros((len(chunk), 0), dtype=np.float32)
        valid = np.zeros(len(chunk), dtype=bool)
        valid[ok] = True
        if normalise and outputs.shape[1]:
            outputs[valid] = l2_normalise(outputs[valid])
        yield RegionChunk(start, outputs, valid, {start + i: reason for i, reason in errors.items()})


def region_features(
    regions: Sequence[Region], open_image: ImageOpener, encoder: Encoder, *, image_size: int, **options: Any
) -> Iterator[RegionChunk]:
    """:func:`region_outputs` with L2-normalised rows: the features clustering expects."""
    return region_outputs(regions, open_image, encoder, image_size=image_size, normalise=True, **options)


def collect(chunks: Iterator[RegionChunk], total: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunks into one ``(total, D)`` array and its validity mask (for runs small enough to hold)."""
    features: np.ndarray | None = None
    valid = np.zeros(total, dtype=bool)
    for chunk in chunks:
        if features is None or (features.shape[1] == 0 and chunk.outputs.shape[1]):
            features = np.zeros((total, chunk.outputs.shape[1]), dtype=np.float32)
        if chunk.outputs.shape[1]:
            features[chunk.start : chunk.start + len(chunk.outputs)] = chunk.outputs
        valid[chunk.start : chunk.start + len(chunk.valid)] = chunk.valid
    return (features if features is not None else np.zeros((total, 0), dtype=np.float32)), valid
