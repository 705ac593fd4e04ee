"""Training of RAM / RAM++ / Tag2Text: `run_training(config, run_dir, ...)` and `python -m ram_model.train`."""

from __future__ import annotations

from typing import Any


def run_training(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See `ram_model.train.trainer.run_training` (imported on first call to keep this package light)."""
    from ram_model.train.trainer import run_training as _run

    return _run(*args, **kwargs)


__all__ = ["run_training"]
