"""Review queue page latency with 1M flags in PostgreSQL (target p95 ≤ 100 ms).

Builds (once; reused while its row counts match) a cleaning run of 1M flags over 534 categories in its own
PostgreSQL database, every flag handed to one reviewer, 2 % already decided; then requests the queue page
and the queue API as that reviewer through Django's test client (URL routing, permissions, queries,
template rendering — everything but the network), for categories of different sizes and deep into
the queue (keyset pages after decided work). The baseline in the same run is the same request against a
100-flag run, so the ratio shows what the table size costs.

    createdb -h 127.0.0.1 -U postgres bench_review   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_review .venv/bin/python bench/review_page.py \
        [--flags 1000000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "bench")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from apps.accounts.services import user_create  # noqa: E402
from apps.datasets.models import Dataset  # noqa: E402
from apps.datasets.services.versions import dataset_version_create, dataset_version_seal  # noqa: E402
from apps.engine.models import EngineRun, EngineRunKind  # noqa: E402
from apps.labels.models import LabelSystem, LabelSystemVersion, Tag, TagGroup  # noqa: E402
from apps.review.models import ReviewBatch, RunReviewer  # noqa: E402

CATEGORIES = 534
REVIEWER = "bench-reviewer"


def _label_system() -> LabelSystemVersion:
    system, _ = LabelSystem.objects.get_or_create(name="bench-review")
    version, created = LabelSystemVersion.objects.get_or_create(label_system=system, number=1)
    if created:
        groups = TagGroup.objects.bulk_create(TagGroup(version=version, index=i) for i in range(CATEGORIES))
        Tag.objects.bulk_create(Tag(version=version, group=g, text=f"tag {g.index}", position=0) for g in groups)
    return version


def build_run(name: str, flags: int, reviewer) -> EngineRun:
    """A sealed version with about ``flags`` assignments (4 per image, repeated tags dropped), all flagged."""
    existing = EngineRun.objects.filter(name=name).first()
    if existing is not None:  # built by an earlier run of this bench
        return existing
    lsv = _label_system()
    first_group = TagGroup.objects.filter(version=lsv).order_by("index").values_list("id", flat=True).first()
    tick = time.perf_counter()
    with transaction.atomic():
        dataset = Dataset.objects.create(name=f"{name}-{time.time_ns()}", image_root="/tmp")
        version = dataset_version_create(dataset=dataset, label_system_version=lsv)
        images = (flags + 3) // 4
        params = {"ds": dataset.pk, "n": images, "flags": flags, "g0": first_group, "cats": CATEGORIES}
        with connection.cursor() as cursor:
            cursor.execute("""INSERT INTO datasets_image (dataset_id, uri, added_in_seq, width, height, checksum)
                              SELECT %(ds)s, 'img/' || lpad(i::text, 8, '0') || '.jpg', 1, 640, 480, ''
                              FROM generate_series(1, %(n)s) i""", params)
            # Category sizes follow a long tail (Zipf-like), as tag frequencies do.
            cursor.execute("""INSERT INTO datasets_tagassignment (dataset_id, image_id, tag_group_id, source,
                                                                  added_in_seq)
                              SELECT %(ds)s, im.id, %(g0)s + floor(%(cats)s * power(random(), 2))::int, 'parsed', 1
                              FROM (SELECT id, row_number() OVER (ORDER BY id) AS r FROM datasets_image
                                    WHERE dataset_id = %(ds)s) im, generate_series(1, 4) k
                              WHERE (im.r - 1) * 4 + k <= %(flags)s
                              ON CONFLICT DO NOTHING""", params)
        version = dataset_version_seal(version=version)
        run = EngineRun.objects.create(kind=EngineRunKind.CLEANING, name=name, dataset_version=version)
        RunReviewer.objects.get_or_create(run=run, user=reviewer)
        batch = ReviewBatch.objects.create(run=run, reviewer=reviewer)
        params.update(run=run.pk, batch=batch.pk, reviewer=reviewer.pk)
        with connection.cursor() as cursor:
            cursor.execute("""INSERT INTO engine_flag (run_id, assignment_id, image_id, tag_group_id, by_cluster,
                                  by_rejection, by_confident, region_source, box, cluster, distance, percentile,
                                  score, threshold, label_quality, status)
                              SELECT %(run)s, a.id, a.image_id, a.tag_group_id, true, a.id %% 3 = 0, false,
                                     'detections', '[10, 20, 200, 150]'::jsonb, a.id %% 8, 0.5 + (a.id %% 97) / 200.0,
                                     0.9 + (a.id %% 10) / 100.0, 0.2, 0.65, NULL, 'open'
                              FROM datasets_tagassignment a WHERE a.dataset_id = %(ds)s""", params)
            cursor.execute("""INSERT INTO review_reviewtask (batch_id, flag_id, reviewer_id, run_id, tag_group_id,
                                                             decision, decided_at)
                              SELECT %(batch)s, f.id, %(reviewer)s, %(run)s, f.tag_group_id,
                                     CASE WHEN f.id %% 50 = 0 THEN 'accept' ELSE '' END,
                                     CASE WHEN f.id %% 50 = 0 THEN now() END
                              FROM engine_flag f WHERE f.run_id = %(run)s""", params)
            cursor.execute("UPDATE review_reviewbatch SET size = (SELECT count(*) FROM review_reviewtask "
                           "WHERE batch_id = %(batch)s) WHERE id = %(batch)s", params)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE engine_flag; ANALYZE review_reviewtask; ANALYZE datasets_tagassignment")
    print(f"built {name}: {flags:,} flags in {time.perf_counter() - tick:.1f} s")
    return run


def categories(run: EngineRun) -> list[tuple[int, int]]:
    """(tag group id, flags) of the largest, a middle and a small category."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tag_group_id, count(*) FROM engine_flag WHERE run_id = %s GROUP BY 1 ORDER BY 2 DESC",
                       [run.pk])
        rows = cursor.fetchall()
    return [rows[0], rows[len(rows) // 2], rows[-1]]


def timings(client: Client, urls: list[str], requests: int) -> list[float]:
    for url in urls:  # warm caches and connections
        assert client.get(url).status_code == 200, url
    samples = []
    for i in range(requests):
        url = urls[i % len(urls)]
        tick = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - tick) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run against PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_review")
    call_command("migrate", verbosity=0)
    reviewer = (get_user_model().objects.filter(username=REVIEWER).first()
                or user_create(username=REVIEWER, password="pw-12345678", roles=["reviewer"]))
    small = build_run("bench-review-100", 100, reviewer)
    large = build_run("bench-review-1m", args.flags, reviewer)
    client = Client()
    client.force_login(reviewer)
    print(f"requests per page: {args.requests}; p50 / p95 in ms")
    print("page | run | category flags | p50 | p95 | p95 ÷ baseline")
    for name, url_for in PAGES.items():
        base = timings(client, [url_for(small, g) for g, _ in categories(small)], args.requests)
        for group, count in categories(large):
            samples = timings(client, [url_for(large, group)], args.requests)
            print(f"{name} | 1M | {count:,} | {statistics.median(samples):.1f} | {p95(samples):.1f} | "
                  f"{p95(samples) / p95(base):.2f}×")
        print(f"{name} | 100 (baseline) | – | {statistics.median(base):.1f} | {p95(base):.1f} | 1.00×")


def _middle_flag(run: EngineRun, group: int) -> int:
    """A flag id half-way through the category: a queue page deep into the reviewer's work."""
    ids = run.flags.filter(tag_group_id=group).order_by("id").values_list("id", flat=True)
    return ids[ids.count() // 2]


PAGES = {
    "queue page (first)": lambda run, group: reverse("review:queue", args=[run.pk, group]),
    "queue page (half-way, keyset)": lambda run, group: (reverse("review:queue", args=[run.pk, group])
                                                         + f"?after={_middle_flag(run, group)}"),
    "queue page (cluster 3, rejection only)": lambda run, group: (reverse("review:queue", args=[run.pk, group])
                                                                  + "?cluster=3&reason=baseline_rejection"),
    "queue API": lambda run, group: reverse("reviewrun-queue", args=[run.pk]) + f"?category={group}",
}

if __name__ == "__main__":
    main()
