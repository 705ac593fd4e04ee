"""Ready-made training configs: the tiny synthetic-shapes run used by the learning test, the bench and the
platform's demo dataset (a few minutes on a laptop CPU).

`ram_tiny` starts from random weights, so two choices differ from the official recipe (which starts from an
ImageNet-pretrained Swin and unit-norm CLIP label embeddings):

* the label embeddings are random but fixed with N(0, 1) entries (row norm ≈ 22.6): with unit-norm random
  rows the tagging head's queries are so small that it learns far too slowly for a short CPU run;
* the Swin encoder trains at a tenth of the learning rate: at the full rate its random-init features
  collapse to an image-independent vector within the first dozen steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def write_random_label_embeddings(path: str | Path, num_classes: int, dim: int = 512, seed: int = 0) -> Path:
    """Save a fixed `(num_classes, dim)` tensor with N(0, 1) entries (the `label_embed` config key reads it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torch.randn(num_classes, dim, generator=torch.Generator().manual_seed(seed)), path)
    return path


def synthetic_config(
    dataset_dir: str | Path,
    *,
    steps: int = 400,
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
        "batch_size": 16,
        "max_steps": steps,
        "init_lr": 1e-3,
        "min_lr": 1e-5,
        "warmup_steps": 15,
        "weight_decay": 0.05,
        "lr_multipliers": {"visual_encoder": 0.1},
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
