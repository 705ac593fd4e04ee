"""Recognize Anything (RAM, RAM++, Tag2Text) in plain PyTorch.

Importing this package is cheap: the model API is loaded on first attribute access, so code that only
needs ``ram_model.text`` never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "build_model": "ram_model.models.registry",
    "resolve_config": "ram_model.models.registry",
    "VARIANTS": "ram_model.models.registry",
    "load_checkpoint": "ram_model.checkpoint",
    "save_checkpoint": "ram_model.checkpoint",
    "load_model": "ram_model.checkpoint",
    "to_official_state_dict": "ram_model.convert",
    "from_official_state_dict": "ram_model.convert",
    "RamTokenizer": "ram_model.tokenizer",
    "build_label_embeddings": "ram_model.label_embeddings",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ram_model' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
