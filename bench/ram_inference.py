"""RAM inference speed on CPU: fp32 eager vs the fast path (SDPA + channels-last + bf16 weights [+ compile]).

Random weights, batch 8, 384 px, Swin-B and Swin-L backbones; prints images/s (best of the interleaved
rounds), peak extra memory during the timed forward passes (RSS sampled from /proc, minus the RSS before)
and speed ratios to the eager baseline measured in the same process.

    .venv/bin/python bench/ram_inference.py [--models swin_b,swin_l] [--iters 2] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import threading
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ram_model import build_model
from ram_model.inference import autocast, prepare_for_inference

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


class PeakRss:
    """Samples RSS every 5 ms while active; ``peak`` is the highest value seen."""

    def __enter__(self) -> PeakRss:
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed_pass(fn, images: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    """(seconds, peak extra MiB, output) of one forward pass."""
    with torch.inference_mode():
        base = rss_bytes()
        with PeakRss() as peak:
            start = time.perf_counter()
            out = fn(images)
            elapsed = time.perf_counter() - start
    return elapsed, (peak.peak - base) / 2**20, out.float()


def bench_model(name: str, args: argparse.Namespace) -> list[str]:
    """Modes are interleaved round by round and the best round counts, so load changes on a shared machine
    hit every mode alike."""
    torch.manual_seed(0)
    model = build_model(f"ram_{name}_384", caption=False).eval()  # the caption branch is not used for tagging
    images = torch.randn(args.batch, 3, 384, 384)
    channels_last = images.contiguous(memory_format=torch.channels_last)
    fast_bf16 = prepare_for_inference(copy.deepcopy(model), precision="bf16")
    model.to(memory_format=torch.channels_last)  # only the patch-embedding conv; eager reads contiguous input

    def eager(x: torch.Tensor) -> torch.Tensor:
        model.set_fast_attention(False)
        return model.tagging_logits(x)

    def fast_fp32(x: torch.Tensor) -> torch.Tensor:
        model.set_fast_attention(True)
        return model.tagging_logits(x)

    modes = {
        "fp32 eager": (eager, images),
        "fp32 sdpa+channels-last": (fast_fp32, channels_last),
        "bf16 weights+sdpa+channels-last": (fast_bf16.tagging_logits, channels_last.to(torch.bfloat16)),
    }
    if args.autocast:
        def autocast_bf16(x: torch.Tensor) -> torch.Tensor:
            model.set_fast_attention(True)
            with autocast("cpu", "bf16"):
                return model.tagging_logits(x)

        modes["bf16 autocast+sdpa+channels-last"] = (autocast_bf16, channels_last)
    if args.compile:
        compiled = torch.compile(fast_bf16.tagging_logits)
        start = time.perf_counter()
        with torch.inference_mode():
            compiled(channels_last[:1].to(torch.bfloat16))
        modes[f"bf16 + torch.compile (compile {time.perf_counter() - start:.0f} s)"] = (
            compiled, channels_last.to(torch.bfloat16))

    with torch.inference_mode():  # one-image warm-up per mode
        for fn, x in modes.values():
            fn(x[:1])
    best = {label: float("inf") for label in modes}
    memory = dict.fromkeys(modes, 0.0)
    outputs: dict[str, torch.Tensor] = {}
    for _ in range(args.iters):
        for label, (fn, x) in modes.items():
            seconds, mib, outputs[label] = timed_pass(fn, x)
            best[label] = min(best[label], seconds)
            memory[label] = max(memory[label], mib)
    reference = outputs["fp32 eager"]
    eager_ips = args.batch / best["fp32 eager"]
    lines = []
    for label in modes:
        ips = args.batch / best[label]
        diff = (outputs[label] - reference).abs().max().item()
        lines.append(f"| {name} {label} | {ips:.3f} | {ips / eager_ips:.2f}x | {memory[label]:.0f} | {diff:.2e} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="swin_b,swin_l")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=2, help="interleaved rounds; the best round counts")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument("--autocast", action="store_true", help="also time bf16 autocast over fp32 weights")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, 384 px, "
          f"best of {args.iters} interleaved rounds after a one-image warm-up")
    print("| model / path | images/s | vs fp32 eager | peak extra MiB | max abs logit diff |")
    print("|---|---|---|---|---|")
    for name in args.models.split(","):
        for line in bench_model(name.strip(), args):
            print(line, flush=True)


if __name__ == "__main__":
    main()
