"""Synthetic image–caption data: coloured shapes drawn with PIL, with captions and tags that describe them.

Each image holds one or two groups of identical shapes ("two red circles above a blue square"); the tags are
the colours and shapes present. Everything is a pure function of the seed and the image index, so a training
set and a held-out set are simply two seeds. `write_dataset` lays out a folder the training reads directly:
`images/`, a RAM training JSON (`train.json`), the tag list (`tags.txt`) and JSONL annotations for the
evaluation (`annotations.jsonl`).

    python -m ram_model.synthetic OUT_DIR --num-images 500 --seed 0 [--image-size 64]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (240, 220, 20),
    "purple": (140, 40, 180),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
RELATIONS: dict[str, str] = {"above": "below", "below": "above", "left of": "right of", "right of": "left of"}
NUMBER_WORDS = {1: "a", 2: "two", 3: "three"}
PLURALS = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars"}


@dataclass(frozen=True)
class Group:
    """`count` shapes of one kind and colour."""

    count: int
    colour: str
    shape: str

    def phrase(self) -> str:
        noun = self.shape if self.count == 1 else PLURALS.get(self.shape, self.shape + "s")
        return f"{NUMBER_WORDS[self.count]} {self.colour} {noun}"


@dataclass(frozen=True)
class Scene:
    """What one image shows: one group, or two groups and the relation of the first to the second."""

    groups: tuple[Group, ...]
    relation: str | None = None

    def captions(self) -> list[str]:
        """Two phrasings of the same scene (the training samples one per step)."""
        if len(self.groups) == 1:
            phrase = self.groups[0].phrase()
            return [phrase, f"a picture with {phrase}"]
        first, second = self.groups
        assert self.relation is not None
        return [
            f"{first.phrase()} {self.relation} {second.phrase()}",
            f"{second.phrase()} {RELATIONS[self.relation]} {first.phrase()}",
        ]

    def tags(self, kinds: Sequence[str] = ("colour", "shape")) -> list[str]:
        """Colours and/or shapes present, in a stable order."""
        names: set[str] = set()
        if "colour" in kinds:
            names |= {g.colour for g in self.groups}
        if "shape" in kinds:
            names |= {g.shape for g in self.groups}
        return sorted(names)


@dataclass(frozen=True)
class SyntheticConfig:
    """Vocabulary and geometry of the generator."""

    image_size: int = 64
    colours: tuple[str, ...] = tuple(COLOURS)
    shapes: tuple[str, ...] = SHAPES
    max_count: int = 3
    two_group_prob: float = 0.6
    tag_kinds: tuple[str, ...] = ("colour", "shape")  # which words become tags (captions always say all)

    def tag_list(self) -> list[str]:
        """The generator's own tag list: colours then shapes (those of `tag_kinds`)."""
        return [*(self.colours if "colour" in self.tag_kinds else ()),
                *(self.shapes if "shape" in self.tag_kinds else ())]


def sample_scene(rng: random.Random, config: SyntheticConfig) -> Scene:
    """Draw a random scene; two groups never share both colour and shape."""
    def group() -> Group:
        return Group(rng.randint(1, config.max_count), rng.choice(config.colours), rng.choice(config.shapes))

    first = group()
    if rng.random() >= config.two_group_prob:
        return Scene((first,))
    second = group()
    while (second.colour, second.shape) == (first.colour, first.shape):
        second = group()
    return Scene((first, second), rng.choice(tuple(RELATIONS)))


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        points = [(math.pi / 4 + k * math.pi / 2, r * 1.0) for k in range(4)]
    elif shape == "triangle":
        points = [(-math.pi / 2 + k * 2 * math.pi / 3, r * 1.1) for k in range(3)]
    elif shape == "star":
        points = [(-math.pi / 2 + k * math.pi / 5, r * (1.15 if k % 2 == 0 else 0.45)) for k in range(10)]
    else:
        raise ValueError(f"unknown polygon shape {shape!r}")
    return [(cx + rad * math.cos(a + angle), cy + rad * math.sin(a + angle)) for a, rad in points]


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[float, float, float, float],
                colour: tuple[int, int, int], rng: random.Random) -> None:
    x0, y0, x1, y1 = box
    size = min(x1 - x0, y1 - y0)
    r = size * rng.uniform(0.32, 0.42)
    cx = (x0 + x1) / 2 + rng.uniform(-0.08, 0.08) * size
    cy = (y0 + y1) / 2 + rng.uniform(-0.08, 0.08) * size
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    else:
        draw.polygon(_polygon(shape, cx, cy, r, rng.uniform(-0.25, 0.25)), fill=colour)


def _jitter(colour: tuple[int, int, int], rng: random.Random) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-20, 20))) for c in colour)  # type: ignore[return-value]


def _regions(scene: Scene, size: int) -> list[tuple[float, float, float, float]]:
    """Box of each group: the whole image, or the two halves the relation implies."""
    full = (0.0, 0.0, float(size), float(size))
    if len(scene.groups) == 1:
        return [full]
    top, bottom = (0.0, 0.0, size, size / 2), (0.0, size / 2, size, size)
    left, right = (0.0, 0.0, size / 2, size), (size / 2, 0.0, size, size)
    return {
        "above": [top, bottom], "below": [bottom, top], "left of": [left, right], "right of": [right, left],
    }[scene.relation or "above"]


def render_scene(scene: Scene, rng: random.Random, config: SyntheticConfig) -> Image.Image:
    """Draw `scene` on a plain grey background; a group's shapes sit side by side along its region."""
    size = config.image_size
    grey = rng.randint(170, 235)
    image = Image.new("RGB", (size, size), (grey, grey, grey))
    draw = ImageDraw.Draw(image)
    for group, (x0, y0, x1, y1) in zip(scene.groups, _regions(scene, size), strict=True):
        horizontal = (x1 - x0) >= (y1 - y0)
        for k in range(group.count):
            if horizontal:
                step = (x1 - x0) / group.count
                cell = (x0 + k * step, y0, x0 + (k + 1) * step, y1)
            else:
                step = (y1 - y0) / group.count
                cell = (x0, y0 + k * step, x1, y0 + (k + 1) * step)
            _draw_shape(draw, group.shape, cell, _jitter(COLOURS[group.colour], rng), rng)
    return image


def make_example(seed: int, index: int, config: SyntheticConfig) -> tuple[Image.Image, Scene]:
    """Image and scene number `index` of the stream for `seed` (independent of every other index)."""
    rng = random.Random(f"ram-synthetic:{seed}:{index}")
    scene = sample_scene(rng, config)
    return render_scene(scene, rng, config), scene


def write_dataset(
    out_dir: str | Path,
    num_images: int,
    *,
    seed: int = 0,
    config: SyntheticConfig | None = None,
    tag_list: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Write images, `train.json` (RAM training format), `tags.txt` and `annotations.jsonl` under `out_dir`.

    Tag IDs index `tag_list` (default: the generator's own colours + shapes; pass the RAM 4585 list to get
    RAM IDs — every generator tag must then be in it). Image paths in the JSON are relative to `out_dir`.
    """
    config = config or SyntheticConfig()
    tags = list(tag_list) if tag_list is not None else config.tag_list()
    index = {name: i for i, name in enumerate(tags)}
    missing = [t for t in config.tag_list() if t not in index]
    if missing:
        raise ValueError(f"tag list lacks the generator tags {missing}")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    records, jsonl = [], []
    for i in range(num_images):
        image, scene = make_example(seed, i, config)
        rel = f"images/{seed}_{i:06d}.png"
        image.save(out / rel)
        scene_tags = scene.tags(config.tag_kinds)
        ids = sorted(index[t] for t in scene_tags)
        captions = scene.captions()
        records.append({
            "image_path": rel, "caption": captions, "union_label_id": ids,
            "parse_label_id": [ids] * len(captions),
        })
        jsonl.append(json.dumps({"image": rel, "tags": scene_tags}))
    paths = {
        "train_json": out / "train.json",
        "tag_list": out / "tags.txt",
        "annotations": out / "annotations.jsonl",
        "images": out / "images",
    }
    paths["train_json"].write_text(json.dumps(records), encoding="utf-8")
    paths["tag_list"].write_text("\n".join(tags), encoding="utf-8")
    paths["annotations"].write_text("\n".join(jsonl) + "\n", encoding="utf-8")
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ram_model.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--num-images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--tag-list", help="index tags into this list (e.g. the RAM 4585-tag list)")
    parser.add_argument("--max-count", type=int, default=3, help="most shapes in one group")
    args = parser.parse_args(argv)
    tag_list = None
    if args.tag_list:
        tag_list = Path(args.tag_list).read_text(encoding="utf-8").splitlines()
        tag_list = [t.strip() for t in tag_list]
    config = SyntheticConfig(image_size=args.image_size, max_count=args.max_count)
    paths = write_dataset(args.out_dir, args.num_images, seed=args.seed, config=config, tag_list=tag_list)
    print(json.dumps({k: str(v) for k, v in paths.items()}))


if __name__ == "__main__":
    main()
