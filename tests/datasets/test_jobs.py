"""Import and export run as jobs on a real worker process (the same services the commands use)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings

from apps.datasets.models import DatasetVersion, Snapshot
from apps.jobs import services
from apps.jobs.models import Job, JobState
from tests.helpers import wait_for


def _wait_terminal(job_id: int) -> Job:
    return wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_terminal and j, timeout=60,
                    message=f"job {job_id} to end")


def test_worker_tasks_exist_for_the_dataset_job_kinds():
    from workers import tasks

    assert tasks.import_dataset.name == "cpu.import_dataset"
    assert tasks.export_snapshot.name == "cpu.export_snapshot"
    assert tasks.parse_version.name == "cpu.parse_version"
    assert tasks.measure_images.name == "cpu.measure_images"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_import_and_export_jobs_run_on_a_worker(celery_worker_process, tmp_path):
    root = settings.LABELHUB_IMAGE_ROOTS[0] / f"pytest-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    source = tmp_path / "a.jsonl"
    source.write_text("".join(json.dumps({"image": f"{i}.jpg", "caption": f"c {i}"}) + "\n" for i in range(5)))
    job = services.job_launch(kind="import_dataset", params={
        "dataset_name": root.name, "format": "jsonl", "paths": [str(source)], "image_root": str(root),
        "shard_size": 2})
    job = _wait_terminal(job.pk)
    assert job.state == JobState.SUCCEEDED, job.error
    version = DatasetVersion.objects.get(pk=job.result["version_id"])
    assert version.job_id == job.pk and version.counts["captions"] == 5 and job.progress_done == 5

    export = services.job_launch(kind="export_snapshot", params={
        "version_id": version.pk, "format": "jsonl", "out": str(tmp_path / "snap")})
    export = _wait_terminal(export.pk)
    assert export.state == JobState.SUCCEEDED, export.error
    assert Snapshot.objects.get(job=export).manifest["counts"]["records"] == 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_parse_job_on_a_worker_parses_on_its_own_process_pool(celery_worker_process, tmp_path):
    from apps.datasets.models import AssignmentSource, TagAssignment
    from tests.datasets.factories import label_system_version_with_tags

    lsv = label_system_version_with_tags(["dog", "cat", "grass"])
    root = settings.LABELHUB_IMAGE_ROOTS[0] / f"pytest-{uuid.uuid4().hex[:8]}"
    root.mkdir(parents=True)
    source = tmp_path / "a.jsonl"
    captions = ["a dog on the grass", "two cats", "a dog and a cat"] * 4
    source.write_text("".join(json.dumps({"image": f"{i}.jpg", "caption": c}) + "\n" for i, c in enumerate(captions)))
    imported = _wait_terminal(services.job_launch(kind="import_dataset", params={
        "dataset_name": root.name, "format": "jsonl", "paths": [str(source)], "image_root": str(root),
        "label_system_version_id": lsv.pk}).pk)
    assert imported.state == JobState.SUCCEEDED, imported.error

    job = _wait_terminal(services.job_launch(kind="parse_version", params={
        "version_id": imported.result["version_id"], "workers": 2, "shard_size": 5}).pk)

    assert job.state == JobState.SUCCEEDED, job.error
    child = DatasetVersion.objects.get(pk=job.result["version_id"])
    parsed = TagAssignment.objects.filter(dataset_id=child.dataset_id, added_in_seq=child.seq,
                                          source=AssignmentSource.PARSED)
    assert parsed.count() == 4 * (2 + 1 + 2)  # dog+grass, cat, dog+cat per group of three captions
