"""Review pages: runs to review, a run's home (categories, my batches, progress), the queue (keyboard-driven
card list), the management page (reviewers, batches, agreement, apply) and the images they show.

Who sees what: every role that reads reviews sees the run pages and progress; only reviewers assigned to a run
(RunReviewer) see its queue and decide (others: 403 without the reviewer role, 404 when not assigned);
curators manage. Images: anyone who may view datasets.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.datasets.models import Image
from apps.engine.models import EngineRun, Flag
from apps.labels.models import TagGroup

from . import selectors, thumbnails
from .forms import ApplyForm, BatchForm, BulkForm, DecisionForm, ReviewerAddForm
from .models import ReviewTask
from .services import apply as apply_services
from .services import decisions, work

VIEW = "review.view_reviewtask"
REVIEW = "review.review_flags"
MANAGE = "review.manage_reviews"
IMAGES = "datasets.view_dataset"
QUEUE_PAGE = 12


def _run(pk: int) -> EngineRun:
    return get_object_or_404(selectors.review_run_list(), pk=pk)


def _reviewer_run(request: HttpRequest, pk: int) -> EngineRun:
    """The run, when the user is assigned to review it (404 otherwise: its queue is not theirs to see)."""
    run = _run(pk)
    if not selectors.run_is_reviewer(run_id=run.pk, user=request.user):
        raise Http404("you are not assigned to review this run")
    return run


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _box(flag: Flag) -> dict[str, float] | None:
    box = flag.box
    if not isinstance(box, list | tuple) or len(box) != 4:
        return None
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        return None
    return {"x": x, "y": y, "w": w, "h": h, "param": f"{x:g},{y:g},{w:g},{h:g}"} if w > 0 and h > 0 else None


def _decorate(task: ReviewTask, names: dict[int, str]) -> ReviewTask:
    """Attributes the card template reads (names resolved once per page, box validated)."""
    flag = task.flag
    task.tag_name = names.get(task.tag_group_id, f"#{task.tag_group_id}")
    task.new_tag_name = names.get(task.new_tag_group_id, "") if task.new_tag_group_id else ""
    task.box = _box(flag)
    image = flag.image
    task.overlay = bool(task.box and image.width and image.height)
    return task


def _queue_url(run_id: int, tag_group_id: int, query: dict[str, Any] | None = None, anchor: str = "") -> str:
    url = reverse("review:queue", args=[run_id, tag_group_id])
    return url + (f"?{urlencode(query)}" if query else "") + (f"#{anchor}" if anchor else "")


# --- runs ---------------------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def home(request: HttpRequest) -> HttpResponse:
    runs = list(selectors.review_run_list()[:200])
    mine = selectors.reviewer_run_ids(user=request.user)
    for run in runs:
        run.assigned = run.pk in mine
    return render(request, "review/home.html", {"runs": runs, "assigned": [r for r in runs if r.assigned]})


@login_required
@permission_required(VIEW, raise_exception=True)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    is_reviewer = request.user.has_perm(REVIEW) and selectors.run_is_reviewer(run_id=run.pk, user=request.user)
    context: dict[str, Any] = {"run": run, "is_reviewer": is_reviewer, "can_manage": request.user.has_perm(MANAGE)}
    if is_reviewer:
        context["categories"] = selectors.reviewer_categories(user=request.user, run=run)
        context["batches"] = selectors.run_batches(run=run, reviewer=request.user)
    return render(request, "review/run.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    return render(request, "review/_progress.html", {"run": run, "progress": selectors.run_progress(run=run)})


# --- the queue ----------------------------------------------------------------------------------------------


@login_required
@permission_required(REVIEW, raise_exception=True)
def queue(request: HttpRequest, pk: int, tag_group_id: int) -> HttpResponse:
    run = _reviewer_run(request, pk)
    category = get_object_or_404(TagGroup, pk=tag_group_id)
    queue_filter = selectors.QueueFilter.from_query(request.GET)
    after, before = _int(request.GET.get("after")), _int(request.GET.get("before"))
    limit = _int(request.GET.get("limit")) or QUEUE_PAGE
    page = selectors.queue_page(user=request.user, run=run, tag_group_id=category.pk, queue_filter=queue_filter,
                                after=after, before=before, limit=limit)
    tasks = [_decorate(t, page.names) for t in page.tasks]
    name = (page.names.get(category.pk)
            or selectors.group_names(ids=[category.pk]).get(category.pk, f"#{category.pk}"))
    query = queue_filter.as_query()
    if limit != QUEUE_PAGE:
        query["limit"] = limit
    data = {
        "run": run.pk, "category": name, "categoryId": category.pk,
        "flags": [{"id": t.flag_id, "tag": t.tag_name, "decision": t.decision} for t in tasks],
        "nextUrl": _queue_url(run.pk, category.pk, {**query, "after": page.last_flag_id}) if page.has_next else "",
        "previousUrl": (_queue_url(run.pk, category.pk, {**query, "before": page.first_flag_id})
                        if page.has_previous and page.first_flag_id else ""),
    }
    return render(request, "review/queue.html", {
        "run": run, "category": category, "category_name": name, "tasks": tasks, "page": page,
        "filter": queue_filter, "query": query, "queue_data": data, "reasons": selectors.REASON_FILTERS,
        "statuses": selectors.STATUS_FILTERS, "next_url": data["nextUrl"], "previous_url": data["previousUrl"],
        "after": after, "before": before, "start_url": _queue_url(run.pk, category.pk, query),
    })


@login_required
@permission_required(REVIEW, raise_exception=True)
def queue_progress(request: HttpRequest, pk: int, tag_group_id: int) -> HttpResponse:
    run = _reviewer_run(request, pk)
    counts = selectors.queue_counts(user=request.user, run=run, tag_group_id=tag_group_id)
    return render(request, "review/_queue_progress.html", {"counts": counts})


def _flag_for_reviewer(request: HttpRequest, flag_id: int) -> Flag:
    flag = get_object_or_404(Flag.objects.select_related("run"), pk=flag_id)
    if not selectors.run_is_reviewer(run_id=flag.run_id, user=request.user):
        raise Http404("you are not assigned to review this run")
    return flag


def _card(request: HttpRequest, flag: Flag, *, error: str = "", status: int = 200) -> HttpResponse:
    task = selectors.queue_task(user=request.user, flag_id=flag.pk)
    if task is None:
        raise Http404("this flag is not in your queue")
    names = selectors.group_names(ids=[task.tag_group_id, task.new_tag_group_id])
    return render(request, "review/_card.html", {"task": _decorate(task, names), "error": error}, status=status)


@login_required
@permission_required(REVIEW, raise_exception=True)
def card(request: HttpRequest, flag_id: int) -> HttpResponse:
    return _card(request, _flag_for_reviewer(request, flag_id))


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_POST
def decide(request: HttpRequest, flag_id: int) -> HttpResponse:
    """Record a decision; answers the updated card (fetch/htmx) or goes back to the queue (plain form)."""
    flag = _flag_for_reviewer(request, flag_id)
    form = DecisionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "choose accept, reject or change"
    else:
        new_id = form.cleaned_data.get("new_tag_group")
        new_tag_group = TagGroup.objects.filter(pk=new_id).first() if new_id else None
        try:
            decisions.review_decide(user=request.user, flag=flag, action=form.cleaned_data["action"],
                                    new_tag_group=new_tag_group)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        except PermissionDenied as exc:
            raise Http404(str(exc)) from exc
    if request.htmx or request.headers.get("X-Requested-With") == "fetch":
        return _card(request, flag, error=error, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(_queue_url(flag.run_id, flag.tag_group_id, {"after": flag.pk - 1}, anchor=f"f{flag.pk}"))


@login_required
@permission_required(REVIEW, raise_exception=True)
def neighbours(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = _flag_for_reviewer(request, flag_id)
    rows = selectors.flag_neighbours(flag=flag)
    for row in rows:
        row.region = _box(row)
    return render(request, "review/_neighbours.html", {"flag": flag, "neighbours": rows})


@login_required
@permission_required(REVIEW, raise_exception=True)
def tag_search(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = _flag_for_reviewer(request, flag_id)
    query = request.GET.get("q", "")[:100]
    results = selectors.tag_search(flag=flag, query=query)
    return render(request, "review/_tag_results.html", {"flag": flag, "results": results, "query": query})


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_POST
def bulk(request: HttpRequest, pk: int, tag_group_id: int) -> HttpResponse:
    run = _reviewer_run(request, pk)
    queue_filter = selectors.QueueFilter.from_query(request.POST)
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "choose accept or reject")
    else:
        result = decisions.review_decide_bulk(user=request.user, run=run, tag_group_id=tag_group_id,
                                              action=form.cleaned_data["action"], queue_filter=queue_filter)
        scope = f"cluster {queue_filter.cluster}" if queue_filter.cluster is not None else "the current filter"
        verb = "accepted" if result.action == "accept" else "rejected"
        messages.success(request, f"{verb} {result.count} flag(s) of {scope}. Press u to undo.")
    query = selectors.QueueFilter(status=queue_filter.status, reason=queue_filter.reason).as_query()
    return redirect(_queue_url(run.pk, tag_group_id, query))


@login_required
@permission_required(REVIEW, raise_exception=True)
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    run = _reviewer_run(request, pk)
    result = decisions.review_undo(user=request.user, run=run)
    queue_filter = selectors.QueueFilter.from_query(request.POST)
    if not result.count:
        messages.info(request, "Nothing to undo.")
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return redirect(target)
        return redirect("review:run", pk=run.pk)
    messages.success(request, f"Undid {result.count} decision(s).")
    first = result.flag_ids[0]
    category = Flag.objects.filter(pk=first).values_list("tag_group_id", flat=True).first()
    query = {**queue_filter.as_query(), "after": first - 1}
    return redirect(_queue_url(run.pk, category, query, anchor=f"f{first}"))


# --- management ---------------------------------------------------------------------------------------------


def _manage_context(run: EngineRun, **forms: Any) -> dict[str, Any]:
    return {
        "run": run,
        "reviewers": selectors.run_reviewers(run=run),
        "reviewer_form": forms.get("reviewer_form") or ReviewerAddForm(run=run),
        "batch_form": forms.get("batch_form") or BatchForm(run=run),
        "apply_form": forms.get("apply_form") or ApplyForm(),
        "batches": selectors.run_batches(run=run),
        "applications": selectors.run_applications(run=run)[:20],
    }


@login_required
@permission_required(MANAGE, raise_exception=True)
def manage(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "review/manage.html", _manage_context(_run(pk)))


@login_required
@permission_required(MANAGE, raise_exception=True)
def agreement(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    return render(request, "review/_agreement.html", {"run": run, "agreement": selectors.run_agreement(run=run)})


def _manage_redirect(run: EngineRun) -> HttpResponse:
    return redirect("review:manage", pk=run.pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def reviewer_add(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    form = ReviewerAddForm(request.POST, run=run)
    if form.is_valid():
        try:
            work.run_reviewer_add(run=run, user=form.cleaned_data["user"], added_by=request.user)
        except ValidationError as exc:
            form.add_error("user", exc)
        else:
            messages.success(request, f"{form.cleaned_data['user'].get_username()} may now review this run.")
            return _manage_redirect(run)
    return render(request, "review/manage.html", _manage_context(run, reviewer_form=form), status=400)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def reviewer_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    run = _run(pk)
    reviewer = get_object_or_404(selectors.run_reviewers(run=run), user_id=user_id)
    released = work.run_reviewer_remove(run=run, user=reviewer.user)
    messages.success(request, f"{reviewer.user.get_username()} no longer reviews this run; "
                              f"{released} pending flag(s) returned to the pool.")
    return _manage_redirect(run)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def batches_create(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    form = BatchForm(request.POST, run=run)
    if form.is_valid():
        try:
            made = work.review_batches_create(run=run, reviewers=list(form.cleaned_data["reviewers"]),
                                              size=form.cleaned_data["size"], overlap=form.cleaned_data["overlap"],
                                              tag_group=form.cleaned_data["tag_group"], user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Made {len(made)} batch(es) of {sum(b.size for b in made)} task(s).")
            return _manage_redirect(run)
    return render(request, "review/manage.html", _manage_context(run, batch_form=form), status=400)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    form = ApplyForm(request.POST)
    if form.is_valid():
        try:
            application = apply_services.review_apply_launch(run=run, unreviewed=form.cleaned_data["unreviewed"],
                                                             user=request.user)
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Applying the review as job #{application.job_id}.")
            return _manage_redirect(run)
    return render(request, "review/manage.html", _manage_context(run, apply_form=form), status=400)


@login_required
@permission_required(VIEW, raise_exception=True)
def applications(request: HttpRequest, pk: int) -> HttpResponse:
    """The applications table (htmx polls it while a job runs)."""
    run = _run(pk)
    return render(request, "review/_applications.html",
                  {"run": run, "applications": selectors.run_applications(run=run)[:20]})


# --- images -------------------------------------------------------------------------------------------------


def _image_file(image_id: int) -> thumbnails.ImageFile:
    image = get_object_or_404(Image.objects.select_related("dataset"), pk=image_id)
    file = thumbnails.image_file(image)
    if file is None:
        raise Http404("no such image file")
    return file


def _not_found_image() -> HttpResponse:
    return HttpResponse(thumbnails.PLACEHOLDER_SVG, status=404, content_type="image/svg+xml")


def _cached(response: HttpResponse, key: str) -> HttpResponse:
    response["ETag"] = f'"{key}"'
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _not_modified(request: HttpRequest, key: str) -> bool:
    tags = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    return f'"{key}"' in tags or f'W/"{key}"' in tags


@login_required
@permission_required(IMAGES, raise_exception=True)
def image_thumb(request: HttpRequest, image_id: int) -> HttpResponse:
    """A cached JPEG thumbnail (``?size=256``; ``&box=x,y,w,h`` crops a region first)."""
    try:
        file = _image_file(image_id)
    except Http404:
        return _not_found_image()
    size = thumbnails.nearest_size(request.GET.get("size"))
    box = thumbnails.parse_box(request.GET.get("box"))
    key = file.key("thumb", size, box)
    if _not_modified(request, key):
        return _cached(HttpResponse(status=304), key)
    found = thumbnails.thumbnail(file, size=size, box=box)
    if found is None:
        return _not_found_image()
    path, key = found
    return _cached(FileResponse(path.open("rb"), content_type="image/jpeg"), key)


@login_required
@permission_required(IMAGES, raise_exception=True)
def image_full(request: HttpRequest, image_id: int) -> HttpResponse:
    try:
        file = _image_file(image_id)
    except Http404:
        return _not_found_image()
    key = file.key("full")
    if _not_modified(request, key):
        return _cached(HttpResponse(status=304), key)
    found = thumbnails.full_image(file)
    if found is None:
        return _not_found_image()
    data, content_type, key = found
    return _cached(HttpResponse(data, content_type=content_type), key)
