"""Label-embedding building speed: full 77-token CLIP context vs batches cut to their longest prompt.

Random ViT-B/16 weights (the speed does not depend on the values), a subset of the 4,585 RAM tags × the 63
prompt templates. Prompts are sorted by token length and batched as ``encode_texts`` does; every batch
is encoded both ways back to back (so load changes on a shared machine hit both alike) and the times are
summed. The figure for all tags is scaled from the subset.

    .venv/bin/python bench/label_embeddings.py [--tags 12] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ram_model.clip import clip_tokenizer, encode_text_truncated, load_clip
from ram_model.inference import ASSETS, read_lines
from ram_model.label_embeddings import category_prompts, encode_texts, length_batches, read_templates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", type=int, default=12, help="how many RAM tags to encode (evenly spaced)")
    parser.add_argument("--batch-size", type=int, default=256, help="as build_label_embeddings")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = load_clip(None, "ViT-B-16")
    all_tags = read_lines(ASSETS / "ram_tag_list.txt")
    tags = all_tags[:: max(1, len(all_tags) // args.tags)][: args.tags]
    templates = read_templates()
    prompts = [p for tag in tags for p in category_prompts(tag, templates)]
    tokens = clip_tokenizer("ViT-B-16")(prompts)
    lengths = (tokens != 0).sum(dim=1)
    encode_texts(model, prompts[:8], batch_size=8)  # warm-up

    full_s = short_s = 0.0
    max_diff = 0.0
    with torch.inference_mode():
        for index in length_batches(lengths, args.batch_size):
            t0 = time.perf_counter()
            full = encode_text_truncated(model, tokens[index])
            t1 = time.perf_counter()
            short = encode_text_truncated(model, tokens[index, : int(lengths[index].max())])
            t2 = time.perf_counter()
            full_s += t1 - t0
            short_s += t2 - t1
            full = full / full.norm(dim=-1, keepdim=True)
            short = short / short.norm(dim=-1, keepdim=True)
            max_diff = max(max_diff, (full - short).abs().max().item())

    total = len(all_tags) * len(templates)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(tags)} tags x {len(templates)} "
          f"templates = {len(prompts)} prompts (tokens: mean {lengths.float().mean():.1f}, max {int(lengths.max())}), "
          f"batch {args.batch_size}")
    for label, seconds in (("full 77-token context", full_s), ("cut to the batch's longest", short_s)):
        rate = len(prompts) / seconds
        minutes = total / rate / 60
        print(f"{label:30s} {seconds:7.1f} s  {rate:7.1f} prompts/s  all {len(all_tags)} tags: {minutes:6.1f} min")
    print(f"speed-up {full_s / short_s:.2f}x, max abs difference of the normalised embeddings {max_diff:.2e}")


if __name__ == "__main__":
    main()
