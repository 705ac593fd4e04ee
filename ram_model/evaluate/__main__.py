"""`python -m ram_model.evaluate --checkpoint P --taglist F --annotations F --image-root D [...]`.

Prints one JSON object: mAP, CP, CR, CF1, OP, OR, OF1, per-tag AP, counts and skipped images. Annotations
are OpenImages `image_id,tag,...` (with a tag-name list), OpenImages `image_id,idx,...` (with a class-index
list) or JSONL `{"image", "tags"}`. Benchmark classes are mapped to the model's classes by name (model tag
names from the checkpoint, --model-taglist, or the variant's bundled list). `--pr-curves out.png` also
draws the precision–recall curves of the best and worst tags. `--clip-checkpoint` evaluates open-set (e.g.
OpenImages-rare): the benchmark's classes replace the model's through CLIP label embeddings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ram_model.evaluate.annotations import read_benchmark, read_lines

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets"


def model_tag_names(checkpoint: dict[str, Any], model: Any, override: str | None) -> list[str] | None:
    """Tag names of the model's classes: --model-taglist, the checkpoint's list, or the bundled asset."""
    if override:
        names = read_lines(override)
    elif checkpoint.get("tag_list"):
        names = list(checkpoint["tag_list"])
    else:
        bundled = getattr(model, "config", {}).get("tag_list")
        if not bundled or not (ASSET_DIR / bundled).is_file():
            return None
        names = read_lines(ASSET_DIR / bundled)
    if len(names) != model.num_classes:
        raise ValueError(f"the model has {model.num_classes} classes but its tag list has {len(names)} names")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ram_model.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--annotations", required=True)
    parser.add_argument("--taglist", help="benchmark classes: names, or model class indices (one a line)")
    parser.add_argument("--image-root", default="")
    parser.add_argument("--model", help="variant when the checkpoint carries no config (e.g. ram, ram_plus)")
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--model-taglist", help="names of the model's classes (default: from the checkpoint)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--threshold", type=float, default=0.5, help="global score threshold (default 0.5)")
    group.add_argument("--thresholds", help="per-class thresholds file in model class order")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, help="evaluate only the first N images")
    parser.add_argument("--clip-checkpoint",
                        help="open-set: build the benchmark classes' label embeddings with this local CLIP file "
                             "(RAM / RAM++), so classes the model was not trained on are evaluated too")
    parser.add_argument("--clip-model", default="ViT-B-16", help="open_clip architecture of --clip-checkpoint")
    parser.add_argument("--descriptions", help="RAM++ open-set: JSON list of {tag: [descriptions]}")
    parser.add_argument("--pr-curves", help="write a PNG of PR curves of the best and worst tags")
    parser.add_argument("--curves", type=int, default=5, help="tags per panel in the PNG")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from ram_model.checkpoint import load_model as load_model_from
    from ram_model.checkpoint import read_checkpoint
    from ram_model.evaluate.annotations import Benchmark
    from ram_model.evaluate.plots import plot_pr_curves
    from ram_model.evaluate.runner import evaluate_model, open_set_model, read_descriptions

    try:
        checkpoint = read_checkpoint(args.checkpoint)
        build_kw = {"image_size": args.image_size} if args.image_size else {}
        model = load_model_from(checkpoint, args.model, **build_kw).to(args.device)
        tags = model_tag_names(checkpoint, model, args.model_taglist)
        benchmark = read_benchmark(args.annotations, args.taglist, args.image_root)
        if args.limit:
            benchmark = Benchmark(benchmark.image_paths[: args.limit], benchmark.labels[: args.limit],
                                  benchmark.classes)
        if args.clip_checkpoint:
            if args.thresholds:
                raise ValueError("--thresholds are per model class; open-set evaluation uses --threshold")
            classes = [str(c) for c in benchmark.classes]
            descriptions = read_descriptions(args.descriptions) if args.descriptions else None
            model = open_set_model(model, classes, args.clip_checkpoint, clip_model_name=args.clip_model,
                                   descriptions=descriptions)
            tags = classes
        thresholds: Any = args.threshold
        if args.thresholds:
            thresholds = np.array([float(v) for v in read_lines(args.thresholds)])
            if thresholds.shape[0] != model.num_classes:
                raise ValueError(f"{args.thresholds} has {thresholds.shape[0]} values for {model.num_classes} classes")
        with torch.inference_mode():
            report, scores, targets = evaluate_model(
                model, benchmark, tags, thresholds=thresholds, batch_size=args.batch_size,
                num_workers=args.num_workers, device=args.device, image_size=args.image_size,
            )
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["checkpoint"] = args.checkpoint
    report["annotations"] = args.annotations
    report["threshold"] = args.thresholds or args.threshold
    if args.pr_curves:
        names = list(report["per_tag_ap"])
        report["pr_curves"] = str(plot_pr_curves(scores, targets, names, args.pr_curves, args.curves))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
