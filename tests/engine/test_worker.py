"""Engine jobs through a real Celery worker process: a generation run and a cleaning run end to end."""

from __future__ import annotations

import json

import pytest

from apps.datasets import selectors as dataset_selectors
from apps.datasets.models import Caption, TagAssignment
from apps.engine.models import EngineRun, Flag
from apps.engine.services import engine_cleaning_launch, engine_generation_launch
from apps.jobs.models import Job, JobState
from apps.training.services import checkpoint_register
from tests.engine.synthetic import shapes_version
from tests.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_terminal(job_id: int, timeout: float = 240) -> Job:
    return wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_terminal and j, timeout=timeout,
                    message=f"job {job_id} to end")


def test_a_generation_run_writes_its_sealed_child_and_report(celery_worker_process, engine_params, shapes, tmp_path):
    (tmp_path / "captions.jsonl").write_text(json.dumps({"image": "img/000003.png",
                                                         "caption": "two red circles above a blue square"}))
    run = engine_generation_launch(params={**engine_params, "default_threshold": 0.55, "shard_size": 5,
                                           "captions_file": str(tmp_path / "captions.jsonl")})

    job = _wait_terminal(run.job_id)

    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.queue, job.progress_done, job.progress_total) == ("gpu", 12, 12)
    run = EngineRun.objects.get(pk=run.pk)
    child = run.output_version
    assert child.sealed and child.parent_id == shapes.version.pk
    assert run.report["total"]["after"] == dataset_selectors.version_assignments(version=child).count()
    caption = Caption.objects.get(dataset_id=child.dataset_id, added_in_seq=child.seq)
    parsed = TagAssignment.objects.filter(caption=caption).values_list("tag_group__tags__text", flat=True)
    assert set(parsed) == {"red", "circle", "blue", "square"} and caption.source == "generated"


def test_a_cleaning_run_computes_features_then_clusters_them(celery_worker_process, engine_dirs, tiny_model_file):
    shapes = shapes_version(engine_dirs / "images", images=40, seed=1)  # categories of 10+ regions get clustered
    checkpoint = checkpoint_register(path=tiny_model_file, variant="ram", size="tiny",
                                     label_system_version=shapes.version.label_system_version)
    run = engine_cleaning_launch(params={"dataset_version": shapes.version.pk, "checkpoint": checkpoint.pk,
                                         "fraction": 0.25, "default_threshold": 0.5, "shard_size": 16})
    features = _wait_terminal(run.job_id)
    assert features.state == JobState.SUCCEEDED, features.error

    cluster = _wait_terminal(features.result["cluster_job"])

    assert cluster.state == JobState.SUCCEEDED, cluster.error
    assert cluster.queue == "cpu" and cluster.progress_done == cluster.progress_total
    run = EngineRun.objects.get(pk=run.pk)
    assert run.job_id == cluster.pk
    flags = Flag.objects.filter(run=run)
    assert flags.filter(by_cluster=True).count() == cluster.result["flags"] > 0
    assert flags.filter(by_rejection=True).count() == features.result["rejected"]
