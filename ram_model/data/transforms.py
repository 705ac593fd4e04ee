"""Training image transforms (spec §9), driven by an explicit `torch.Generator`.

Every random choice draws from the generator passed in, so a sample's augmentation depends only on the seed
the dataset derives from (run seed, epoch, index): the same in any DataLoader worker and after a resume.

Pipeline: RandomResizedCrop(S, scale 0.5–1, bicubic) → horizontal flip → RandAugment (2 ops out of Identity,
AutoContrast, Brightness, Sharpness, Equalize, ShearX/Y, TranslateX/Y, Rotate; each applied with
probability 0.5 at magnitude 5 of 10) → tensor → CLIP normalisation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageOps
from torchvision.transforms import InterpolationMode

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
FILL = (128, 128, 128)
MAX_LEVEL = 10.0


def _uniform(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _randint(g: torch.Generator, low: int, high: int) -> int:
    """Integer in [low, high] inclusive."""
    return int(torch.randint(low, high + 1, (), generator=g))


def _sign(g: torch.Generator) -> float:
    return 1.0 if float(torch.rand((), generator=g)) < 0.5 else -1.0


def random_resized_crop_box(
    width: int, height: int, g: torch.Generator, scale: tuple[float, float], ratio: tuple[float, float]
) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a crop covering `scale` of the area at aspect `ratio`; centre crop fallback."""
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * _uniform(g, *scale)
        aspect = math.exp(_uniform(g, *log_ratio))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return _randint(g, 0, height - h), _randint(g, 0, width - w), h, w
    aspect_in = width / height
    if aspect_in < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif aspect_in > ratio[1]:
        h, w = height, round(height * ratio[1])
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _enhance_factor(g: torch.Generator, magnitude: float) -> float:
    return 1.0 + _sign(g) * 0.9 * magnitude / MAX_LEVEL


def _shear(axis: str) -> Callable[[Image.Image, torch.Generator, float], Image.Image]:
    def op(img: Image.Image, g: torch.Generator, m: float) -> Image.Image:
        degrees = math.degrees(math.atan(0.3 * m / MAX_LEVEL)) * _sign(g)
        shear = [degrees, 0.0] if axis == "x" else [0.0, degrees]
        return TF.affine(img, angle=0.0, translate=[0, 0], scale=1.0, shear=shear, fill=list(FILL))
    return op


def _translate(axis: str) -> Callable[[Image.Image, torch.Generator, float], Image.Image]:
    def op(img: Image.Image, g: torch.Generator, m: float) -> Image.Image:
        fraction = 0.45 * m / MAX_LEVEL * _sign(g) / 2  # up to ~11 % of the side at magnitude 5
        shift = [round(fraction * img.width), 0] if axis == "x" else [0, round(fraction * img.height)]
        return TF.affine(img, angle=0.0, translate=shift, scale=1.0, shear=[0.0, 0.0], fill=list(FILL))
    return op


def _rotate(img: Image.Image, g: torch.Generator, m: float) -> Image.Image:
    return TF.rotate(img, 30.0 * m / MAX_LEVEL * _sign(g), fill=list(FILL))


RAND_AUGMENT_OPS: dict[str, Callable[[Image.Image, torch.Generator, float], Image.Image]] = {
    "Identity": lambda img, g, m: img,
    "AutoContrast": lambda img, g, m: ImageOps.autocontrast(img),
    "Brightness": lambda img, g, m: TF.adjust_brightness(img, _enhance_factor(g, m)),
    "Sharpness": lambda img, g, m: TF.adjust_sharpness(img, _enhance_factor(g, m)),
    "Equalize": lambda img, g, m: ImageOps.equalize(img),
    "ShearX": _shear("x"),
    "ShearY": _shear("y"),
    "TranslateX": _translate("x"),
    "TranslateY": _translate("y"),
    "Rotate": _rotate,
}


def rand_augment(img: Image.Image, g: torch.Generator, num_ops: int = 2, magnitude: float = 5.0,
                 prob: float = 0.5) -> Image.Image:
    """Apply `num_ops` ops drawn with replacement from RAND_AUGMENT_OPS, each with probability `prob`."""
    names = list(RAND_AUGMENT_OPS)
    for _ in range(num_ops):
        name = names[_randint(g, 0, len(names) - 1)]
        if float(torch.rand((), generator=g)) < prob:
            img = RAND_AUGMENT_OPS[name](img, g, magnitude)
    return img


@dataclass(frozen=True)
class TrainTransform:
    """The training pipeline for one output size; options exist to switch parts off for tiny experiments."""

    size: int
    scale: tuple[float, float] = (0.5, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    hflip: bool = True
    randaugment: bool = True
    num_ops: int = 2
    magnitude: float = 5.0
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

    def __call__(self, img: Image.Image, g: torch.Generator) -> torch.Tensor:
        img = img.convert("RGB")
        top, left, h, w = random_resized_crop_box(img.width, img.height, g, self.scale, self.ratio)
        img = TF.resized_crop(img, top, left, h, w, [self.size, self.size], InterpolationMode.BICUBIC,
                              antialias=True)
        if self.hflip and float(torch.rand((), generator=g)) < 0.5:
            img = TF.hflip(img)
        if self.randaugment:
            img = rand_augment(img, g, self.num_ops, self.magnitude)
        return TF.normalize(TF.to_tensor(img), self.mean, self.std)

    @classmethod
    def from_config(cls, size: int, options: dict | None = None) -> TrainTransform:
        """Build from a config mapping (`scale`, `hflip`, `randaugment`, `num_ops`, `magnitude`)."""
        options = dict(options or {})
        if "scale" in options:
            options["scale"] = tuple(options["scale"])
        if "ratio" in options:
            options["ratio"] = tuple(options["ratio"])
        return cls(size=size, **options)
