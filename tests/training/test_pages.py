"""Training pages (Django test client): launch form, live run page with curves, evaluation tables, compare."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_create
from apps.jobs.models import Job
from apps.training.models import TrainingRun

from .factories import make_checkpoint, make_eval, make_run

pytestmark = pytest.mark.django_db

METRICS = [
    {"kind": "train", "step": 1, "lr": 1e-3, "loss": 3.0, "loss_tag": 2.0, "loss_t2t": 1.0, "images_per_s": 20.0},
    {"kind": "train", "step": 2, "lr": 5e-4, "loss": 2.5, "loss_tag": 1.6, "loss_t2t": 0.9, "images_per_s": 22.0},
    {"kind": "eval", "step": 2, "mAP": 0.41, "CF1": 0.3, "OF1": 0.35},
    {"kind": "train", "step": 3, "lr": 1e-4, "loss": 2.1, "loss_tag": 1.3, "loss_t2t": 0.8, "images_per_s": 21.0},
    {"kind": "eval", "step": 3, "mAP": 0.52, "CF1": 0.4, "OF1": 0.45},
]


@pytest.fixture
def trainer_client(db) -> Client:
    client = Client()
    client.force_login(user_create(username="tina", password="pw-12345678", roles=["trainer"]))
    return client


@pytest.fixture
def viewer_client(db) -> Client:
    client = Client()
    client.force_login(user_create(username="vic", password="pw-12345678", roles=["viewer"]))
    return client


def test_launch_form_creates_a_run_and_its_train_job(trainer_client, demo):
    response = trainer_client.post(reverse("training:run-launch"), {
        "dataset_version": demo.train.pk, "label_system_version": demo.label_system_version.pk, "mode": "finetune",
        "variant": "ram", "size": "tiny", "config": '{"max_steps": 5}'})

    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("training:run-detail", args=[run.pk])
    assert run.job.kind == "train" and run.job.queue == "gpu" and run.job.params["config"] == {"max_steps": 5}
    assert run.model_name == "ram_tiny"


def test_launch_form_shows_an_invalid_config_next_to_the_field(trainer_client, demo):
    response = trainer_client.post(reverse("training:run-launch"), {
        "dataset_version": demo.train.pk, "label_system_version": demo.label_system_version.pk, "mode": "finetune",
        "variant": "ram", "size": "tiny", "config": "[1, 2]"})

    assert response.status_code == 200
    assert "config must be a JSON object" in response.content.decode()
    assert not Job.objects.filter(kind="train").exists()


def test_viewer_cannot_open_the_launch_form(viewer_client):
    assert viewer_client.get(reverse("training:run-launch")).status_code == 403


def test_run_page_plots_loss_lr_throughput_and_the_map_curve_from_the_metrics_file(viewer_client, train_params):
    run = make_run(train_params, METRICS)

    html = viewer_client.get(reverse("training:run-detail", args=[run.pk])).content.decode()

    for key in ("loss", "lr", "throughput", "map"):
        assert f'data-chart="{key}"' in html
    map_chart = html[html.index('data-chart="map"'):]
    map_chart = map_chart[:map_chart.index("</svg>")]
    assert map_chart.count("<circle") == 6  # two evaluations × (mAP, CF1, OF1)
    assert 'data-series="mAP"' in map_chart and "0.52" in map_chart
    assert 'data-series="loss_tag"' in html


def test_run_page_polls_while_the_job_runs_and_stops_when_it_ends(viewer_client, train_params):
    run = make_run(train_params, [])
    live = reverse("training:run-live", args=[run.pk])

    assert f'hx-get="{live}"' in viewer_client.get(reverse("training:run-detail", args=[run.pk])).content.decode()
    Job.objects.filter(pk=run.job_id).update(state="succeeded")
    assert f'hx-get="{live}"' not in viewer_client.get(live).content.decode()


def test_evaluation_table_is_sorted_by_ap_and_searchable(viewer_client, tmp_path):
    result = make_eval(make_checkpoint(tmp_path), {"dog": 0.9, "cat": 0.2, "hot dog": 0.5, "zebra": None})
    url = reverse("training:eval-detail", args=[result.pk])

    by_ap = viewer_client.get(url, {"sort": "ap", "order": "desc"}).content.decode()
    searched = viewer_client.get(url, {"q": "dog", "sort": "tag", "order": "asc"}, HTTP_HX_REQUEST="true")

    positions = [by_ap.index(f'data-tag="{t}"') for t in ("dog", "hot dog", "cat", "zebra")]
    assert positions == sorted(positions)  # highest AP first, the tag without a positive image last
    body = searched.content.decode()
    assert body.lstrip().startswith('<div id="ap-table"')
    assert 'data-tag="dog"' in body and 'data-tag="hot dog"' in body and 'data-tag="cat"' not in body


def test_evaluation_exports_as_csv_and_json(viewer_client, tmp_path):
    result = make_eval(make_checkpoint(tmp_path), {"dog": 0.9, "cat": None}, CF1=0.7)
    url = reverse("training:eval-detail", args=[result.pk])

    rows = list(csv.reader(io.StringIO(viewer_client.get(url, {"format": "csv"}).content.decode())))
    data = viewer_client.get(url, {"format": "json"}).json()

    assert rows == [["tag", "ap"], ["dog", "0.9"], ["cat", ""]]
    assert data["per_tag_ap"] == {"dog": 0.9, "cat": None} and data["CF1"] == 0.7 and data["mAP"] == 0.5


def test_compare_shows_the_ap_difference_of_two_checkpoints_tag_by_tag(viewer_client, tmp_path):
    a = make_eval(make_checkpoint(tmp_path, "a.pth"), {"dog": 0.5, "cat": 0.4})
    b = make_eval(make_checkpoint(tmp_path, "b.pth"), {"dog": 0.75, "cat": 0.1, "bird": 0.3})

    data = viewer_client.get(reverse("training:compare"), {"a": a.pk, "b": b.pk, "format": "json"}).json()
    html = viewer_client.get(reverse("training:compare"), {"a": a.pk, "b": b.pk}).content.decode()

    assert data["tags"][0] == {"tag": "dog", "ap_a": 0.5, "ap_b": 0.75, "delta": 0.25}
    assert data["tags"][-1] == {"tag": "bird", "ap_a": None, "ap_b": 0.3, "delta": None}
    assert html.index('data-tag="dog"') < html.index('data-tag="cat"')


def test_register_form_refuses_a_missing_file(trainer_client, tmp_path):
    response = trainer_client.post(reverse("training:checkpoint-register"), {
        "path": str(tmp_path / "nope.pth"), "variant": "ram", "size": "swin_l_384"})

    assert "no checkpoint file at" in response.content.decode()


def test_evaluate_form_queues_an_evaluate_job_for_the_checkpoint(trainer_client, tmp_path, demo):
    checkpoint = make_checkpoint(tmp_path)

    response = trainer_client.post(reverse("training:checkpoint-evaluate", args=[checkpoint.pk]),
                                   {"dataset_version": demo.heldout.pk, "threshold": "0.5"})

    job = Job.objects.get(kind="evaluate")
    assert response.status_code == 302
    assert job.params["checkpoint"] == checkpoint.pk and job.params["dataset_version"] == demo.heldout.pk


def test_compare_table_sort_links_keep_the_two_evaluations(viewer_client, tmp_path):
    a = make_eval(make_checkpoint(tmp_path, "a.pth"), {"dog": 0.5})
    b = make_eval(make_checkpoint(tmp_path, "b.pth"), {"dog": 0.25})

    html = viewer_client.get(reverse("training:compare"), {"a": a.pk, "b": b.pk}).content.decode()

    assert f'href="?a={a.pk}&amp;b={b.pk}&amp;q=&amp;sort=tag&amp;order=asc"' in html


def test_cancel_from_the_run_page_returns_to_the_run_page(trainer_client, train_params):
    run = make_run(train_params, [])
    page = reverse("training:run-detail", args=[run.pk])

    response = trainer_client.post(reverse("jobs:cancel", args=[run.job_id]), {"next": page})
    outside = trainer_client.post(reverse("jobs:retry", args=[run.job_id]), {"next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == page
    assert Job.objects.get(pk=run.job_id).state == "queued"  # cancelled while queued, then queued again
    assert outside["Location"] == reverse("jobs:detail", args=[run.job_id])
