"""Merge suggestions over the RAM ∪ Tag2Text vocabulary (~5,300 tags) on one core; target ≤ 30 s.

Baseline, in the same process: the naive all-pairs comparison (every pair of tags intersects their first
senses) on a subset, extrapolated by (n / subset)²; the indexed run must find the same synset pairs on the
subset. Run: ``.venv/bin/python bench/wordnet_merges.py [--data DIR] [--subset 600]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from ram_model.text.synonyms import suggest_merges  # noqa: E402
from ram_model.text.wordnet import first_senses, load_wordnet  # noqa: E402

TARGET_SECONDS = 30.0


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def naive_synset_pairs(wn, vocabulary: list[str], max_senses: int = 3) -> set[tuple[str, str]]:
    """All pairs, each compared directly: O(n²) set intersections (senses looked up once per tag)."""
    senses = {tag: {s.name() for s, _r in first_senses(wn, tag, max_senses)} for tag in vocabulary}
    return {(a, b) for a, b in combinations(vocabulary, 2) if senses[a] & senses[b]}


def naive_lookup_pairs(wn, vocabulary: list[str], max_senses: int = 3) -> set[tuple[str, str]]:
    """The straightforward version: look both tags up in WordNet for every pair."""
    found = set()
    for a, b in combinations(vocabulary, 2):
        senses_a = {s.name() for s, _r in first_senses(wn, a, max_senses)}
        if senses_a & {s.name() for s, _r in first_senses(wn, b, max_senses)}:
            found.add((a, b))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "ram" / "data")
    parser.add_argument("--nltk-data", type=Path, default=Path(os.environ.get("NLTK_DATA", ROOT / "var" / "nltk_data")))
    parser.add_argument("--subset", type=int, default=600)
    parser.add_argument("--lookup-subset", type=int, default=150)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    started, cpu = time.perf_counter(), time.process_time()
    wn = load_wordnet(args.nltk_data)
    load_seconds, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    ram, chinese = read_lines(args.data / "ram_tag_list.txt"), read_lines(args.data / "ram_tag_list_chinese.txt")
    vocabulary = list(dict.fromkeys(ram + read_lines(args.data / "tag2text_ori_tag_list.txt")))

    started, cpu = time.perf_counter(), time.process_time()
    proposals = suggest_merges(wn, vocabulary, dict(zip(ram, chinese)))
    indexed_seconds, indexed_cpu = time.perf_counter() - started, time.process_time() - cpu

    subset = vocabulary[: args.subset]
    started = time.perf_counter()
    naive = naive_synset_pairs(wn, subset)
    naive_seconds = time.perf_counter() - started
    started = time.perf_counter()
    indexed_subset = {(p.tag_a, p.tag_b) for p in suggest_merges(wn, subset, reasons=["synset"])}
    indexed_subset_seconds = time.perf_counter() - started
    naive_full_estimate = naive_seconds * (len(vocabulary) / len(subset)) ** 2
    small = vocabulary[: args.lookup_subset]
    started = time.perf_counter()
    lookups = naive_lookup_pairs(wn, small)
    lookup_seconds = time.perf_counter() - started
    lookup_full_estimate = lookup_seconds * (len(vocabulary) / len(small)) ** 2
    indexed_small = {(p.tag_a, p.tag_b) for p in suggest_merges(wn, small, reasons=["synset"])}

    print(f"WordNet load: {load_seconds:.1f} s wall, {load_cpu:.1f} s CPU (once per process, includes importing nltk)")
    print(f"vocabulary: {len(vocabulary)} tags (RAM {len(ram)} ∪ Tag2Text)")
    print(f"indexed suggest_merges: {indexed_seconds:.2f} s wall, {indexed_cpu:.2f} s CPU, {len(proposals)} proposals "
          f"{dict(Counter(p.reason for p in proposals))}")
    print(f"  vs target {TARGET_SECONDS:.0f} s: {indexed_seconds / TARGET_SECONDS:.3f} of the budget "
          f"(with WordNet load: {(indexed_seconds + load_seconds) / TARGET_SECONDS:.3f})")
    print(f"naive all-pairs on {len(subset)} tags: {naive_seconds:.2f} s "
          f"(indexed on the same subset: {indexed_subset_seconds:.2f} s; same pairs: {naive == indexed_subset})")
    print(f"naive extrapolated to {len(vocabulary)} tags: {naive_full_estimate:.1f} s "
          f"-> indexed is {naive_full_estimate / indexed_seconds:.1f}x faster")
    print(f"naive per-pair WordNet lookups on {len(small)} tags: {lookup_seconds:.2f} s (same pairs: "
          f"{lookups == indexed_small}); extrapolated to {len(vocabulary)} tags: {lookup_full_estimate:.0f} s "
          f"-> indexed is {lookup_full_estimate / indexed_seconds:.0f}x faster")
    print("examples:")
    for reason in ("synset", "plural", "translation"):
        for p in [p for p in proposals if p.reason == reason][:6]:
            print(f"  {p.reason:11s} {p.confidence:.2f}  {p.tag_a} ~ {p.tag_b}  ({p.detail})")


if __name__ == "__main__":
    main()
