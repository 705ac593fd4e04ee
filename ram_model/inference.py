"""Inference: image loading and preprocessing (spec §9), tag vocabularies with thresholds, batch tagging.

Thresholds, tag names, Chinese names and the delete list are data (files or arguments), never globals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageFile
from torch.utils.data import Dataset
from torchvision.transforms import InterpolationMode

ASSETS = Path(__file__).resolve().parent / "assets"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_THRESHOLD = 0.68
OPEN_SET_THRESHOLD = 0.5
MAX_PIXELS = 100_000_000
TAG2TEXT_THRESHOLDS = {2701: 0.7, 2828: 0.7, 1167: 0.7}  # person, man, woman
TAG2TEXT_DELETE = (127, 2961, 3351, 3265, 3338, 3355, 3359)  # quarter, back, two, three, four, five, one


class ImageError(ValueError):
    """An image file that cannot be tagged; the message says why."""


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB for any PIL mode: 16/32-bit greyscale rescaled to 8 bits, transparency composited on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        high = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        array = np.clip(array / high * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(array, mode="L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open, fully decode and convert an image to RGB; raise :class:`ImageError` with a reason otherwise."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageError("empty file")
        with Image.open(path) as image:
            width, height = image.size
            if width == 0 or height == 0:
                raise ImageError(f"zero-size image {width}x{height}")
            if width * height > max_pixels:
                raise ImageError(f"image too large: {width}x{height} pixels exceeds {max_pixels}")
            previous = ImageFile.LOAD_TRUNCATED_IMAGES
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            try:
                image.load()
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = previous
            return _to_rgb(image)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image too large: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"cannot read image: {type(exc).__name__}: {exc}") from exc


def preprocess(image: Image.Image, size: int) -> torch.Tensor:
    """Spec §9: plain square bilinear resize to ``size``, ToTensor, ImageNet normalisation → ``(3, S, S)``."""
    image = TF.resize(image.convert("RGB"), [size, size], InterpolationMode.BILINEAR, antialias=True)
    return TF.normalize(TF.to_tensor(image), list(IMAGENET_MEAN), list(IMAGENET_STD))


class ImageFiles(Dataset):
    """Preprocessed images by path; an unreadable image yields ``(index, None, reason)`` instead of failing."""

    def __init__(self, paths: Sequence[str | Path], size: int, max_pixels: int = MAX_PIXELS) -> None:
        self.paths = [str(p) for p in paths]
        self.size = size
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[int, torch.Tensor | None, str]:
        try:
            return index, preprocess(load_image(self.paths[index], self.max_pixels), self.size), ""
        except ImageError as exc:
            return index, None, str(exc)


def collate_images(items: list[tuple[int, torch.Tensor | None, str]]) -> tuple[list[int], torch.Tensor | None,
                                                                               list[tuple[int, str]]]:
    """Batch the readable images; keep (index, reason) for the rest."""
    ok = [(i, t) for i, t, _ in items if t is not None]
    failed = [(i, reason) for i, t, reason in items if t is None]
    return [i for i, _ in ok], (torch.stack([t for _, t in ok]) if ok else None), failed


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 text file without line ends (the official lists have no trailing newline)."""
    return Path(path).read_text(encoding="utf-8").splitlines()


def read_thresholds(path: str | Path) -> list[float]:
    return [float(line) for line in read_lines(path) if line.strip()]


@dataclass
class TagVocabulary:
    """Names, Chinese names, per-class thresholds and deleted indices of one model head."""

    tags: list[str]
    thresholds: torch.Tensor  # (C,) float, strict ``>`` on the sigmoid
    tags_chinese: list[str | None] = field(default_factory=list)
    delete: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if not self.tags_chinese:
            self.tags_chinese = [None] * len(self.tags)
        if not (len(self.tags) == len(self.tags_chinese) == self.thresholds.numel()):
            raise ValueError(
                f"tag vocabulary sizes disagree: {len(self.tags)} tags, {len(self.tags_chinese)} Chinese names, "
                f"{self.thresholds.numel()} thresholds"
            )

    def __len__(self) -> int:
        return len(self.tags)


def class_thresholds(num_classes: int, default: float, per_class: Sequence[float] | None = None,
                     overrides: dict[int, float] | None = None) -> torch.Tensor:
    """A global default, then the per-class file values (by index), then explicit overrides."""
    thresholds = torch.full((num_classes,), float(default))
    if per_class is not None:
        if len(per_class) != num_classes:
            raise ValueError(f"threshold file has {len(per_class)} values for {num_classes} classes")
        thresholds = torch.tensor([float(v) for v in per_class])
    for index, value in (overrides or {}).items():
        thresholds[index] = value
    return thresholds


def chinese_names_for(tags: Sequence[str]) -> list[str | None]:
    """Chinese names of tags that occur in the bundled RAM list (matched by English name)."""
    english = read_lines(ASSETS / "ram_tag_list.txt")
    chinese = [name.strip() for name in read_lines(ASSETS / "ram_tag_list_chinese.txt")]
    lookup = dict(zip(english, chinese))
    return [lookup.get(tag) for tag in tags]


def default_vocabulary(
    model: Any,
    *,
    tags: Sequence[str] | None = None,
    threshold: float | None = None,
    threshold_file: str | Path | None = None,
    delete: Sequence[int] | None = None,
    open_set: bool = False,
) -> TagVocabulary:
    """The vocabulary the official scripts use for ``model``, with any of its parts replaced.

    RAM/RAM++: bundled per-class threshold file; Tag2Text: 0.68 (person/man/woman 0.7) and the 7 deleted
    count/ambiguity tags; open-set: 0.5. ``threshold`` sets one value for every class.
    """
    config = getattr(model, "config", {})
    arch = config.get("arch", "ram")
    if tags is None:
        tags = config.get("tags") or read_lines(ASSETS / config.get("tag_list", "ram_tag_list.txt"))
    tags = list(tags)
    if len(tags) != model.num_classes:
        raise ValueError(f"tag list has {len(tags)} names but the {model.variant} head has {model.num_classes} classes")
    stock = not open_set and tags == read_lines(ASSETS / config.get("tag_list", "ram_tag_list.txt"))
    if threshold is not None:
        thresholds = class_thresholds(len(tags), threshold)
    elif threshold_file is not None:
        thresholds = class_thresholds(len(tags), DEFAULT_THRESHOLD, read_thresholds(threshold_file))
    elif open_set:
        thresholds = class_thresholds(len(tags), OPEN_SET_THRESHOLD)
    elif arch == "tag2text" and stock:
        thresholds = class_thresholds(len(tags), DEFAULT_THRESHOLD, overrides=TAG2TEXT_THRESHOLDS)
    elif stock:
        stock_file = read_thresholds(ASSETS / "ram_tag_list_threshold.txt")
        thresholds = class_thresholds(len(tags), DEFAULT_THRESHOLD, stock_file)
    else:
        thresholds = class_thresholds(len(tags), DEFAULT_THRESHOLD)
    if delete is None:
        delete = TAG2TEXT_DELETE if (arch == "tag2text" and stock) else ()
    return TagVocabulary(tags, thresholds, chinese_names_for(tags), frozenset(int(i) for i in delete))


PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def prepare_for_inference(
    model: Any, *, channels_last: bool = True, fused_attention: bool = True, precision: str = "fp32"
) -> Any:
    """Eval mode, SDPA window attention, channels-last patch embedding and optionally bf16/fp16 weights.

    fp32 gives the eager results up to float rounding (~1e-6); bf16 weights are ~3x faster on CPUs with
    AMX (no per-call weight casts, unlike autocast) at ~1e-2 logit error.
    """
    model.eval()
    if fused_attention:
        model.set_fast_attention(True)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if precision != "fp32":
        model.to(PRECISIONS[precision])
    return model


def autocast(device: torch.device | str, precision: str) -> Any:
    """``torch.autocast`` for ``precision`` "bf16"/"fp16"; a no-op context for "fp32"."""
    if precision == "fp32":
        return torch.autocast(device_type=torch.device(device).type, enabled=False)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


class ImageTagger:
    """Tags (and Tag2Text captions) for batches of preprocessed images."""

    def __init__(
        self,
        model: Any,
        vocabulary: TagVocabulary,
        *,
        caption: bool | None = None,
        num_beams: int = 3,
        max_length: int = 50,
        min_length: int = 10,
    ) -> None:
        if len(vocabulary) != model.num_classes:
            raise ValueError(f"vocabulary has {len(vocabulary)} tags, model {model.num_classes} classes")
        self.model = model.eval()
        self.vocabulary = vocabulary
        self.caption = model.config.get("arch") == "tag2text" if caption is None else caption
        self.generation = dict(num_beams=num_beams, max_length=max_length, min_length=min_length)
        keep = torch.ones(len(vocabulary), dtype=torch.bool)
        keep[list(vocabulary.delete)] = False
        self._keep = keep

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @torch.no_grad()
    def scores(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sigmoid scores ``(B, C)`` and the image embeddings they came from."""
        embeds = self.model.image_embeddings(images.to(self.device, self.dtype))
        logits = self.model.tagging_logits_from_embeddings(embeds)
        return logits.float().sigmoid().cpu(), embeds

    @torch.no_grad()
    def tag(self, images: torch.Tensor, user_tags: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """One dict per image: ``tags``, ``tags_chinese``, ``scores`` (aligned) and ``caption`` if captioning.

        ``user_tags`` (Tag2Text) replace the predicted tags as the caption condition, like the official demo.
        """
        probs, embeds = self.scores(images)
        selected = (probs > self.vocabulary.thresholds) & self._keep
        results = []
        for row, mask in zip(probs, selected):
            index = mask.nonzero().flatten().tolist()
            results.append({
                "tags": [self.vocabulary.tags[i] for i in index],
                "tags_chinese": [self.vocabulary.tags_chinese[i] for i in index],
                "scores": [round(float(row[i]), 4) for i in index],
            })
        if self.caption:
            conditions = [" | ".join(user_tags) if user_tags else " | ".join(r["tags"]) for r in results]
            captions = self.model.generate_captions(embeds, conditions, **self.generation)
            for result, text in zip(results, captions):
                result["caption"] = text
        return results
