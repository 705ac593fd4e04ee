"""The training API: launch runs, read curves, register checkpoints, queue evaluations, compare results."""

from __future__ import annotations

import pytest

from apps.jobs.models import Job
from apps.training.models import Checkpoint, TrainingRun

from .factories import make_checkpoint, make_eval, make_run

pytestmark = pytest.mark.django_db


def test_trainer_launches_a_training_run_through_the_api(api_client_for, train_params):
    response = api_client_for("trainer").post("/api/training-runs/", train_params, format="json")

    assert response.status_code == 201, response.json()
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert response.json()["state"] == "queued" and run.job.kind == "train"


def test_launch_with_an_open_dataset_version_is_refused_with_the_reason(api_client_for, train_params, demo):
    from apps.datasets.services.versions import dataset_version_create_child

    open_version = dataset_version_create_child(parent=demo.train)

    response = api_client_for("trainer").post("/api/training-runs/", {**train_params,
                                              "dataset_version": open_version.pk}, format="json")

    assert response.status_code == 400
    assert "seal it before using it" in response.json()["dataset_version"][0]


def test_run_metrics_endpoint_returns_the_logged_records(api_client_for, train_params):
    run = make_run(train_params, [{"kind": "train", "step": 1, "loss": 2.0}, {"kind": "eval", "step": 1, "mAP": 0.3}])

    data = api_client_for("viewer").get(f"/api/training-runs/{run.pk}/metrics/").json()

    assert data["train"][0]["loss"] == 2.0 and data["eval"][0]["mAP"] == 0.3


def test_register_an_existing_checkpoint_file_by_path(api_client_for, tmp_path):
    (tmp_path / "ram_swin_large_14m.pth").write_bytes(b"weights")

    response = api_client_for("trainer").post("/api/checkpoints/", {
        "path": str(tmp_path / "ram_swin_large_14m.pth"), "variant": "ram", "size": "swin_l_384"}, format="json")

    assert response.status_code == 201
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.source == "registered" and checkpoint.model_name == "ram_swin_l_384"


def test_evaluate_endpoint_queues_a_job_and_rejects_a_missing_benchmark(api_client_for, tmp_path, demo):
    checkpoint = make_checkpoint(tmp_path)
    client = api_client_for("trainer")

    ok = client.post(f"/api/checkpoints/{checkpoint.pk}/evaluate/", {"dataset_version": demo.heldout.pk},
                     format="json")
    bad = client.post(f"/api/checkpoints/{checkpoint.pk}/evaluate/", {"annotations": "/nope.jsonl"}, format="json")

    assert ok.status_code == 201 and Job.objects.get(pk=ok.json()["id"]).kind == "evaluate"
    assert bad.status_code == 400 and "no such file" in str(bad.json())


def test_extend_endpoint_needs_a_clip_checkpoint(api_client_for, tmp_path, demo):
    checkpoint = make_checkpoint(tmp_path)

    response = api_client_for("trainer").post(f"/api/checkpoints/{checkpoint.pk}/extend/",
                                              {"label_system_version": demo.label_system_version.pk}, format="json")

    assert response.status_code == 400
    assert "CLIP checkpoint" in str(response.json()["clip_checkpoint"])


def test_compare_endpoint_lists_the_ap_delta_per_tag(api_client_for, tmp_path):
    a = make_eval(make_checkpoint(tmp_path, "a.pth"), {"dog": 0.5})
    b = make_eval(make_checkpoint(tmp_path, "b.pth"), {"dog": 0.25})

    rows = api_client_for("viewer").get("/api/eval-results/compare/", {"a": a.pk, "b": b.pk}).json()

    assert rows == [{"tag": "dog", "ap_a": 0.5, "ap_b": 0.25, "delta": -0.25}]
