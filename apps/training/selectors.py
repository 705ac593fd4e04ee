"""Reads of training: runs, checkpoints, evaluations, run metrics (from the trainer's metrics.jsonl), per-tag
AP tables and the tag-by-tag comparison of two evaluations."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from apps.jobs.models import Job

from .metrics_file import METRICS_FILES
from .models import Checkpoint, EvalResult, TrainingRun

SORT_KEYS = ("tag", "ap", "ap_a", "ap_b", "delta")


def training_run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("job", "dataset_version__dataset", "label_system_version__label_system")


def checkpoint_list() -> QuerySet[Checkpoint]:
    return Checkpoint.objects.select_related("label_system_version__label_system", "dataset_version__dataset",
                                             "training_run")


def eval_result_list(*, checkpoint: Checkpoint | None = None) -> QuerySet[EvalResult]:
    qs = EvalResult.objects.select_related("checkpoint", "dataset_version__dataset")
    return qs.filter(checkpoint=checkpoint) if checkpoint is not None else qs


def checkpoint_jobs(*, checkpoint: Checkpoint) -> QuerySet[Job]:
    """Evaluate and extend jobs launched on a checkpoint (newest first)."""
    return Job.objects.filter(kind__in=("evaluate", "extend_checkpoint"), params__checkpoint=checkpoint.pk)


def run_metrics(*, run: TrainingRun) -> dict[str, list[dict[str, Any]]]:
    """The run's logged records split by kind (``train``, ``eval``), read incrementally between polls."""
    if not run.run_dir:
        return {"train": [], "eval": []}
    return METRICS_FILES.read(Path(run.run_dir) / "metrics.jsonl")


def run_metric_columns(*, run: TrainingRun) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Kind → metric → ``[(step, value)]`` of the run (what the curves plot)."""
    if not run.run_dir:
        return {"train": {}, "eval": {}}
    return METRICS_FILES.columns(Path(run.run_dir) / "metrics.jsonl")


def _valid(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _matches(tag: str, query: str) -> bool:
    return not query or query.lower() in tag.lower()


def _sorted(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """Sort by ``sort``; rows without a value go last either way."""
    if sort == "tag":
        return sorted(rows, key=lambda r: r["tag"].lower(), reverse=descending)
    present = [r for r in rows if r.get(sort) is not None]
    missing = [r for r in rows if r.get(sort) is None]
    return sorted(present, key=lambda r: r[sort], reverse=descending) + missing


def per_tag_rows(*, result: EvalResult, query: str = "", sort: str = "ap", descending: bool = True
                 ) -> list[dict[str, Any]]:
    """(tag, AP) rows of an evaluation, filtered by a substring of the tag and sorted."""
    rows = [{"tag": tag, "ap": _valid(ap)} for tag, ap in result.per_tag_ap.items() if _matches(tag, query)]
    return _sorted(rows, sort if sort in ("tag", "ap") else "ap", descending)


def compare_rows(*, a: EvalResult, b: EvalResult, query: str = "", sort: str = "delta", descending: bool = True
                 ) -> list[dict[str, Any]]:
    """Tag-by-tag AP of two evaluations: every tag either has, with ``delta`` = AP(b) − AP(a)."""
    tags: Iterable[str] = list(dict.fromkeys([*a.per_tag_ap, *b.per_tag_ap]))
    rows = []
    for tag in tags:
        if not _matches(tag, query):
            continue
        ap_a, ap_b = _valid(a.per_tag_ap.get(tag)), _valid(b.per_tag_ap.get(tag))
        delta = ap_b - ap_a if ap_a is not None and ap_b is not None else None
        rows.append({"tag": tag, "ap_a": ap_a, "ap_b": ap_b, "delta": delta})
    return _sorted(rows, sort if sort in SORT_KEYS else "delta", descending)


def eval_summary(result: EvalResult) -> dict[str, Any]:
    return {"id": result.pk, "checkpoint": result.checkpoint_id, "benchmark": result.benchmark_name,
            "num_images": result.num_images, "threshold": result.threshold,
            **{k: getattr(result, k) for k in ("mAP", "CP", "CR", "CF1", "OP", "OR", "OF1")}}
