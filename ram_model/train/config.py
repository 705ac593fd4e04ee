"""Training configuration: the official YAML hyper-parameters plus the keys this trainer adds.

A config is a plain dict. `resolve_training_config` starts from `TRAINER_DEFAULTS`, lays the official YAML
named by `base` over it (`pretrain`, `finetune`, `pretrain_tag2text`, `finetune_tag2text` from
`ram_model/configs/train/`, or a path), then the user's keys. Unknown keys are an error, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

TRAIN_CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs" / "train"

# Keys of the official YAML files (spec §12).
OFFICIAL_KEYS = {
    "train_file", "image_path_root", "vit", "vit_grad_ckpt", "vit_ckpt_layer", "image_size", "batch_size",
    "weight_decay", "init_lr", "min_lr", "warmup_lr", "lr_decay_rate", "max_epoch", "warmup_steps", "class_num",
}

TRAINER_DEFAULTS: dict[str, Any] = {
    "base": None,  # official YAML to start from
    "model": "ram",  # variant name for ram_model.build_model, or a full model config dict
    "model_overrides": {},  # extra build_model keyword arguments (swin/med/q2l dicts or paths, embed_dim, ...)
    "init_checkpoint": None,  # weights to start from (official release or a previous run's model.pth)
    "label_embed": None,  # file with a frozen (C, 512) label-embedding tensor (e.g. the official 4585 one)
    "tag_list": None,  # class names, one a line (tag-encoder input text); default: the model's own list
    "train_file": [],
    "train_shards": [],  # webdataset tar shard patterns (brace / glob)
    "image_path_root": "",
    "image_size": None,  # default: the model variant's own input size
    "batch_size": 8,  # per process
    "grad_accum_steps": 1,
    "weight_decay": 0.05,
    "init_lr": 1e-4,
    "min_lr": 0.0,
    "warmup_lr": 0.0,
    "lr_decay_rate": 0.9,
    "max_epoch": 1,
    "warmup_steps": 0,
    "max_steps": None,  # train exactly this many optimizer steps (overrides max_epoch)
    "lr_multipliers": {},  # parameter-name prefix → factor on the scheduled lr, e.g. {"visual_encoder": 0.1}
    "schedule": "warmup_cosine",  # warmup_cosine | step_decay (official pretrain) | epoch_cosine (official finetune)
    "class_num": None,  # defaults to the model's class count
    "seed": 42,
    "num_workers": 2,
    "amp": "auto",  # auto (bf16 on CUDA, off on CPU) | bf16 | off
    "device": "auto",  # auto | cpu | cuda
    "augment": {},  # TrainTransform options: scale, ratio, hflip, randaugment, num_ops, magnitude
    "caption": True,  # train the tag-text (caption) branch where the model has one
    "distill": True,  # L1 distillation to the CLIP image feature (RAM, RAM++)
    "clip_checkpoint": None,  # open_clip checkpoint of the teacher (ViT-B/16)
    "clip_tiny": False,  # use the tiny random CLIP teacher (tests only)
    "clip_model": "ViT-B-16",  # open_clip architecture name of the teacher
    "teacher_image_size": None,  # default: the teacher's own input size (224 for ViT-B/16)
    "asl": {"gamma_neg": 7.0, "gamma_pos": 0.0, "clip": 0.05, "eps": 1e-8},
    "alignment_asl": {"gamma_neg": 4.0, "gamma_pos": 0.0, "clip": 0.05, "eps": 1e-8},
    "loss_weights": {"tag": 1.0, "t2t": 1.0, "dis": 1.0, "alignment": 1.0},
    "checkpoint_every": 1000,  # optimizer steps
    "keep_checkpoints": 2,
    "log_every": 10,
    "eval": None,  # {"annotations", "taglist", "image_root", "every", "batch_size", "limit"}
    "find_unused_parameters": False,
    "grad_clip_norm": None,
    "deterministic": False,
}

# The official files leave the schedule implicit: pretraining decays per epoch, fine-tuning is cosine.
BASE_SCHEDULES = {
    "pretrain": "step_decay", "pretrain_tag2text": "step_decay",
    "finetune": "epoch_cosine", "finetune_tag2text": "epoch_cosine",
}
BASE_MODELS = {"pretrain": "ram", "finetune": "ram", "pretrain_tag2text": "tag2text", "finetune_tag2text": "tag2text"}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping from a file."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a training config must be a mapping")
    return data


def _base_values(base: str) -> dict[str, Any]:
    path = TRAIN_CONFIG_DIR / f"{base}.yaml"
    values = read_config_file(path if path.is_file() else base)
    if base in BASE_SCHEDULES:
        values.setdefault("schedule", BASE_SCHEDULES[base])
        values.setdefault("model", BASE_MODELS[base])
    # YAML reads 5e-06 as a string; the official code has the same quirk and casts.
    for key in ("init_lr", "min_lr", "warmup_lr", "weight_decay", "lr_decay_rate"):
        if isinstance(values.get(key), str):
            values[key] = float(values[key])
    return values


def resolve_training_config(config: dict[str, Any]) -> dict[str, Any]:
    """Defaults ← official base YAML ← `config`; validated and fully populated."""
    user = copy.deepcopy(config)
    unknown = set(user) - set(TRAINER_DEFAULTS) - OFFICIAL_KEYS
    if unknown:
        raise ValueError(f"unknown training config keys: {sorted(unknown)}")
    resolved = copy.deepcopy(TRAINER_DEFAULTS)
    if user.get("base"):
        resolved.update(_base_values(user["base"]))
    for key in ("asl", "alignment_asl", "loss_weights"):
        if isinstance(user.get(key), dict):
            user[key] = {**resolved[key], **user[key]}
    resolved.update(user)
    for key in ("train_file", "train_shards"):
        if isinstance(resolved[key], str):
            resolved[key] = [resolved[key]]
    for key in ("init_lr", "min_lr", "warmup_lr", "weight_decay", "lr_decay_rate"):
        resolved[key] = float(resolved[key])
    if not resolved["train_file"] and not resolved["train_shards"]:
        raise ValueError("the config names no training data (train_file or train_shards)")
    if resolved["schedule"] not in ("warmup_cosine", "step_decay", "epoch_cosine"):
        raise ValueError(f"unknown schedule {resolved['schedule']!r}")
    if resolved["amp"] not in ("auto", "bf16", "off"):
        raise ValueError(f"amp must be auto, bf16 or off, not {resolved['amp']!r}")
    if int(resolved["grad_accum_steps"]) < 1 or int(resolved["batch_size"]) < 1:
        raise ValueError("batch_size and grad_accum_steps must be positive")
    return resolved


def load_training_config(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a config file and resolve it (with optional key overrides, e.g. from the command line)."""
    return resolve_training_config({**read_config_file(path), **(overrides or {})})
