"""Caption-parser throughput: ours vs. SceneGraphParser (sng_parser 0.1.0) in the same run, and 2-process scaling.

Usage: .venv/bin/python bench/parser_speed.py [--captions N] [--baseline-captions N] [--repeats R] [--workers 2]

Captions are the development set (tests/data/captions_dev.jsonl, COCO/VG/web styles) cycled to N lines.
Single-process figures pin BLAS to one thread, so "one core" means one core; each figure is total captions over
total seconds of R rounds, ours and the baseline interleaved round by round so machine load hits both alike.
spaCy-only rows are references: the same pipes we run (tok2vec, tagger, parser) and the full pipeline minus NER.
Multi-process rows go through `parse_stream` (spawned workers, chunks of --batch-size): "steady" excludes worker
start-up (model loading), "end-to-end" includes it.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from itertools import cycle, islice  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ram_model.text.parallel import parse_stream  # noqa: E402
from ram_model.text.parser import DEFAULT_MODEL, CaptionParser  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "captions_dev.jsonl"


def load_captions(n: int) -> list[str]:
    base = [json.loads(line)["caption"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line]
    return list(islice(cycle(base), n))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def multi_process(captions: list[str], workers: int, batch_size: int) -> dict[str, float]:
    """Wall captions/s end-to-end (incl. start-up) and after the first chunk ("steady"), and captions per
    CPU-second summed over the parent and the (reaped) worker processes."""
    cpu0, children0 = time.process_time(), _children_cpu()
    start = time.perf_counter()
    first_at = None
    count = 0
    for _ in parse_stream(captions, workers=workers, batch_size=batch_size):
        count += 1
        if count == batch_size:
            first_at = time.perf_counter()
    end = time.perf_counter()
    cpu = (time.process_time() - cpu0) + (_children_cpu() - children0)
    steady = (count - batch_size) / (end - first_at) if first_at and count > batch_size else float("nan")
    return {"steady": steady, "end_to_end": count / (end - start), "per_cpu_s": count / cpu}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--captions", type=int, default=1500)
    ap.add_argument("--baseline-captions", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--stream-captions", type=int, default=6000, help="captions for the parse_stream rows")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)

    import sng_parser
    import spacy

    captions = load_captions(args.captions)
    base_caps = captions[: args.baseline_captions]
    ours = CaptionParser()
    no_ner = spacy.load(DEFAULT_MODEL, exclude=["ner"])
    sng = sng_parser.Parser("spacy", model=DEFAULT_MODEL)
    list(ours.parse_many(captions[:300]))  # warm caches and allocator
    for caption in base_caps[:50]:
        sng.parse(caption)

    runs = {
        "ours": (lambda: list(ours.parse_many(captions)), len(captions)),
        "sng": (lambda: [sng.parse(c) for c in base_caps], len(base_caps)),
        "pipes": (lambda: list(ours.nlp.pipe(captions, batch_size=256)), len(captions)),
        "no_ner": (lambda: list(no_ner.pipe(captions, batch_size=256)), len(captions)),
    }
    wall = dict.fromkeys(runs, 0.0)
    cpu = dict.fromkeys(runs, 0.0)
    for _ in range(args.repeats):  # interleaved rounds, so background load hits every row alike
        for name, (fn, _n) in runs.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            wall[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - cpu_start
    rate = {name: args.repeats * n / wall[name] for name, (_fn, n) in runs.items()}
    per_cpu = {name: args.repeats * n / cpu[name] for name, (_fn, n) in runs.items()}

    stream = load_captions(args.stream_captions)
    one = multi_process(stream, 1, args.batch_size)
    many = multi_process(stream, args.workers, args.batch_size)
    # Start-up CPU of the pool (spawn + import + model load per worker), from a run with one chunk per worker;
    # what remains of the big run's CPU is the steady per-caption cost, which decides scaling on free cores.
    tiny_n = args.workers * args.batch_size
    tiny = multi_process(stream[:tiny_n], args.workers, args.batch_size)
    startup_cpu = tiny_n / tiny["per_cpu_s"] - tiny_n / per_cpu["ours"]
    steady_per_cpu = len(stream) / (len(stream) / many["per_cpu_s"] - startup_cpu)
    base = rate["sng"]
    rows = [
        ("sng_parser 0.1.0 (baseline), 1 process", rate["sng"], per_cpu["sng"]),
        ("ours, 1 process (parse_many)", rate["ours"], per_cpu["ours"]),
        ("ours, parse_stream 1 process, after model load", one["steady"], float("nan")),
        ("ours, parse_stream 1 process, end-to-end incl. model load", one["end_to_end"], one["per_cpu_s"]),
        (f"ours, parse_stream {args.workers} processes, after start-up", many["steady"], steady_per_cpu),
        (f"ours, parse_stream {args.workers} processes, end-to-end incl. start-up", many["end_to_end"],
         many["per_cpu_s"]),
        ("ref: spaCy tok2vec+tagger+parser only", rate["pipes"], per_cpu["pipes"]),
        ("ref: spaCy full pipeline minus NER", rate["no_ner"], per_cpu["no_ner"]),
    ]
    if args.markdown:
        print("| run | captions/s (wall) | × baseline | captions per CPU-second |\n|---|---|---|---|")
        for name, r, c in rows:
            print(f"| {name} | {r:,.0f} | {r / base:.1f}× | {c:,.0f} |")
    else:
        for name, r, c in rows:
            print(f"{name:66s} {r:7.0f}/s {r / base:6.1f}x  {c:7.0f}/cpu-s")
    print(f"scaling {args.workers} vs 1 process (parse_stream): after start-up {many['steady'] / one['steady']:.2f}x, "
          f"end-to-end {many['end_to_end'] / one['end_to_end']:.2f}x; os.cpu_count()={os.cpu_count()}, "
          f"load average during run={os.getloadavg()[0]:.1f}")
    print(f"pool start-up ≈ {startup_cpu:.1f} CPU-s for {args.workers} workers; steady per-caption CPU with "
          f"{args.workers} workers = {per_cpu['ours'] / steady_per_cpu:.2f}x that of one in-process parser")
    print(f"one core: ours / baseline = {rate['ours'] / base:.1f}x wall, {per_cpu['ours'] / per_cpu['sng']:.1f}x per "
          f"CPU-second (target >= 5x: {'met' if rate['ours'] >= 5 * base else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
