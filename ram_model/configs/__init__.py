"""Plain-data model configs (official RAM JSON format) and a loader for dicts, names or paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).resolve().parent

ConfigLike = dict[str, Any] | str | Path


def config_path(name: str) -> Path:
    """Path of a bundled config by file name relative to this folder, e.g. ``swin/config_swinL_384.json``."""
    return CONFIG_DIR / name


def load_config(config: ConfigLike) -> dict[str, Any]:
    """Return a fresh dict from a dict, a path to a JSON file, or the name of a bundled JSON file."""
    if isinstance(config, dict):
        return dict(config)
    path = Path(config)
    if not path.is_file():
        bundled = config_path(str(config))
        if not bundled.is_file():
            raise FileNotFoundError(f"config {config!s} is neither a file nor a bundled config")
        path = bundled
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)
