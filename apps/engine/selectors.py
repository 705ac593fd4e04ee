"""Reads of the data engine: runs and their jobs, flags with filters, flag counts, the generation report.

Counts are SQL aggregates over indexed columns (flags by run and tag group / status; assignments by dataset
and sequence number), never Python loops over rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from apps.datasets import selectors as dataset_selectors
from apps.datasets.models import DatasetVersion, TagAssignment
from apps.jobs.models import Job
from apps.labels.models import Tag, TagGroup
from apps.labels.selectors import group_names
from apps.training.models import Checkpoint

from .job_kinds import DEFAULT_THRESHOLD, ENGINE_CLUSTER, RUN_KINDS
from .models import EngineRun, Flag, FlagStatus

REASONS = {"cluster_outlier": "by_cluster", "baseline_rejection": "by_rejection", "confident_learning": "by_confident"}


# --- runs -------------------------------------------------------------------------------------------------


def engine_run_list(*, kind: str | None = None) -> QuerySet[EngineRun]:
    qs = EngineRun.objects.select_related("job", "dataset_version__dataset", "output_version__dataset",
                                          "checkpoint", "created_by")
    return qs.filter(kind=kind) if kind else qs


def run_jobs(*, run: EngineRun) -> QuerySet[Job]:
    """Every job of a run, newest first: its generation or features job and any clustering jobs."""
    return Job.objects.filter(Q(pk=run.job_id) | Q(kind__in=list(RUN_KINDS), cursor__run=run.pk)
                              | Q(kind=ENGINE_CLUSTER.name, params__run=run.pk)).order_by("-created_at", "-id")


# --- tags ---------------------------------------------------------------------------------------------------


def group_thresholds(*, label_system_version_id: int, checkpoint: Checkpoint | None = None,
                     overrides: dict[str, float] | None = None,
                     default: float = DEFAULT_THRESHOLD) -> dict[int, float]:
    """Each tag group's threshold: the run's override, else the label system's own (a threshold that was
    written in its files or edited), else the checkpoint's (``config["thresholds"]`` by tag, or
    ``config["threshold"]``), else ``default``."""
    overrides = {int(k): float(v) for k, v in (overrides or {}).items()}
    config = checkpoint.config if checkpoint is not None and isinstance(checkpoint.config, dict) else {}
    by_tag = config.get("thresholds") if isinstance(config.get("thresholds"), dict) else {}
    global_checkpoint = config.get("threshold") if isinstance(config.get("threshold"), (int, float)) else None
    out: dict[int, float] = {}
    rows = (Tag.objects.filter(version_id=label_system_version_id)
            .order_by("group__index", "position", "id").values_list("group_id", "text", "threshold",
                                                                    "threshold_text"))
    for group_id, text, threshold, written in rows:
        if group_id in out:
            continue
        if group_id in overrides:
            out[group_id] = overrides[group_id]
        elif written:
            out[group_id] = float(threshold)
        elif text in by_tag:
            out[group_id] = float(by_tag[text])
        elif global_checkpoint is not None:
            out[group_id] = float(global_checkpoint)
        else:
            out[group_id] = float(default)
    return out


# --- flags ------------------------------------------------------------------------------------------------


def flag_list(*, run: EngineRun | int | None = None, tag_group: int | None = None, status: str | None = None,
              reason: str | None = None, cluster: int | None = None) -> QuerySet[Flag]:
    """Flags in queue order (run, tag group, id), filtered by any of run / tag group / status / reason / cluster."""
    primary = Tag.objects.filter(group=OuterRef("tag_group")).order_by("position", "id").values("text")[:1]
    qs = Flag.objects.select_related("image", "assignment").annotate(tag=Subquery(primary))
    if run is not None:
        qs = qs.filter(run=run)
    if tag_group is not None:
        qs = qs.filter(tag_group_id=tag_group)
    if status:
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(**{REASONS[reason]: True})
    if cluster is not None:
        qs = qs.filter(cluster=cluster)
    return qs.order_by("run", "tag_group", "id")


def _counts() -> dict[str, Count]:
    aggregates = {"total": Count("id")}
    aggregates.update({reason: Count("id", filter=Q(**{field: True})) for reason, field in REASONS.items()})
    aggregates.update({status: Count("id", filter=Q(status=status)) for status in FlagStatus.values})
    return aggregates


def flag_counts(*, run: EngineRun) -> dict[str, Any]:
    """Flags of a run in total, per reason, per status, and the same per category (most flagged first)."""
    names = group_names(label_system_version_id=run.dataset_version.label_system_version_id)
    rows = (Flag.objects.filter(run=run).values("tag_group_id", "tag_group__index").annotate(**_counts())
            .order_by("-total", "tag_group__index"))
    categories = []
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        counts = {key: row[key] for key in ("total", *REASONS, *FlagStatus.values)}
        for key, value in counts.items():
            totals[key] += value
        categories.append({"tag_group": row["tag_group_id"], "index": row["tag_group__index"],
                           "tag": names.get(row["tag_group_id"], ""), **counts})
    return {"total": totals.get("total", 0),
            "by_reason": {reason: totals.get(reason, 0) for reason in REASONS},
            "by_status": {status: totals.get(status, 0) for status in FlagStatus.values},
            "per_category": categories}


# --- generation report ------------------------------------------------------------------------------------


def generation_report_compute(*, parent: DatasetVersion, child: DatasetVersion) -> dict[str, Any]:
    """Assignments before (``parent``) and after (``child``) generation, per source and per tag, in SQL.

    The layout of ``ram_model.engine.generation.TagCountReport.to_dict`` with ``per_tag`` as rows that carry
    the tag group, most added first. Generation only adds, so after = before + what ``child`` added.
    """
    names = group_names(label_system_version_id=child.label_system_version_id)
    index = dict(TagGroup.objects.filter(version_id=child.label_system_version_id).values_list("pk", "index"))
    before = (dataset_selectors.version_assignments(version=parent).values("tag_group_id", "source")
              .annotate(n=Count("id")).order_by())
    added = (TagAssignment.objects.filter(dataset_id=child.dataset_id, added_in_seq=child.seq)
             .values("tag_group_id", "source").annotate(n=Count("id")).order_by())
    per_tag: dict[int, dict[str, Any]] = {}
    per_source: dict[str, dict[str, int]] = defaultdict(lambda: {"before": 0, "after": 0})

    def tag_row(group_id: int) -> dict[str, Any]:
        return per_tag.setdefault(group_id, {"tag_group": group_id, "index": index.get(group_id),
                                             "tag": names.get(group_id, ""), "before": 0, "after": 0,
                                             "added": {}})

    for row in before:
        tag_row(row["tag_group_id"])["before"] += row["n"]
        tag_row(row["tag_group_id"])["after"] += row["n"]
        per_source[row["source"]]["before"] += row["n"]
        per_source[row["source"]]["after"] += row["n"]
    for row in added:
        entry = tag_row(row["tag_group_id"])
        entry["after"] += row["n"]
        entry["added"][row["source"]] = entry["added"].get(row["source"], 0) + row["n"]
        per_source[row["source"]]["after"] += row["n"]
    total_before = sum(s["before"] for s in per_source.values())
    total_after = sum(s["after"] for s in per_source.values())
    rows = sorted(per_tag.values(), key=lambda r: (-(r["after"] - r["before"]), r["index"] or 0))
    return {"total": {"before": total_before, "after": total_after, "added": total_after - total_before,
                      "growth": total_after / total_before if total_before else None},
            "per_source": {s: per_source[s] for s in sorted(per_source)},
            "per_tag": rows}


def generation_report(*, run: EngineRun) -> dict[str, Any]:
    """The stored report of a generation run (empty until its job has finished)."""
    report = run.report or {}
    keys = ("total", "per_source", "per_tag", "images", "captions", "thresholds_source", "sources")
    return {key: report[key] for key in keys if key in report}
