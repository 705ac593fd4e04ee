"""Engine pages: runs (list, launch, detail with live state), the generation report, flag counts per category
with links into the review queue, and re-clustering a cleaning run."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.jobs.kinds import get_kind

from . import selectors, services
from .forms import KIND_OF_RUN, ClusterForm, launch_form_class
from .models import EngineRun, EngineRunKind

VIEW = "engine.view_enginerun"
LAUNCH = ("engine.add_enginerun", "jobs.add_job")


@login_required
@permission_required(VIEW, raise_exception=True)
def run_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") if request.GET.get("kind") in EngineRunKind.values else None
    return render(request, "engine/run_list.html", {"runs": selectors.engine_run_list(kind=kind)[:200],
                                                    "filter_kind": kind, "kinds": EngineRunKind.values})


@login_required
@permission_required(LAUNCH, raise_exception=True)
def run_launch(request: HttpRequest, kind: str) -> HttpResponse:
    form = launch_form_class(kind)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.engine_run_launch(kind=kind, params=form.params(), user=request.user)
        except ValidationError as exc:
            form.add_kind_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        else:
            return redirect("engine:run-detail", pk=run.pk)
    return render(request, "engine/run_launch.html", {"form": form, "kind": kind, "job_kind": get_kind(
        KIND_OF_RUN[kind])}, status=400 if request.method == "POST" else 200)


def _run_context(run: EngineRun, **extra: Any) -> dict[str, Any]:
    jobs = list(selectors.run_jobs(run=run))
    context = {"run": run, "jobs": jobs, "busy": any(not j.is_terminal for j in jobs), **extra}
    if run.kind == EngineRunKind.GENERATION:
        context["report"] = selectors.generation_report(run=run)
    else:
        context["counts"] = selectors.flag_counts(run=run)
        context["clusters"] = run.report.get("clusters") or {}
        context["features"] = run.report.get("features") or {}
        context.setdefault("cluster_form", ClusterForm(initial={
            "fraction": (run.report.get("clustering") or {}).get("fraction", run.params.get("fraction", 0.10))}))
    return context


@login_required
@permission_required(VIEW, raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.engine_run_list(), pk=pk)
    return render(request, "engine/run_detail.html", _run_context(run))


@login_required
@permission_required(VIEW, raise_exception=True)
def run_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the run page that htmx refreshes while a job of the run is queued or running."""
    run = get_object_or_404(selectors.engine_run_list(), pk=pk)
    return render(request, "engine/_run_live.html", _run_context(run))


@require_POST
@login_required
@permission_required(LAUNCH, raise_exception=True)
def run_cluster(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.engine_run_list(), pk=pk, kind=EngineRunKind.CLEANING)
    form = ClusterForm(request.POST)
    if form.is_valid():
        try:
            services.engine_cluster_launch(run=run, params=form.cleaned_data, user=request.user)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, "Clustering queued.")
            return redirect("engine:run-detail", pk=pk)
    return render(request, "engine/run_detail.html", _run_context(run, cluster_form=form), status=400)
