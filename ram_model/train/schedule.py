"""Learning-rate schedules as pure functions of the training position (nothing to save but the step).

* `warmup_cosine`: linear warm-up from `warmup_lr` to `init_lr` over `warmup_steps` optimizer steps, then a
  cosine from `init_lr` down to `min_lr` at the last step.
* `step_decay` (official pretraining): warm-up as above inside epoch 0 only, otherwise
  `max(min_lr, init_lr · lr_decay_rate ** epoch)`, constant within an epoch.
* `epoch_cosine` (official fine-tuning): `min_lr + (init_lr − min_lr) · ½ (1 + cos(π · epoch / max_epoch))`,
  constant within an epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Position:
    """Where training stands: optimizer steps done overall and within the current epoch."""

    global_step: int
    epoch: int
    total_steps: int


def _warmup(step: int, warmup_steps: int, warmup_lr: float, init_lr: float) -> float:
    return warmup_lr + (init_lr - warmup_lr) * step / warmup_steps


def learning_rate(config: dict[str, Any], pos: Position) -> float:
    """Learning rate for the optimizer step about to be taken at `pos`."""
    name = config["schedule"]
    init_lr, min_lr, warmup_lr = config["init_lr"], config["min_lr"], config["warmup_lr"]
    warmup_steps = int(config["warmup_steps"])
    if name == "warmup_cosine":
        if pos.global_step < warmup_steps:
            return _warmup(pos.global_step, warmup_steps, warmup_lr, init_lr)
        span = max(1, pos.total_steps - warmup_steps - 1)
        progress = min(1.0, (pos.global_step - warmup_steps) / span)
        return min_lr + (init_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
    if name == "step_decay":
        if pos.epoch == 0 and pos.global_step < warmup_steps:
            return min(init_lr, _warmup(pos.global_step, warmup_steps, warmup_lr, init_lr))
        return max(min_lr, init_lr * config["lr_decay_rate"] ** pos.epoch)
    if name == "epoch_cosine":
        max_epoch = max(1, int(config["max_epoch"]))
        return min_lr + (init_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * pos.epoch / max_epoch))
    raise ValueError(f"unknown schedule {name!r}")
