"""Pages for jobs: list with filters, detail with live progress (htmx), launch, cancel, retry."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import JobLaunchForm
from .kinds import all_kinds
from .models import Job, JobState


@login_required
def home(request: HttpRequest) -> HttpResponse:
    cards = [
        {"title": "Label systems", "text": "Tags, synonym groups, versions", "url": reverse("admin:index")},
        {"title": "Jobs", "text": "Parsing, training, export…", "url": reverse("jobs:list")},
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
    form = JobLaunchForm(request.POST or None, initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        try:
            job = services.job_launch(kind=form.cleaned_data["kind"], params=form.cleaned_data["params"],
                                      user=request.user)
        except ValidationError as exc:
            form.add_error("params", exc)
        else:
            return redirect("jobs:detail", pk=job.pk)
    return render(request, "jobs/launch.html", {"form": form, "kinds": all_kinds()})


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
    return redirect("jobs:detail", pk=pk)
