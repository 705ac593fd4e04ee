"""Bench: dataset import on PostgreSQL — COPY vs bulk_create rows/s, and peak memory when the rows double.

A synthetic COCO-like JSONL corpus (per row: one image, two captions, three tags of a 63-tag label system) is
imported by the real import service (the ``import_dataset`` job body, in-process) into a throw-away copy of the
PostgreSQL database. Each run is its own process so that its peak RSS is its own. Runs, in one invocation:
COPY with N rows, bulk_create with N rows (the baseline), COPY with 2N rows (memory must stay flat), and
optionally a parse of the imported captions (``--parse-rows``, on ``--workers`` processes) to extrapolate the
"import + parse 1M captions" target. Needs DATABASE_URL=postgres://…:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/dataset_import.py --rows 200000

``--e2e 1000000`` instead measures the target itself: import 500,000 rows (1M captions), then parse them all,
each stage in its own process, reporting wall time, CPU of the job process, of its PostgreSQL backend and of
the parser processes, peak RSS of the job process and of the largest parser process, and the load average
(other work on the machine inflates wall times; CPU times are what the stages cost).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_TESTING", "1")

NOUNS = ["dog", "cat", "man", "woman", "horse", "car", "bus", "train", "bird", "boat", "pizza", "table", "chair",
         "person", "child", "bicycle", "motorcycle", "umbrella", "kite", "giraffe", "zebra", "elephant", "sheep",
         "cow", "truck", "plane", "clock", "bench", "bed", "laptop"]
PLACES = ["beach", "street", "field", "kitchen", "park", "road", "room", "snow", "water", "grass", "city",
          "table", "sky", "forest", "airport"]
VERBS = ["sitting", "standing", "riding", "walking", "playing", "eating", "flying", "parked", "lying", "running"]
ADJECTIVES = ["red", "small", "large", "white", "black", "young", "old", "brown", "blue", "green"]
TAGS = sorted(set(NOUNS + PLACES + ADJECTIVES + ["sit", "stand", "ride", "walk", "play", "eat", "fly", "park",
                                                 "lie", "run"]))


def synthetic_rows(count: int, seed: int = 0):
    """COCO-like rows: image path, two captions, three tag texts (all in TAGS)."""
    rng = random.Random(seed)
    for i in range(count):
        noun, place, verb, adj = rng.choice(NOUNS), rng.choice(PLACES), rng.choice(VERBS), rng.choice(ADJECTIVES)
        yield {"image": f"coco/{i // 1000:04d}/{i:09d}.jpg",
               "captions": [f"a {adj} {noun} {verb} on the {place}", f"there is a {noun} near the {place}"],
               "tags": [noun, place, adj]}


def write_jsonl(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in synthetic_rows(count):
            fh.write(json.dumps(row) + "\n")


def bench_database() -> tuple[str, str, object]:
    """Create the throw-away test database; returns (its URL, the old name, the connection)."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    if connection.vendor != "postgresql":
        sys.exit("this bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:port/db")
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})["NAME"] = os.environ.get(  # not pytest's test DB
        "BENCH_DB_NAME", "labelhub_bench_datasets")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    cfg = connection.settings_dict
    host = f"{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}"
    return f"postgres://{cfg.get('USER') or 'postgres'}@{host}/{cfg['NAME']}", old_name, connection


def make_label_system(tags: list[str]) -> int:
    from apps.labels.models import LabelSystem, LabelSystemVersion, Tag, TagGroup

    version = LabelSystemVersion.objects.create(label_system=LabelSystem.objects.create(name=f"bench-{time.time_ns()}"),
                                                number=1)
    groups = TagGroup.objects.bulk_create([TagGroup(version=version, index=i) for i in range(len(tags))])
    Tag.objects.bulk_create([Tag(version=version, group=g, text=t) for g, t in zip(groups, tags)])
    return version.pk


def _backend_cpu(connection) -> object:
    """A function giving the CPU seconds of this connection's PostgreSQL backend (None when not local)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def cpu() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return cpu


def run_child(args: argparse.Namespace) -> None:
    """One import (or parse) in this process; prints one JSON line with rate, CPU and peak memory."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.LABELHUB_IMAGE_ROOTS = [Path(args.image_root)]
    from apps.datasets.services.context import run_inline
    from apps.datasets.services.imports import ImportOptions, dataset_import_run
    from apps.datasets.services.parsing import ParseOptions, dataset_version_parse_run

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pg_cpu = _backend_cpu(connection)
    pg_start, cpu_start, load_start = pg_cpu(), time.process_time(), os.getloadavg()
    start = time.perf_counter()
    if args.parse_version:
        _, result = run_inline(kind="parse_version", body=dataset_version_parse_run, params=ParseOptions(
            version_id=args.parse_version, workers=args.workers).as_params())
        items = result["captions"]
    else:
        _, result = run_inline(kind="import_dataset", body=dataset_import_run, params=ImportOptions(
            dataset_name=args.name, format="jsonl", paths=[args.input], image_root=args.image_root,
            label_system_version_id=args.lsv, method=args.method).as_params())
        items = result["records"]
    seconds = time.perf_counter() - start
    pg_end = pg_cpu()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"seconds": seconds, "items": items, "rate": items / seconds, "version_id": result["version_id"],
                      "counts": result.get("counts", {}), "base_rss_mb": base_rss,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "cpu_s": time.process_time() - cpu_start,
                      "pg_cpu_s": None if pg_start is None or pg_end is None else pg_end - pg_start,
                      "workers_cpu_s": children.ru_utime + children.ru_stime,
                      "workers_peak_rss_mb": children.ru_maxrss / 1024,
                      "load": [load_start, os.getloadavg()]}))


def child(url: str, **options: object) -> dict:
    cmd = [sys.executable, __file__, "--child"]
    for key, value in options.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    out = subprocess.run(cmd, env={**os.environ, "DATABASE_URL": url}, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _stage_line(label: str, run: dict, unit: str) -> str:
    pg = f"{run['pg_cpu_s']:.1f}" if run.get("pg_cpu_s") is not None else "?"
    line = (f"{label:8s} {run['items']:>9,d} {unit}  {run['seconds']:7.1f} s wall  {run['rate']:8,.0f} {unit}/s  "
            f"CPU: job {run['cpu_s']:.1f} s, PostgreSQL {pg} s")
    if run.get("workers_cpu_s"):
        line += f", parsers {run['workers_cpu_s']:.1f} s"
    line += f"  peak RSS: job {run['peak_rss_mb']:.0f} MB"
    if run.get("workers_cpu_s"):
        line += f", parser {run['workers_peak_rss_mb']:.0f} MB"
    start, end = run["load"]
    return line + f"  load {start[0]:.1f} -> {end[0]:.1f} (1 min), {end[1]:.1f} (5 min)"


def end_to_end(url: str, captions: int, workers: int, lsv: int, tmp: str) -> None:
    """Import ``captions`` / 2 rows, then parse every caption; each stage in its own process."""
    path = Path(tmp) / "e2e.jsonl"
    write_jsonl(path, captions // 2)
    imported = child(url, input=path, name="e2e", method="copy", image_root=tmp, lsv=lsv)
    print(_stage_line("import", imported, "rows"), flush=True)
    parsed = child(url, parse_version=imported["version_id"], workers=workers, image_root=tmp, lsv=lsv)
    print(_stage_line("parse", parsed, "captions"), flush=True)
    total = imported["seconds"] + parsed["seconds"]
    c = parsed["counts"]
    print(f"import + parse of {imported['counts']['captions']:,} captions: {total:.0f} s = {total / 60:.1f} min "
          f"(target <= 10 min); {c.get('assignments_added', 0):,} parsed assignments; parse on {workers} processes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--parse-rows", type=int, default=10_000, help="rows imported then parsed (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="parser processes")
    parser.add_argument("--e2e", type=int, default=0, metavar="CAPTIONS",
                        help="only the end-to-end run: import CAPTIONS/2 rows, then parse all their captions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("input", "name", "image-root", "method", "lsv", "parse-version"):
        parser.add_argument(f"--{name}", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.lsv = int(args.lsv) if args.lsv else None
        args.parse_version = int(args.parse_version) if args.parse_version else None
        run_child(args)
        return
    url, old_name, connection = bench_database()
    try:
        lsv = make_label_system(TAGS)
        with tempfile.TemporaryDirectory() as tmp:
            if args.e2e:
                end_to_end(url, args.e2e, args.workers, lsv, tmp)
                return
            tmp_path = Path(tmp)
            files = {}
            for rows in sorted({args.rows, 2 * args.rows, args.parse_rows} - {0}):
                files[rows] = tmp_path / f"rows-{rows}.jsonl"
                write_jsonl(files[rows], rows)
            common = {"image_root": tmp, "lsv": lsv}
            runs = {
                "copy": child(url, input=files[args.rows], name="copy", method="copy", **common),
                "bulk_create": child(url, input=files[args.rows], name="orm", method="orm", **common),
                "copy_2x": child(url, input=files[2 * args.rows], name="copy2", method="copy", **common),
            }
            for label, run in runs.items():
                c = run["counts"]
                print(f"{label:12s} {run['items']:>8d} rows  {run['seconds']:7.1f} s  {run['rate']:8.0f} rows/s  "
                      f"peak RSS {run['peak_rss_mb']:6.0f} MB (after setup {run['base_rss_mb']:.0f} MB)  "
                      f"[{c.get('images')} images, {c.get('captions')} captions, {c.get('assignments')} tags]  "
                      f"CPU job {run['cpu_s']:.1f} s, PostgreSQL {run['pg_cpu_s'] or 0:.1f} s")
            print(f"COPY / bulk_create speed: {runs['copy']['rate'] / runs['bulk_create']['rate']:.2f}x")
            print(f"peak RSS 2N / N: {runs['copy_2x']['peak_rss_mb'] / runs['copy']['peak_rss_mb']:.2f}")
            if args.parse_rows:
                imported = child(url, input=files[args.parse_rows], name="parse", method="copy", **common)
                parsed = child(url, parse_version=imported["version_id"], workers=args.workers, **common)
                captions_rate = imported["counts"]["captions"] / imported["seconds"]
                print(_stage_line("parse", parsed, "captions"))
                est = 1_000_000 / captions_rate + 1_000_000 / parsed["rate"]
                print(f"extrapolated import + parse of 1M captions: {est / 60:.1f} min (target <= 10 min)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
