"""Training-state checkpoints: everything needed to continue a run exactly where it stopped.

A state file holds the model's state dict (internal layout), the optimizer state, the schedule name and the
last learning rate, the data position (epoch, optimizer steps done in it, global step) and the RNG states of
python, numpy, torch and every CUDA device. Files are written to a temporary name and renamed, so a crash
mid-write never leaves a truncated "latest" checkpoint.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_PATTERN = re.compile(r"^step_(\d+)\.pt$")


@dataclass
class DataPosition:
    """Optimizer steps done overall, the current epoch, and the optimizer steps already done in it."""

    global_step: int = 0
    epoch: int = 0
    step_in_epoch: int = 0


def capture_rng_state() -> dict[str, Any]:
    """RNG states of python, numpy, torch (CPU) and all CUDA devices."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of `capture_rng_state` (CUDA states only when devices are present)."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def save_training_state(
    run_dir: str | Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    position: DataPosition,
    scheduler: dict[str, Any],
    config: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write `checkpoints/step_<global_step>.pt` atomically and prune all but the newest `keep` files."""
    directory = checkpoint_dir(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"step_{position.global_step:09d}.pt"
    payload = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler,
        "position": asdict(position),
        "rng": capture_rng_state(),
        "config": config,
    }
    tmp = path.with_suffix(".pt.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    for old in list_training_states(run_dir)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return path


def list_training_states(run_dir: str | Path) -> list[Path]:
    """State files of a run, oldest first."""
    directory = checkpoint_dir(run_dir)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := STATE_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def load_training_state(path: str | Path) -> dict[str, Any]:
    """Read a state file written by `save_training_state` (our own files, so full unpickling is allowed)."""
    return torch.load(path, map_location="cpu", weights_only=False)
