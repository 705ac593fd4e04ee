"""One prepared GPU check (H200): RAM Swin-L/384 bf16 inference throughput and one training step.

Prints images/s, achieved TFLOP/s (FLOPs counted with ``torch.utils.flop_counter``) and the fraction of the
device's dense bf16 peak (``--peak-tflops``, default 790). ``--smoke`` runs the same code on ``ram_tiny``
(CPU is fine) to check the script itself.

    .venv/bin/python bench/gpu_check.py            # on the GPU machine (a few minutes)
    .venv/bin/python bench/gpu_check.py --smoke    # anywhere, seconds
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ram_model import build_model
from ram_model.inference import prepare_for_inference


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def count_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def timed(fn, device: torch.device, warmup: int, iters: int) -> float:
    """Seconds per call after warm-up."""
    for _ in range(warmup):
        fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(device)
    return (time.perf_counter() - start) / iters


def check_inference(args: argparse.Namespace, device: torch.device) -> dict:
    torch.manual_seed(0)
    with device:
        model = build_model(args.variant, caption=False)
    prepare_for_inference(model, precision="bf16")
    size = model.image_size
    images = torch.randn(args.batch, 3, size, size, device=device, dtype=torch.bfloat16)
    images = images.contiguous(memory_format=torch.channels_last)
    forward = model.tagging_logits
    if args.compile:
        forward = torch.compile(forward)

    def step() -> None:
        with torch.inference_mode():
            forward(images)

    def eager_step() -> None:
        with torch.inference_mode():
            model.tagging_logits(images)

    flops = count_flops(eager_step)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = timed(step, device, args.warmup, args.iters)
    result = {
        "check": "inference bf16",
        "variant": args.variant,
        "batch": args.batch,
        "images_per_s": args.batch / seconds,
        "gflops_per_image": flops / args.batch / 1e9,
        "tflops_achieved": flops / seconds / 1e12,
    }
    result["fraction_of_peak"] = result["tflops_achieved"] / args.peak_tflops
    if device.type == "cuda":
        result["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return result


def check_training(args: argparse.Namespace, device: torch.device) -> dict:
    torch.manual_seed(0)
    with device:
        model = build_model(args.variant, caption=False)
    model.train()
    model.set_fast_attention(True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=device.type == "cuda")
    size = model.image_size
    images = torch.randn(args.train_batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)
    targets = (torch.rand(args.train_batch, model.num_classes, device=device) < 0.01).float()

    def forward_backward() -> None:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            logits = model.tagging_logits(images)
        loss = F.binary_cross_entropy_with_logits(logits.float(), targets, reduction="sum")
        loss.backward()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        forward_backward()
        optimizer.step()

    flops = count_flops(forward_backward)
    optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = timed(step, device, args.warmup, args.iters)
    result = {
        "check": "training step (bf16 autocast, tagging loss, AdamW)",
        "variant": args.variant,
        "batch": args.train_batch,
        "step_s": seconds,
        "images_per_s": args.train_batch / seconds,
        "tflops_achieved": flops / seconds / 1e12,
    }
    result["fraction_of_peak"] = result["tflops_achieved"] / args.peak_tflops
    if device.type == "cuda":
        result["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny model, any device: check the script runs")
    parser.add_argument("--batch", type=int, default=64, help="inference batch")
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--peak-tflops", type=float, default=790.0, help="dense bf16 peak of the device")
    parser.add_argument("--compile", action="store_true", help="torch.compile the inference forward")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.smoke:
        args.variant, args.batch, args.train_batch, args.warmup, args.iters = "ram_tiny", 4, 2, 1, 2
    else:
        args.variant = "ram_swin_l_384"
        if device.type != "cuda":
            parser.error("no GPU found; use --smoke to check the script on CPU")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}, peak {args.peak_tflops:.0f} bf16 TFLOP/s", flush=True)
    results = [check_inference(args, device)]
    print(json.dumps(results[-1]), flush=True)
    if not args.skip_training:
        results.append(check_training(args, device))
        print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    main()
