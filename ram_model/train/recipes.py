"""Ready-made training configs: the tiny synthetic-shapes run used by the learning test, the bench and the
platform's demo dataset (a few minutes on a laptop CPU).

`ram_tiny` starts from random weights, whereas the official recipe starts from an ImageNet-pretrained Swin
(whose features already separate shapes) and unit-norm CLIP label embeddings. A random Swin is close to a
stack of linear maps and LayerNorms, so shape identity (a colour-independent, non-linear function of the
pixels) is barely present in its features, and the Query2Label tagging head then has to bootstrap both: it
reads colours at once but gives the encoder almost no shape gradient, and shapes stayed at chance for 2000
steps with the plain `ram_tiny` model (a linear probe on the same encoder learns them). The recipe therefore
differs from the official one in these model/optimiser choices (see bench/RESULTS.md, "ram_model training"):

* a 3-stage tiny Swin (`swin/config_swin_tiny_64_3stage.json`): the tagging head cross-attends to a 4×4 grid
  of 16-px tokens (about one shape each) instead of ram_tiny's 2×2 grid of 32-px quadrants, each of which
  mixes several shapes and the background (the official 384-px model gives it a 12×12 grid);
* the tagging head (and the tag-encoder layers tied to it) initialised with std 0.05 instead of BERT-base's
  0.02: at hidden size 64 the 0.02 of a 768-wide BERT makes every residual branch ≈3.5× weaker relative to
  the label queries, and the head then picks up the weak shape signal far too slowly;
* label embeddings random but fixed with N(0, 1) entries (row norm ≈ 22.6): with unit-norm random rows the
  head's queries are so small that it learns far too slowly for a short CPU run;
* the Swin encoder at a tenth of the learning rate: at the full rate its random-init features collapse to an
  image-independent vector within the first dozen steps;
* batch 32 (at the same number of images seen, fewer but less noisy steps learn the shapes faster).

The learning test and the bench draw their images with `synthetic_data()`: all colour and shape tags, groups of
at most two shapes (with three, a shape is only 3-4 patches wide and 400 steps reach mAP ≈ 0.87 instead of 0.95).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ram_model.synthetic import SyntheticConfig


def write_random_label_embeddings(path: str | Path, num_classes: int, dim: int = 512, seed: int = 0) -> Path:
    """Save a fixed `(num_classes, dim)` tensor with N(0, 1) entries (the `label_embed` config key reads it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torch.randn(num_classes, dim, generator=torch.Generator().manual_seed(seed)), path)
    return path


SYNTHETIC_SWIN = "swin/config_swin_tiny_64_3stage.json"
SYNTHETIC_MAX_COUNT = 2  # shapes per group the recipe is tuned for (the generator allows 3 by default)
BATCH_SIZE = 32
TAGGING_HEAD_INIT_STD = 0.05


def synthetic_model_overrides() -> dict[str, Any]:
    """`model_overrides` of the synthetic recipe: the 3-stage tiny Swin and a warmer-initialised tagging head."""
    from ram_model.configs import load_config

    return {
        "swin": SYNTHETIC_SWIN,
        "q2l": {**load_config("q2l_tiny.json"), "initializer_range": TAGGING_HEAD_INIT_STD},
    }


def synthetic_data(image_size: int = 64) -> SyntheticConfig:
    """Generator settings of the learning test and the bench: the full tag vocabulary (colours and shapes),
    groups of at most two shapes (20-27 px wide at 64 px, instead of 14-18 px with three in half an image)."""
    return SyntheticConfig(image_size=image_size, max_count=SYNTHETIC_MAX_COUNT)


def _record_count(train_json: Path) -> int:
    """Images in a training JSON (so that a demo set smaller than a batch still trains); BATCH_SIZE if unreadable."""
    try:
        return max(1, len(json.loads(train_json.read_text(encoding="utf-8"))))
    except (OSError, ValueError, TypeError):
        return BATCH_SIZE


def synthetic_config(
    dataset_dir: str | Path,
    *,
    steps: int = 500,
    held_out_dir: str | Path | None = None,
    label_embed: str | Path | None = None,
) -> dict[str, Any]:
    """Config for `ram_tiny` on a folder written by `ram_model.synthetic.write_dataset`.

    With `held_out_dir` the run evaluates on that folder's `annotations.jsonl` at the end (and every 100
    steps), writing `kind: eval` records to metrics.jsonl. `label_embed` defaults to
    `<dataset_dir>/label_embed.pt`, created if missing.
    """
    dataset_dir = Path(dataset_dir)
    tags = [t for t in (dataset_dir / "tags.txt").read_text(encoding="utf-8").splitlines() if t.strip()]
    num_classes = len(tags)
    if label_embed is None:
        label_embed = dataset_dir / "label_embed.pt"
        if not Path(label_embed).is_file():
            write_random_label_embeddings(label_embed, num_classes)
    config: dict[str, Any] = {
        "model": "ram_tiny",
        "class_num": num_classes,
        "image_size": 64,
        "train_file": [str(dataset_dir / "train.json")],
        "tag_list": str(dataset_dir / "tags.txt"),
        "label_embed": str(label_embed),
        "batch_size": min(BATCH_SIZE, _record_count(dataset_dir / "train.json")),
        "max_steps": steps,
        "init_lr": 1e-3,
        "min_lr": 1e-5,
        "warmup_steps": 30,
        "weight_decay": 0.05,
        "lr_multipliers": {"visual_encoder": 0.1},
        "model_overrides": synthetic_model_overrides(),
        "num_workers": 0,
        "distill": False,
        "augment": {"scale": [1.0, 1.0], "ratio": [1.0, 1.0], "hflip": True, "randaugment": False},
        "log_every": 10,
        "checkpoint_every": 100,
        "seed": 0,
    }
    if held_out_dir is not None:
        held_out = Path(held_out_dir)
        config["eval"] = {
            "annotations": str(held_out / "annotations.jsonl"), "taglist": str(held_out / "tags.txt"),
            "image_root": str(held_out), "batch_size": 50, "every": 100,
        }
    return config
