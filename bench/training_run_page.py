"""How the run page's curves scale with the length of a run's metrics.jsonl.

The page re-reads the trainer's metrics file on every htmx poll (every 2 s while a run is live). This times
reading + charting for runs of 1k, 10k and 100k logged steps, against the 1k run as the baseline, and shows
what thinning each series to ≤ 400 points saves in SVG size (what the browser must parse every 2 s).

    .venv/bin/python bench/training_run_page.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DEBUG", "1")

import django

django.setup()

from apps.training import charts  # noqa: E402
from apps.training.models import TrainingRun  # noqa: E402
from apps.training.views import _charts  # noqa: E402


def write_metrics(folder: Path, steps: int) -> TrainingRun:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "metrics.jsonl").open("w") as fh:
        for step in range(1, steps + 1):
            fh.write(json.dumps({"kind": "train", "step": step, "epoch": 0, "lr": 1e-4, "loss_tag": 3.0 / step ** 0.3,
                                 "loss_t2t": 2.0, "loss_dis": 0.5, "loss": 5.5, "images_per_s": 300.0,
                                 "elapsed_s": step * 0.5, "time": 1.0}) + "\n")
            if step % 100 == 0:
                fh.write(json.dumps({"kind": "eval", "step": step, "mAP": 0.5, "CF1": 0.4, "OF1": 0.45}) + "\n")
    return TrainingRun(run_dir=str(folder))


def timed(run: TrainingRun, repeats: int = 3) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        svgs = _charts(run)
        best = min(best, time.perf_counter() - start)
        size = sum(len(s) for s in svgs)
    return best, size


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for steps in (1_000, 10_000, 100_000):
            results[steps] = timed(write_metrics(Path(tmp) / str(steps), steps))
        base_time, _ = results[1_000]
        print("steps    | read+chart s | × 1k baseline | SVG bytes")
        for steps, (seconds, size) in results.items():
            print(f"{steps:>8} | {seconds:12.3f} | {seconds / base_time:13.1f} | {size:,}")
        thin = charts.thin
        charts.thin = lambda points, limit=0: list(points)  # no thinning, for comparison
        seconds, size = timed(TrainingRun(run_dir=str(Path(tmp) / "100000")), repeats=1)
        charts.thin = thin
        print(f"100k steps without thinning: {seconds:.3f} s, SVG {size:,} bytes "
              f"({size / results[100_000][1]:.0f}× the thinned page)")


if __name__ == "__main__":
    main()
