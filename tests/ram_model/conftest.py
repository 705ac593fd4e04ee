"""Fixtures for the ram_model tests: tiny random models, the shared RAM facts and demo photos."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

SHARED_RAM = Path(__file__).resolve().parents[3] / "shared" / "ram"
if not SHARED_RAM.is_dir():
    SHARED_RAM = Path("/work/shared/ram")


@pytest.fixture(scope="session")
def shared_ram() -> Path:
    return SHARED_RAM


@pytest.fixture(scope="session")
def official_shapes(shared_ram: Path) -> dict:
    """Key → shape lists of the released checkpoints (``ram_state_dict_shapes.json``)."""
    with (shared_ram / "ram_state_dict_shapes.json").open() as fh:
        return json.load(fh)


@pytest.fixture(scope="session")
def demo_images(shared_ram: Path) -> list[Path]:
    return sorted((shared_ram / "images").glob("*.jpg"))


@pytest.fixture(scope="session")
def _tiny_models() -> dict:
    """One seeded build per tiny variant; tests get deep copies (tied parameters stay tied in a copy)."""
    return {}


def _tiny(cache: dict, variant: str):
    from ram_model import build_model

    if variant not in cache:
        torch.manual_seed(0)
        cache[variant] = build_model(variant).eval()
    return copy.deepcopy(cache[variant])


@pytest.fixture
def tiny_ram(_tiny_models):
    return _tiny(_tiny_models, "ram_tiny")


@pytest.fixture
def tiny_ram_plus(_tiny_models):
    return _tiny(_tiny_models, "ram_plus_tiny")


@pytest.fixture
def tiny_tag2text(_tiny_models):
    return _tiny(_tiny_models, "tag2text_tiny")


@pytest.fixture
def images64() -> torch.Tensor:
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
