"""Bench: snapshot export (RAM JSON, Parquet) and the cost of a child version that removes 1 % of the tags.

Imports a synthetic COCO-like corpus (see bench/dataset_import.py) into a throw-away PostgreSQL database,
then, in this process:
- exports the sealed version to RAM JSON and to Parquet (streaming; images/s, extrapolated to 1M images,
  target <= 60 s each) and verifies each snapshot;
- creates a child version that removes 1 % of the assignments (one UPDATE of removed_in_seq) and compares
  its time and rows written with the baseline of materialising a full copy of the version's live assignments.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/dataset_export.py --rows 200000
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dataset_import  # the synthetic corpus and the throw-away database live there


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="images in the corpus")
    args = parser.parse_args()
    _url, old_name, connection = dataset_import.bench_database()
    try:
        run(args.rows)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(rows: int) -> None:
    from django.conf import settings
    from django.db.models.functions import Mod

    from apps.datasets.models import DatasetVersion, TagAssignment
    from apps.datasets.services.context import run_inline
    from apps.datasets.services.export import snapshot_export, snapshot_verify
    from apps.datasets.services.imports import ImportOptions, dataset_import_run
    from apps.datasets.services.versions import assignments_remove, dataset_version_create_child

    lsv = dataset_import.make_label_system(dataset_import.TAGS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        settings.LABELHUB_IMAGE_ROOTS = [tmp_path]
        corpus = tmp_path / "corpus.jsonl"
        dataset_import.write_jsonl(corpus, rows)
        _, result = run_inline(kind="import_dataset", body=dataset_import_run, params=ImportOptions(
            dataset_name="export-bench", format="jsonl", paths=[str(corpus)], image_root=tmp,
            label_system_version_id=lsv).as_params())
        version = DatasetVersion.objects.get(pk=result["version_id"])
        counts = version.counts
        print(f"corpus: {counts['images']} images, {counts['captions']} captions, {counts['assignments']} tags")
        for fmt in ("ram-json", "parquet"):
            out = tmp_path / f"snap-{fmt}"
            start = time.perf_counter()
            snapshot = snapshot_export(version=version, format=fmt, out=out)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            ok = snapshot_verify(path=out)["ok"]
            verify_seconds = time.perf_counter() - start
            size = sum(f["bytes"] for f in snapshot.manifest["files"]) / 1e6
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"export {fmt:8s} {seconds:6.1f} s  {rows / seconds:8.0f} images/s  {size:7.1f} MB  "
                  f"→ 1M images ≈ {1_000_000 / (rows / seconds):5.1f} s (target <= 60 s); "
                  f"verify {verify_seconds:.1f} s ({'ok' if ok else 'FAILED'}); peak RSS so far {peak:.0f} MB")
            shutil.rmtree(out)

        live = counts["assignments"]
        child = dataset_version_create_child(parent=version)
        full_seconds, copied = _full_copy_seconds(version, child)
        one_percent = TagAssignment.objects.alias(bucket=Mod("id", 100)).filter(dataset_id=version.dataset_id,
                                                                                 bucket=0)
        start = time.perf_counter()
        written = assignments_remove(version=child, assignments=one_percent)
        child_seconds = time.perf_counter() - start
        print(f"baseline: child as a full copy of {live} live assignments: {copied} rows written in "
              f"{full_seconds:.2f} s (rolled back)")
        print(f"child removing 1 %: {written} rows written in {child_seconds:.2f} s "
              f"→ {written / copied:.3f} of the rows, {child_seconds / full_seconds:.3f} of the time")


def _full_copy_seconds(version, child) -> tuple[float, int]:
    """What a copy-per-version store would pay: insert every live row again for the child (then roll back)."""
    from django.db import connection, transaction

    columns = "dataset_id, image_id, tag_group_id, caption_id, source, score"
    start = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pay the foreign-key checks a commit would pay
            cursor.execute(
                f"CREATE TEMP TABLE child_copy AS SELECT {columns} FROM datasets_tagassignment "
                "WHERE dataset_id = %s AND added_in_seq <= %s AND (removed_in_seq IS NULL OR removed_in_seq > %s)",
                [version.dataset_id, version.seq, version.seq])
            # A copy-per-version store keys uniqueness by version; here the copy would collide with the live rows.
            cursor.execute("DROP INDEX IF EXISTS datasets_assign_live_unique")
            cursor.execute(f"INSERT INTO datasets_tagassignment ({columns}, added_in_seq) "
                           f"SELECT {columns}, %s FROM child_copy", [child.seq])
            copied = cursor.rowcount
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds, copied


if __name__ == "__main__":
    main()
