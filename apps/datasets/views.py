"""Pages: datasets, a dataset's version line (counts, lineage), a version (frequency, phrases, diff, snapshots)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import Dataset, DatasetVersion


@login_required
@permission_required("datasets.view_dataset", raise_exception=True)
def dataset_list(request: HttpRequest) -> HttpResponse:
    return render(request, "datasets/list.html", {"datasets": selectors.dataset_list()})


@login_required
@permission_required("datasets.view_datasetversion", raise_exception=True)
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk)
    versions = [(v, selectors.dataset_version_counts(version=v))
                for v in selectors.dataset_version_list(dataset=dataset).order_by("-seq")]
    return render(request, "datasets/detail.html", {"dataset": dataset, "versions": versions})


@login_required
@permission_required("datasets.view_datasetversion", raise_exception=True)
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(DatasetVersion.objects.select_related("dataset", "parent", "job"), pk=pk)
    other = request.GET.get("diff")
    diff, diff_error = None, ""
    compare = version.parent
    if other and other.isdigit():
        compare = DatasetVersion.objects.filter(pk=int(other)).first()
    if compare is not None:
        try:
            diff = selectors.version_diff(base=compare, other=version)
        except ValidationError as exc:
            diff_error = "; ".join(exc.messages)
    return render(request, "datasets/version.html", {
        "version": version,
        "counts": selectors.dataset_version_counts(version=version),
        "lineage": selectors.dataset_version_lineage(version=version),
        "frequency": selectors.version_tag_frequency(version=version, limit=50),
        "phrases": selectors.version_phrase_frequency(version=version, unmapped_only=True, limit=50),
        "snapshots": version.snapshots.all()[:20],
        "compare": compare, "diff": diff, "diff_error": diff_error,
    })
