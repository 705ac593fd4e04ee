"""Admin tag changelist with a search over the 4,585 RAM tags: p95 latency with the test client (≤ 300 ms).

Runs against a throw-away test database (SQLite by default; set DATABASE_URL for PostgreSQL), loads the RAM
label system, then requests ``/admin/labels/tag/?q=…`` for a set of searches. Baseline, in the same process:
the same admin without any select_related (each row fetches its group and version on its own), with the
full result count and Django's default 100 rows per page, so the ratio shows what the tuning buys.
Run: ``.venv/bin/python bench/admin_changelist.py`` (``DATABASE_URL=postgres://… `` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")
os.environ.setdefault("LABELHUB_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.admin.views.main import ChangeList  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402

from apps.labels.models import Tag  # noqa: E402
from apps.labels.services import wordnet_for_site  # noqa: E402
from apps.labels.services.loading import default_ram_data_dir, label_system_load, ram_label_files  # noqa: E402

TARGET_MS = 300.0


class NoSelectRelatedChangeList(ChangeList):
    """The baseline: rows fetch their group and version one query at a time."""

    def apply_select_related(self, qs):
        return qs


def searches(rng: random.Random, count: int) -> list[dict[str, str]]:
    texts = list(Tag.objects.values_list("text", "name_zh"))
    picked = rng.sample(texts, count)
    queries = [{"q": text[: max(2, len(text) // 2)]} for text, _zh in picked[: count // 2]]
    queries += [{"q": zh.strip()[:1]} for _text, zh in picked[count // 2:] if zh.strip()]
    queries += [{}, {"q": "dog"}, {"q": "a"}, {"q": "car", "category__exact": "object"},
                {"q": "e", "group_size": "1"}, {"threshold": "gt80"}]
    return queries


def measure(client: Client, queries: list[dict[str, str]], repeats: int) -> tuple[list[float], float]:
    timings, query_counts = [], []
    for _ in range(repeats):
        for params in queries:
            reset_queries()
            started = time.perf_counter()
            response = client.get("/admin/labels/tag/", params)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            query_counts.append(len(connection.queries))
    return timings, statistics.mean(query_counts)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-categories", action="store_true", help="load without WordNet categories")
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        wordnet = wordnet_for_site() if not args.no_categories else None
        wordnet_seconds = time.perf_counter() - started
        label_system_load(name="ram", label_files=ram_label_files(default_ram_data_dir()), wordnet=wordnet)
        print(f"RAM label system loaded and published in {time.perf_counter() - started:.1f} s wall, "
              f"{time.process_time() - cpu:.1f} s CPU (WordNet load for categories: {wordnet_seconds:.1f} s; "
              f"{Tag.objects.count()} tags, {connection.vendor}; target < 10 s)")
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
        client = Client()
        client.force_login(user)
        queries = searches(random.Random(0), args.searches)
        tag_admin = admin.site._registry[Tag]

        with override_settings(DEBUG=True):
            measure(client, queries[:3], 1)  # warm-up (templates, caches)
            tuned, tuned_queries = measure(client, queries, args.repeats)
            tag_admin.get_changelist = lambda request, **kwargs: NoSelectRelatedChangeList
            tag_admin.show_full_result_count, tag_admin.list_per_page = True, 100  # Django's defaults
            try:
                baseline, baseline_queries = measure(client, queries, args.repeats)
            finally:
                del tag_admin.get_changelist
                tag_admin.show_full_result_count, tag_admin.list_per_page = False, 50

        print(f"{len(queries)} searches x {args.repeats}: tuned p95 {p95(tuned):.0f} ms "
              f"(median {statistics.median(tuned):.0f} ms, {tuned_queries:.1f} queries/page)")
        print(f"baseline (no select_related, full count, 100 rows/page): p95 {p95(baseline):.0f} ms "
              f"(median {statistics.median(baseline):.0f} ms, {baseline_queries:.1f} queries/page)")
        print(f"tuned vs baseline: {p95(baseline) / p95(tuned):.1f}x; vs target {TARGET_MS:.0f} ms: "
              f"{p95(tuned) / TARGET_MS:.2f} of the budget")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
