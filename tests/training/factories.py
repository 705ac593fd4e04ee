"""Rows of the training app for page/API tests (no worker: jobs stay queued)."""

from __future__ import annotations

import json
from pathlib import Path

from apps.jobs.services import job_launch
from apps.training.models import EvalResult
from apps.training.services import checkpoint_register, training_run_launch


def make_run(params: dict, metrics: list[dict] | None = None):
    run = training_run_launch(params=params)
    if metrics is not None:
        Path(run.run_dir).mkdir(parents=True, exist_ok=True)
        (Path(run.run_dir) / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    return run


def make_checkpoint(tmp_path: Path, name: str = "ckpt.pth", **kwargs):
    path = tmp_path / name
    path.write_bytes(b"not read by the web process")
    return checkpoint_register(path=path, name=name, variant="ram", size="tiny", **kwargs)


def make_eval(checkpoint, per_tag_ap: dict, **metrics) -> EvalResult:
    job = job_launch(kind="evaluate", params={"checkpoint": checkpoint.pk, "annotations": __file__})
    return EvalResult.objects.create(checkpoint=checkpoint, job=job, per_tag_ap=per_tag_ap, num_images=10,
                                     **{"mAP": 0.5, **metrics})
