"""Training config defaults: the official RAM YAML files, then the platform's per-size defaults.

Reads the YAML files shipped in ``ram_model/configs/train`` as plain data (no model code is imported, so the
web process stays torch-free). The worker lays the run's data paths over the result and the trainer
validates everything again (``ram_model.train.config.resolve_training_config``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

from .models import ModelSize, TrainingMode

# Keys of the official YAML that the platform sets itself (data and model come from the run's choices).
PLATFORM_KEYS = ("train_file", "image_path_root", "class_num", "vit", "image_size", "model", "tag_list", "base")

IMAGE_SIZES = {
    ModelSize.TINY: 64, ModelSize.SWIN_B_224: 224, ModelSize.SWIN_B_384: 384,
    ModelSize.SWIN_L_224: 224, ModelSize.SWIN_L_384: 384,
}

# A tiny model trains on a laptop CPU in minutes: small batches, no worker processes, frequent logs.
SIZE_DEFAULTS: dict[str, dict[str, Any]] = {
    ModelSize.TINY: {"batch_size": 8, "num_workers": 0, "max_epoch": 5, "warmup_steps": 0, "log_every": 1,
                     "checkpoint_every": 10, "eval_every": 10, "init_lr": 1e-3, "min_lr": 0.0,
                     "schedule": "warmup_cosine"},
}

# Distillation needs a CLIP ViT-B/16 teacher file; without one (set clip_checkpoint) it is off.
PLATFORM_DEFAULTS: dict[str, Any] = {"distill": False, "eval_every": 0}


def _train_config_dir() -> Path:
    spec = importlib.util.find_spec("ram_model")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ram_model package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "configs" / "train"


def official_defaults(mode: str) -> dict[str, Any]:
    """The hyper-parameters of the official ``pretrain.yaml`` / ``finetune.yaml`` (data keys removed)."""
    if mode not in TrainingMode.values:
        raise ValueError(f"unknown training mode {mode!r}")
    values = yaml.safe_load((_train_config_dir() / f"{mode}.yaml").read_text(encoding="utf-8")) or {}
    for key in ("init_lr", "min_lr", "warmup_lr", "weight_decay", "lr_decay_rate"):
        if isinstance(values.get(key), str):  # YAML reads 5e-06 as a string
            values[key] = float(values[key])
    for key in PLATFORM_KEYS:
        values.pop(key, None)
    values["schedule"] = "step_decay" if mode == TrainingMode.PRETRAIN else "epoch_cosine"
    return values


def default_config(mode: str, size: str) -> dict[str, Any]:
    """What a run of this mode and size trains with before the user's overrides."""
    return {**official_defaults(mode), **PLATFORM_DEFAULTS, **SIZE_DEFAULTS.get(size, {})}


def effective_config(mode: str, size: str, overrides: dict[str, Any]) -> dict[str, Any]:
    config = default_config(mode, size)
    config.update(overrides)
    return config
