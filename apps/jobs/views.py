"""Pages for jobs: list with filters, detail with live progress (htmx), launch, cancel, retry."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import JobLaunchForm, params_form_class
from .kinds import JobKind, all_kinds
from .models import Job, JobState


@login_required
def home(request: HttpRequest) -> HttpResponse:
    cards = [
        {"title": "Label systems", "text": "Tags, synonym groups, versions", "url": reverse("admin:index")},
        {"title": "Datasets", "text": "Versions, lineage, tag frequencies, snapshots", "url": reverse("datasets:list")},
        {"title": "Jobs", "text": "Parsing, training, export…", "url": reverse("jobs:list")},
        {"title": "Training", "text": "Launch and watch RAM training runs", "url": reverse("training:run-list")},
        {"title": "Checkpoints", "text": "Registry, evaluation, comparison, open-set tags",
         "url": reverse("training:checkpoint-list")},
        {"title": "Data engine", "text": "Generation and cleaning runs over dataset versions",
         "url": reverse("engine:run-list")},
        {"title": "Review", "text": "Audit flagged tags; apply decisions as a new version",
         "url": reverse("review:home")},
        {"title": "API", "text": "OpenAPI docs", "url": reverse("api-docs")},
    ]
    return render(request, "home.html", {"cards": cards, "recent_jobs": selectors.job_list()[:10]})


@login_required
@permission_required("jobs.view_job", raise_exception=True)
def job_list(request: HttpRequest) -> HttpResponse:
    kind, state = request.GET.get("kind") or None, request.GET.get("state") or None
    jobs = selectors.job_list(kind=kind, state=state)[:200]
    return render(request, "jobs/list.html", {
        "jobs": jobs, "kinds": all_kinds(), "states": JobState.values,
        "filter_kind": kind, "filter_state": state,
    })


def _detail_context(job: Job) -> dict:
    return {
        "job": job,
        "log_lines": selectors.job_log_tail(job=job),
        "params_json": json.dumps(job.params, sort_keys=True),
        "result_json": json.dumps(job.result, indent=2, sort_keys=True),
    }


@login_required
@permission_required("jobs.view_job", raise_exception=True)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "jobs/detail.html", _detail_context(get_object_or_404(Job, pk=pk)))


@login_required
@permission_required("jobs.view_job", raise_exception=True)
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "jobs/_progress.html", _detail_context(get_object_or_404(Job, pk=pk)))


@login_required
@permission_required("jobs.add_job", raise_exception=True)
def job_launch(request: HttpRequest) -> HttpResponse:
    """Pick a kind, then fill in the form generated from its parameter serializer (or JSON for others)."""
    name = request.GET.get("kind") or request.POST.get("kind")
    kind = next((k for k in all_kinds() if k.name == name), None)
    form_class = params_form_class(kind) if kind is not None else None
    if form_class is None or "params" in request.POST:  # the JSON form (kinds without a serializer)
        return _launch_json(request, kind)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.job_launch(kind=kind.name, params=form.params(), user=request.user)
        except ValidationError as exc:
            form.add_kind_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        else:
            return redirect("jobs:detail", pk=job.pk)
    return render(request, "jobs/launch.html", {"form": form, "kind": kind, "kinds": all_kinds()},
                  status=400 if request.method == "POST" else 200)


def _launch_json(request: HttpRequest, kind: JobKind | None) -> HttpResponse:
    form = JobLaunchForm(request.POST or None, initial={"kind": kind.name if kind else None})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.job_launch(kind=form.cleaned_data["kind"], params=form.cleaned_data["params"],
                                      user=request.user)
        except ValidationError as exc:
            form.add_error("params", exc)
        else:
            return redirect("jobs:detail", pk=job.pk)
    return render(request, "jobs/launch.html", {"form": form, "kind": kind, "kinds": all_kinds(), "raw": True})


@require_POST
@login_required
@permission_required("jobs.cancel_job", raise_exception=True)
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.job_cancel, "Cancel requested.")


@require_POST
@login_required
@permission_required("jobs.cancel_job", raise_exception=True)
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.job_retry, "Job queued again.")


def _act(request: HttpRequest, pk: int, service, done_message: str) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk)
    try:
        service(job=job)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, done_message)
    back = request.POST.get("next", "")  # pages that embed the buttons (a training run) send their own URL
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return redirect(back)
    return redirect("jobs:detail", pk=pk)
