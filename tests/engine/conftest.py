"""Fixtures of the engine tests: per-test folders, a tiny random-weight RAM checkpoint, shape datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.datasets.services.context import run_inline
from apps.training.services import checkpoint_register
from tests.engine.factories import tagged_version
from tests.engine.synthetic import SHAPE_TAGS, ShapesVersion, shapes_version


class FakeParser:
    """Splits captions on spaces: every word is a tag candidate (keeps these tests free of spaCy)."""

    def parse_many(self, captions, *, batch_size=256):
        for caption in captions:
            yield {"caption": caption, "tags": caption.split()}


@pytest.fixture
def engine_dirs(settings, tmp_path) -> Path:
    """Images, checkpoints and job files of this test under tmp_path."""
    settings.LABELHUB_IMAGE_ROOTS = [tmp_path / "images"]
    settings.LABELHUB_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.LABELHUB_JOB_DIR = tmp_path / "jobs"
    (tmp_path / "images").mkdir()
    return tmp_path


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory) -> Path:
    """A tiny RAM with random weights whose 9 classes are the shape tags (tag list inside the file)."""
    import torch

    from ram_model import build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model("ram_tiny", num_classes=len(SHAPE_TAGS)).eval()
    return save_checkpoint(model, tmp_path_factory.mktemp("engine-model") / "ram_tiny.pth", tag_list=SHAPE_TAGS)


@pytest.fixture
def shapes(db, engine_dirs) -> ShapesVersion:
    """12 synthetic images with their colour and shape tags (parsed), files on disk."""
    return shapes_version(engine_dirs / "images", images=12)


@pytest.fixture
def checkpoint(shapes, tiny_model_file):
    """The tiny model registered for the shapes' label system."""
    return checkpoint_register(path=tiny_model_file, name="tiny", variant="ram", size="tiny",
                               label_system_version=shapes.version.label_system_version)


@pytest.fixture
def engine_params(shapes, checkpoint) -> dict:
    return {"dataset_version": shapes.version.pk, "checkpoint": checkpoint.pk}


def run_body(kind: str, body, params: dict | None = None, job=None):
    """Run a job body in this process (a new Job of ``kind``, or ``job`` resumed); returns (job, result)."""
    return run_inline(kind=kind, params=params or {}, body=body, job=job)


@pytest.fixture
def tagged():
    """A sealed version of 4 images tagged dog and grass (no files: for the web side's launch checks)."""
    return tagged_version(images=4)


@pytest.fixture
def params(tagged, tmp_path) -> dict:
    """Launch parameters over ``tagged`` with a registered checkpoint file the web process never reads."""
    path = tmp_path / "ckpt.pth"
    path.write_bytes(b"not read by the web process")
    checkpoint = checkpoint_register(path=path, variant="ram", size="tiny")
    return {"dataset_version": tagged.version.pk, "checkpoint": checkpoint.pk}
