"""Training pages: runs (launch, live progress and curves), checkpoints (register, evaluate, extend),
evaluations (per-tag AP table, export) and the tag-by-tag comparison of two evaluations."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from apps.jobs.selectors import job_log_tail

from . import selectors, services
from .charts import Series, line_chart
from .configs import default_config
from .forms import (
    CheckpointRegisterForm,
    CompareForm,
    EvaluateForm,
    ExtendForm,
    TrainingLaunchForm,
    add_service_errors,
)
from .models import Checkpoint, ModelSize, TrainingMode, TrainingRun

VIEW_RUN = "training.view_trainingrun"
VIEW_CHECKPOINT = "training.view_checkpoint"
VIEW_EVAL = "training.view_evalresult"
LAUNCH = ("training.add_trainingrun", "jobs.add_job")
REGISTER = "training.add_checkpoint"
EVALUATE = ("training.add_evalresult", "jobs.add_job")
EXTEND = ("training.add_checkpoint", "jobs.add_job")


# --- runs -------------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    return render(request, "training/run_list.html", {"runs": selectors.training_run_list()[:200]})


@login_required
@permission_required(LAUNCH, raise_exception=True)
def run_launch(request: HttpRequest) -> HttpResponse:
    form = TrainingLaunchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.training_run_launch(params=form.params(), user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("training:run-detail", pk=run.pk)
    return render(request, "training/run_launch.html", {
        "form": form, "defaults": json.dumps(default_config(TrainingMode.FINETUNE, ModelSize.TINY), indent=2,
                                             sort_keys=True)})


@login_required
@permission_required(LAUNCH, raise_exception=True)
def run_defaults(request: HttpRequest) -> HttpResponse:
    """The config a run of the chosen mode and size starts from (shown beside the overrides field)."""
    mode, size = request.GET.get("mode", TrainingMode.FINETUNE), request.GET.get("size", ModelSize.TINY)
    if mode not in TrainingMode.values or size not in ModelSize.values:
        return HttpResponse("unknown mode or size", status=400)
    config = json.dumps(default_config(mode, size), indent=2, sort_keys=True)
    return render(request, "training/_defaults.html", {"config": config, "mode": mode, "size": size})


def _charts(run: TrainingRun) -> list[Any]:
    columns = selectors.run_metric_columns(run=run)
    train, evals = columns["train"], columns["eval"]
    loss_keys = sorted((k for k in train if k.startswith("loss")), key=lambda k: (k != "loss", k))

    def series(metrics: dict[str, list[tuple[int, float]]], key: str, name: str | None = None) -> Series:
        return Series(name or key, metrics.get(key, []))

    return [
        line_chart([series(train, k) for k in loss_keys], title="Loss", key="loss"),
        line_chart([series(train, "lr")], title="Learning rate", key="lr"),
        line_chart([series(train, "images_per_s", "images/s")], title="Throughput", key="throughput"),
        line_chart([series(evals, "mAP"), series(evals, "CF1"), series(evals, "OF1")], title="Evaluation mAP",
                   key="map", markers=True),
    ]


def _run_context(run: TrainingRun) -> dict[str, Any]:
    job = run.job
    return {"run": run, "job": job, "charts": _charts(run), "log_lines": job_log_tail(job=job),
            "checkpoints": run.checkpoints.all(), "result_json": json.dumps(job.result, indent=2, sort_keys=True)}


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.training_run_list(), pk=pk)
    return render(request, "training/run_detail.html", {
        **_run_context(run), "config_json": json.dumps(run.config, indent=2, sort_keys=True)})


@login_required
@permission_required(VIEW_RUN, raise_exception=True)
def run_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the run page that htmx refreshes while the job runs (progress, curves, checkpoints)."""
    run = get_object_or_404(selectors.training_run_list(), pk=pk)
    return render(request, "training/_run_live.html", _run_context(run))


# --- checkpoints ------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_CHECKPOINT, raise_exception=True)
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    return render(request, "training/checkpoint_list.html", {"checkpoints": selectors.checkpoint_list()[:500]})


@login_required
@permission_required(REGISTER, raise_exception=True)
def checkpoint_register(request: HttpRequest) -> HttpResponse:
    form = CheckpointRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            checkpoint = services.checkpoint_register(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("training:checkpoint-detail", pk=checkpoint.pk)
    return render(request, "training/checkpoint_register.html", {"form": form})


def _checkpoint_context(checkpoint: Checkpoint, **forms: Any) -> dict[str, Any]:
    evals = list(selectors.eval_result_list(checkpoint=checkpoint))
    jobs = list(selectors.checkpoint_jobs(checkpoint=checkpoint)[:20])
    return {"checkpoint": checkpoint, "evals": evals, "jobs": jobs,
            "busy": any(not j.is_terminal for j in jobs),
            "evaluate_form": forms.get("evaluate_form") or EvaluateForm(),
            "extend_form": forms.get("extend_form") or ExtendForm(),
            "compare_form": CompareForm(initial={"a": evals[1].pk if len(evals) > 1 else None,
                                                 "b": evals[0].pk if evals else None}),
            "config_json": json.dumps(checkpoint.config, indent=2, sort_keys=True, default=str)}


@login_required
@permission_required(VIEW_CHECKPOINT, raise_exception=True)
def checkpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    checkpoint = get_object_or_404(selectors.checkpoint_list(), pk=pk)
    part = request.GET.get("part") == "jobs"
    template = "training/_checkpoint_jobs.html" if part else "training/checkpoint_detail.html"
    return render(request, template, _checkpoint_context(checkpoint))


def _launch_on_checkpoint(request: HttpRequest, pk: int, form_class: type, form_key: str,
                          launch: Callable[..., Any]) -> HttpResponse:
    checkpoint = get_object_or_404(Checkpoint, pk=pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            launch(params=form.params(checkpoint), user=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("training:checkpoint-detail", pk=pk)
    return render(request, "training/checkpoint_detail.html", _checkpoint_context(checkpoint, **{form_key: form}),
                  status=400 if request.method == "POST" else 200)


@login_required
@permission_required(EVALUATE, raise_exception=True)
def checkpoint_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    return _launch_on_checkpoint(request, pk, EvaluateForm, "evaluate_form", services.evaluation_launch)


@login_required
@permission_required(EXTEND, raise_exception=True)
def checkpoint_extend(request: HttpRequest, pk: int) -> HttpResponse:
    return _launch_on_checkpoint(request, pk, ExtendForm, "extend_form", services.checkpoint_extend_launch)


# --- evaluations ------------------------------------------------------------------------------------------


def _table_options(request: HttpRequest, default_sort: str) -> dict[str, Any]:
    return {"query": request.GET.get("q", "").strip(), "sort": request.GET.get("sort") or default_sort,
            "descending": request.GET.get("order", "desc") != "asc"}


def _table(options: dict[str, Any], rows: list[dict[str, Any]], columns: list[tuple[str, str]],
           table_id: str, keep: dict[str, Any] | None = None) -> dict[str, Any]:
    """Context of ``_tag_table.html``: header links that sort (toggling the order) and keep the search."""
    headers = []
    for key, label in columns:
        active = key == options["sort"]
        order = ("asc" if options["descending"] else "desc") if active else ("asc" if key == "tag" else "desc")
        query = urlencode({**(keep or {}), "q": options["query"], "sort": key, "order": order})
        arrow = ("▼" if options["descending"] else "▲") if active else ""
        headers.append({"key": key, "label": label, "query": query, "arrow": arrow})
    return {"table_id": table_id, "headers": headers, "query": options["query"], "sort": options["sort"],
            "order": "desc" if options["descending"] else "asc",
            "table_rows": [(r["tag"], [r[k] for k, _ in columns[1:]]) for r in rows]}


def _csv(filename: str, header: list[str], rows: list[list[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


@login_required
@permission_required(VIEW_EVAL, raise_exception=True)
def eval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    result = get_object_or_404(selectors.eval_result_list(), pk=pk)
    options = _table_options(request, "ap")
    rows = selectors.per_tag_rows(result=result, **options)
    fmt = request.GET.get("format")
    if fmt == "json":
        return JsonResponse({**selectors.eval_summary(result), "per_tag_ap": {r["tag"]: r["ap"] for r in rows}})
    if fmt == "csv":
        return _csv(f"eval-{result.pk}.csv", ["tag", "ap"], [[r["tag"], "" if r["ap"] is None else r["ap"]]
                                                             for r in rows])
    table = _table(options, rows, [("tag", "Tag"), ("ap", "AP")], "ap-table")
    if request.htmx:
        return render(request, "training/_tag_table.html", table)
    return render(request, "training/eval_detail.html", {"result": result, **table})


@login_required
@permission_required(VIEW_EVAL, raise_exception=True)
def eval_compare(request: HttpRequest) -> HttpResponse:
    form = CompareForm(request.GET or None)
    if not form.is_valid():
        return render(request, "training/compare.html", {"form": form}, status=400 if request.GET else 200)
    a, b = form.cleaned_data["a"], form.cleaned_data["b"]
    options = _table_options(request, "delta")
    rows = selectors.compare_rows(a=a, b=b, **options)
    fmt = request.GET.get("format")
    if fmt == "json":
        return JsonResponse({"a": selectors.eval_summary(a), "b": selectors.eval_summary(b), "tags": rows})
    if fmt == "csv":
        return _csv(f"compare-{a.pk}-{b.pk}.csv", ["tag", "ap_a", "ap_b", "delta"],
                    [[r["tag"], *("" if r[k] is None else r[k] for k in ("ap_a", "ap_b", "delta"))] for r in rows])
    columns = [("tag", "Tag"), ("ap_a", f"AP A (#{a.pk})"), ("ap_b", f"AP B (#{b.pk})"), ("delta", "B − A")]
    table = _table(options, rows, columns, "compare-table", keep={"a": a.pk, "b": b.pk})
    if request.htmx:
        return render(request, "training/_tag_table.html", table)
    return render(request, "training/compare.html", {"form": form, "a": a, "b": b, **table})
