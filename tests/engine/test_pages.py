"""Engine pages (Django test client): run list, launch forms, run detail with report and flag counts, admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_create
from apps.engine.models import EngineRun
from apps.engine.services import engine_cleaning_launch, engine_generation_launch
from apps.jobs.models import Job
from tests.engine.factories import flagged_run

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    client = Client()
    client.force_login(user_create(username=f"u-{role}", password="pw-12345678", roles=[role]))
    return client


def test_the_run_list_shows_runs_with_their_state(params):
    run = engine_cleaning_launch(params={**params, "name": "spring cleaning"})

    body = _client("viewer").get(reverse("engine:run-list")).content.decode()

    assert "spring cleaning" in body and reverse("engine:run-detail", args=[run.pk]) in body and "queued" in body
    assert reverse("engine:generation-launch") not in body  # a viewer cannot launch


def test_the_nav_links_to_the_engine(params):
    body = _client("viewer").get(reverse("engine:run-list")).content.decode()

    assert f'href="{reverse("engine:run-list")}"' in body


@pytest.mark.parametrize("name, kind, job_kind", [("engine:generation-launch", "generation", "engine_generate"),
                                                  ("engine:cleaning-launch", "cleaning", "engine_features")])
def test_a_launch_form_creates_the_run_and_queues_its_job(params, name, kind, job_kind):
    client = _client("curator")
    assert client.get(reverse(name)).status_code == 200

    response = client.post(reverse(name), {"dataset_version": params["dataset_version"],
                                           "checkpoint": params["checkpoint"], "default_threshold": "0.6",
                                           "batch_size": "8", "shard_size": "100", "thresholds": "{}"})

    run = EngineRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("engine:run-detail", args=[run.pk])
    assert (run.kind, run.job.kind, run.params["default_threshold"]) == (kind, job_kind, 0.6)


def test_a_launch_form_shows_the_kinds_error_next_to_its_field(params, tagged):
    response = _client("curator").post(reverse("engine:cleaning-launch"), {
        "dataset_version": params["dataset_version"], "checkpoint": params["checkpoint"], "default_threshold": "0.6",
        "batch_size": "8", "shard_size": "100", "thresholds": '{"unicorn": 0.5}'})

    assert response.status_code == 400
    assert 'data-error-for="thresholds"' in response.content.decode() and not Job.objects.exists()


def test_launch_forms_are_for_curators(params):
    assert _client("trainer").get(reverse("engine:cleaning-launch")).status_code == 403


def test_a_generation_run_page_shows_the_report_per_tag_and_source(params):
    run = engine_generation_launch(params=params)
    EngineRun.objects.filter(pk=run.pk).update(report={
        "total": {"before": 8, "after": 11, "added": 3, "growth": 1.375},
        "per_source": {"generated": {"before": 0, "after": 3}, "parsed": {"before": 8, "after": 8}},
        "per_tag": [{"tag_group": 1, "index": 3, "tag": "play", "before": 0, "after": 3, "added": {"generated": 3}}],
        "images": {"total": 4, "tagged": 4, "unreadable": 0},
        "captions": {"source": "none", "added": 0, "parsed_assignments": 0}})

    body = _client("viewer").get(reverse("engine:run-detail", args=[run.pk])).content.decode()

    assert "8 → 11" in body and "<td>play</td><td>0</td><td>3</td>" in body and "generated +3" in body
    assert reverse("jobs:detail", args=[run.job_id]) in body
    assert 'hx-get="' + reverse("engine:run-live", args=[run.pk]) in body  # refreshed while the job is queued


def test_a_cleaning_run_page_shows_flag_counts_per_category_linking_to_the_review_queue(tagged):
    run = flagged_run(tagged, every=2)

    body = _client("viewer").get(reverse("engine:run-detail", args=[run.pk])).content.decode()

    assert "4 flags" in body
    assert reverse("review:queue", args=[run.pk, tagged.groups["dog"].pk]) in body
    assert reverse("review:run", args=[run.pk]) in body


def test_the_live_part_is_the_run_state_alone(params):
    run = engine_cleaning_launch(params=params)

    response = _client("viewer").get(reverse("engine:run-live", args=[run.pk]))

    assert response.status_code == 200 and response.content.decode().startswith('<div id="run-live"')


def test_clustering_again_from_the_run_page_queues_a_job(params):
    run = engine_cleaning_launch(params=params)

    response = _client("curator").post(reverse("engine:run-cluster", args=[run.pk]), {"fraction": "0.2"})

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.job.kind == "engine_cluster" and run.job.params["fraction"] == 0.2


def test_the_admin_lists_runs_and_flags_read_only(tagged, admin_user):
    run = flagged_run(tagged)
    client = Client()
    client.force_login(admin_user)

    assert client.get(reverse("admin:engine_enginerun_changelist")).status_code == 200
    assert client.get(reverse("admin:engine_flag_changelist")).status_code == 200
    assert client.get(reverse("admin:engine_enginerun_change", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:engine_flag_add")).status_code == 403
