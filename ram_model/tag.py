"""``python -m ram_model.tag``: tag images (and caption with Tag2Text), one JSON line per image on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import torch
from torch.utils.data import DataLoader

from .checkpoint import CheckpointMismatchError, load_model
from .inference import (
    MAX_PIXELS,
    ImageError,
    ImageFiles,
    ImageTagger,
    collate_images,
    default_vocabulary,
    load_image,
    prepare_for_inference,
    read_lines,
)
from .label_embeddings import build_label_embeddings, read_descriptions

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class UsageError(Exception):
    """A problem with the command line or its inputs; printed as one line, exit status 2."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ram_model.tag", description=__doc__)
    parser.add_argument("inputs", nargs="+", metavar="IMAGE|DIR", help="image files or folders (searched recursively)")
    parser.add_argument("--checkpoint", required=True, help="official or ram_model checkpoint (.pth)")
    parser.add_argument("--model", default=None,
                        help="variant for checkpoints without a stored config: ram, ram_plus, tag2text, "
                             "ram_swin_b_224, … (default: guessed from the weights)")
    parser.add_argument("--trusted-checkpoint", action="store_true",
                        help="allow a checkpoint that holds pickled Python objects (only for files you trust)")
    parser.add_argument("--image-size", type=int, default=None, help="input size (default: the model's, 384)")
    parser.add_argument("--threshold", type=float, default=None, help="one threshold for every class")
    parser.add_argument("--threshold-file", default=None, help="per-class thresholds, one per line")
    parser.add_argument("--taglist", default=None, help="tag names, one per line, in logit order")
    parser.add_argument("--tags", default=None,
                        help="comma-separated open-set tags (RAM/RAM++: new classes via CLIP; "
                             "Tag2Text: tags that guide the caption)")
    parser.add_argument("--descriptions", default=None, help="RAM++ open-set tag descriptions (official JSON)")
    parser.add_argument("--clip-checkpoint", default=None, help="local open_clip checkpoint for open-set tags")
    parser.add_argument("--clip-model", default="ViT-B-16", help="open_clip architecture of --clip-checkpoint")
    parser.add_argument("--label-cache", default=None, help="folder caching open-set label embeddings")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                        help="weight precision (bf16: ~3x faster on AMX CPUs and on GPUs, ~1e-2 logit error)")
    parser.add_argument("--max-pixels", type=int, default=MAX_PIXELS, help="skip larger images")
    parser.add_argument("--num-beams", type=int, default=3, help="Tag2Text caption beams (1 = greedy)")
    parser.add_argument("--max-length", type=int, default=50, help="Tag2Text caption max tokens")
    return parser.parse_args(argv)


def collect_images(inputs: Sequence[str]) -> list[Path]:
    """Files as given; folders expanded to their image files (recursive, sorted)."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            paths.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.exists():
            paths.append(path)
        else:
            raise UsageError(f"{item}: no such file or directory")
    if not paths:
        raise UsageError("no images found in the given inputs")
    return paths


def _split_tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def build_tagger(args: argparse.Namespace) -> tuple[ImageTagger, list[str] | None]:
    """Model, vocabulary (stock, --taglist or open-set) and Tag2Text caption tags."""
    build_kw: dict[str, Any] = {}
    if args.image_size is not None:
        build_kw["image_size"] = args.image_size
    model = load_model(args.checkpoint, args.model, trusted=args.trusted_checkpoint, **build_kw).to(args.device)
    arch = model.config.get("arch")
    user_tags = _split_tags(args.tags) if args.tags else None
    open_set = False
    tags: list[str] | None = read_lines(args.taglist) if args.taglist else None
    if arch in ("ram", "ram_plus") and (user_tags or args.descriptions):
        if args.clip_checkpoint is None:
            raise UsageError("open-set tags need --clip-checkpoint (a local open_clip weights file)")
        common = dict(model_name=args.clip_model, cache_dir=args.label_cache, device=args.device)
        if args.descriptions:
            groups = read_descriptions(args.descriptions)
            if user_tags:
                by_tag = dict(groups)
                missing = [t for t in user_tags if t not in by_tag]
                if missing:
                    raise UsageError(f"no descriptions for: {', '.join(missing)}")
                groups = [(t, by_tag[t]) for t in user_tags]
            tags = [tag for tag, _ in groups]
            embeddings = build_label_embeddings(dict(groups), args.clip_checkpoint, **common)  # (C*K, D)
        else:
            tags = user_tags
            embeddings = build_label_embeddings(tags, args.clip_checkpoint, average=(arch == "ram"), **common)
        per_tag = embeddings.view(len(tags), -1, embeddings.shape[-1])  # (C, K, D): K texts per tag
        if arch == "ram_plus":
            embeddings = per_tag
        else:  # RAM takes one row per tag: the normalised mean, as the official description builder does
            mean = per_tag.mean(dim=1)
            embeddings = mean / mean.norm(dim=-1, keepdim=True)
        model.set_label_embeddings(embeddings.to(args.device))
        open_set = True
        user_tags = None
    vocabulary = default_vocabulary(
        model, tags=tags, threshold=args.threshold, threshold_file=args.threshold_file, open_set=open_set
    )
    prepare_for_inference(model, precision=args.precision)
    tagger = ImageTagger(model, vocabulary, num_beams=args.num_beams, max_length=args.max_length)
    return tagger, user_tags


def _emit(out: TextIO, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    paths = collect_images(args.inputs)
    if len(paths) == 1:
        try:  # a single bad image is an error, not a skipped line
            load_image(paths[0], args.max_pixels)
        except ImageError as exc:
            raise UsageError(f"{paths[0]}: {exc}") from exc
    tagger, user_tags = build_tagger(args)
    dataset = ImageFiles(paths, tagger.model.image_size, args.max_pixels)
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers, collate_fn=collate_images)
    from tqdm import tqdm

    progress = tqdm(total=len(paths), unit="img", file=err, disable=not err.isatty())
    tagged = 0
    for indices, images, failed in loader:
        records: dict[int, dict[str, Any]] = {i: {"path": str(paths[i]), "error": r} for i, r in failed}
        if images is not None:
            for index, result in zip(indices, tagger.tag(images, user_tags)):
                records[index] = {"path": str(paths[index]), **result}
                tagged += 1
        for index in sorted(records):
            _emit(out, records[index])
        progress.update(len(indices) + len(failed))
    progress.close()
    return 0 if tagged else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (UsageError, CheckpointMismatchError, FileNotFoundError, ValueError) as exc:
        message = str(exc).strip()
        sys.stderr.write(f"error: {message}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
