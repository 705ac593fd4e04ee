"""Fixtures of the dataset tests: an image root configured in settings, a small label system, file writers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image as PILImage

from .factories import label_system_version_with_tags


@pytest.fixture
def image_root(tmp_path: Path, settings) -> Path:
    root = tmp_path / "images"
    root.mkdir()
    settings.LABELHUB_IMAGE_ROOTS = [root]
    settings.LABELHUB_JOB_DIR = tmp_path / "jobs"
    settings.LABELHUB_EXPORT_DIR = tmp_path / "exports"
    return root


@pytest.fixture
def make_images(image_root: Path) -> Callable[..., list[str]]:
    """Write small JPEG files under the image root; returns their relative paths."""

    def make(*names: str, size: tuple[int, int] = (8, 6)) -> list[str]:
        for i, name in enumerate(names):
            path = image_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            PILImage.new("RGB", size, (i * 40 % 256, 10, 20)).save(path, format="JPEG")
        return list(names)

    return make


@pytest.fixture
def lsv(db):
    return label_system_version_with_tags(synonyms={"dog": ["puppy"]})


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, object], Path]:
    """Write text (str), JSON (list/dict) or JSONL (list of dicts with name ending .jsonl) into tmp_path."""

    def write(name: str, content: object) -> Path:
        path = tmp_path / "input" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif name.endswith(".jsonl"):
            path.write_text("".join(json.dumps(row) + "\n" for row in content), encoding="utf-8")  # type: ignore[union-attr]
        else:
            path.write_text(json.dumps(content), encoding="utf-8")
        return path

    return write
