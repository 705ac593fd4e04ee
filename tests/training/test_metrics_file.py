"""Incremental reading of a run's metrics.jsonl between polls of the run page."""

from __future__ import annotations

import json

from apps.training.metrics_file import MetricsFileCache


def _append(path, *records):
    with path.open("a") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in records))


def test_new_lines_are_added_and_a_half_written_line_waits_for_its_end(tmp_path):
    path, cache = tmp_path / "metrics.jsonl", MetricsFileCache()
    _append(path, {"kind": "train", "step": 1, "loss": 3.0}, {"kind": "eval", "step": 1, "mAP": 0.2})
    assert [r["step"] for r in cache.read(path)["train"]] == [1]

    _append(path, {"kind": "train", "step": 2, "loss": 2.0})
    with path.open("a") as fh:
        fh.write('{"kind": "train", "st')
    assert [r["step"] for r in cache.read(path)["train"]] == [1, 2]

    with path.open("a") as fh:
        fh.write('ep": 3, "loss": 1.0}\n')
    assert cache.columns(path)["train"]["loss"] == [(1, 3.0), (2, 2.0), (3, 1.0)]
    assert cache.columns(path)["eval"]["mAP"] == [(1, 0.2)]


def test_a_rewritten_file_is_read_again_from_the_start(tmp_path):
    path, cache = tmp_path / "metrics.jsonl", MetricsFileCache()
    _append(path, *({"kind": "train", "step": s, "loss": 1.0} for s in range(1, 6)))
    cache.read(path)

    path.write_text("".join(json.dumps({"kind": "train", "step": s, "loss": 2.0}) + "\n" for s in range(1, 9)))

    records = cache.read(path)["train"]
    assert [r["step"] for r in records] == list(range(1, 9)) and {r["loss"] for r in records} == {2.0}


def test_a_missing_file_has_no_records(tmp_path):
    assert MetricsFileCache().read(tmp_path / "none.jsonl") == {"train": [], "eval": []}
