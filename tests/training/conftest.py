"""Fixtures of the training tests: the synthetic demo data (small), files under a per-test folder."""

from __future__ import annotations

import pytest

from apps.training.demo import DemoData, demo_data_load

# A run that trains a tiny RAM for a few steps on CPU in seconds.
TINY_CONFIG = {"max_steps": 4, "batch_size": 4, "checkpoint_every": 2, "eval_every": 2}


@pytest.fixture
def training_dirs(settings, tmp_path):
    """Images and checkpoints of this test under tmp_path (workers read the absolute paths stored in rows)."""
    settings.LABELHUB_IMAGE_ROOTS = [tmp_path / "images"]
    settings.LABELHUB_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.LABELHUB_JOB_DIR = tmp_path / "jobs"
    (tmp_path / "images").mkdir()
    return tmp_path


@pytest.fixture
def demo(training_dirs) -> DemoData:
    """Demo label system (9 tags), a 16-image training version and an 8-image held-out version."""
    return demo_data_load(num_train=16, num_heldout=8, image_size=64)


@pytest.fixture
def train_params(demo) -> dict:
    return {"dataset_version": demo.train.pk, "label_system_version": demo.label_system_version.pk,
            "eval_dataset_version": demo.heldout.pk, "mode": "finetune", "variant": "ram", "size": "tiny",
            "config": dict(TINY_CONFIG)}


@pytest.fixture(scope="session")
def trained_model_file(tmp_path_factory):
    """A tiny RAM trained for two steps on the synthetic shapes (9 classes, tag list inside the file)."""
    from ram_model.synthetic import write_dataset
    from ram_model.train import run_training

    root = tmp_path_factory.mktemp("trained")
    paths = write_dataset(root / "data", 8, seed=3)
    result = run_training({"model": "ram_tiny", "train_file": [str(paths["train_json"])],
                           "image_path_root": str(root / "data"), "tag_list": str(paths["tag_list"]),
                           "class_num": 9, "distill": False, "max_steps": 2, "batch_size": 4, "num_workers": 0},
                          root / "run")
    return result["model"]


@pytest.fixture
def job_context():
    """Factory: a worker JobContext for a job launched now (to run a job body in the test process)."""
    from apps.jobs.services import job_launch, job_start
    from workers.base import JobContext

    def make(kind: str, params: dict):
        job = job_launch(kind=kind, params=params)
        return JobContext(job_start(job_id=job.pk, worker_host="pytest"))

    return make
