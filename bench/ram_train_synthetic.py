"""Train `ram_tiny` on synthetic shapes on the CPU and report held-out mAP, wall time and images/s.

    PYTHONPATH=. .venv/bin/python bench/ram_train_synthetic.py [--steps 500] [--threads 2] [--out DIR]
        [--tags colour,shape] [--max-count 2] [--seed 0]

Same recipe and data as the slow learning test (`ram_model.train.recipes.synthetic_config`, colour and shape
tags, groups of at most `SYNTHETIC_MAX_COUNT` shapes); the held-out images come from another generator seed,
so nothing is tuned on the evaluation images. `--seed` changes the training seed only (weights, order, flips).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from ram_model.synthetic import SyntheticConfig, write_dataset
from ram_model.train.metrics_log import read_metrics
from ram_model.train.recipes import SYNTHETIC_MAX_COUNT, synthetic_config
from ram_model.train.trainer import run_training

TRAIN_IMAGES, HELD_OUT_IMAGES = 800, 200


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out")
    parser.add_argument("--tags", default="colour,shape", help="tag kinds: colour, shape or colour,shape")
    parser.add_argument("--max-count", type=int, default=SYNTHETIC_MAX_COUNT, help="most shapes in one group")
    parser.add_argument("--seed", type=int, default=0, help="training seed (weights, sampling, augmentation)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(args.out or tempfile.mkdtemp(prefix="ram-learn-"))
    synthetic = SyntheticConfig(tag_kinds=tuple(args.tags.split(",")), max_count=args.max_count)
    write_dataset(root / "train", TRAIN_IMAGES, seed=0, config=synthetic)
    write_dataset(root / "held_out", HELD_OUT_IMAGES, seed=1, config=synthetic)
    config = synthetic_config(root / "train", steps=args.steps, held_out_dir=root / "held_out")
    config["seed"] = args.seed
    tick = time.perf_counter()
    result = run_training(config, root / "run", resume=False)
    wall = time.perf_counter() - tick
    train = read_metrics(root / "run" / "metrics.jsonl", "train")
    evals = read_metrics(root / "run" / "metrics.jsonl", "eval")
    rates = sorted(r["images_per_s"] for r in train[1:])
    print(json.dumps({
        "steps": result["step"], "wall_s": round(wall, 1),
        "held_out_mAP_by_step": {e["step"]: round(e["mAP"], 4) for e in evals}, "CF1": evals[-1]["CF1"],
        "per_tag_ap": evals[-1].get("per_tag_ap"),
        "t2t_first_last": [train[0]["loss_t2t"], train[-1]["loss_t2t"]],
        "tag_first_last": [train[0]["loss_tag"], train[-1]["loss_tag"]],
        "train_images_per_s_median": rates[len(rates) // 2] if rates else None,
    }))


if __name__ == "__main__":
    main()
