"""The engine API: launch runs of both kinds, read reports and flag counts, list flags with filters."""

from __future__ import annotations

import pytest

from apps.engine.models import EngineRun, Flag
from apps.engine.services import engine_cleaning_launch, engine_generation_launch
from apps.jobs.models import Job
from tests.engine.factories import flagged_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(api_client_for):
    return api_client_for("curator")


@pytest.mark.parametrize("kind, job_kind", [("generation", "engine_generate"), ("cleaning", "engine_features")])
def test_a_curator_launches_a_run_of_either_kind(curator, params, kind, job_kind):
    response = curator.post("/api/engine-runs/", {"kind": kind, **params, "name": "api run"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["name"], body["state"]) == (kind, "api run", "queued")
    assert Job.objects.get(pk=body["job"]).kind == job_kind


def test_bad_parameters_answer_400_naming_the_field(curator, params):
    response = curator.post("/api/engine-runs/", {"kind": "cleaning", **params, "checkpoint": 999999}, format="json")

    assert response.status_code == 400
    assert "no checkpoint with id 999999" in response.json()["checkpoint"][0]
    assert not EngineRun.objects.exists()


def test_an_unknown_kind_answers_400(curator, params):
    response = curator.post("/api/engine-runs/", {"kind": "painting", **params}, format="json")

    assert response.status_code == 400 and "kind" in response.json()


def test_runs_are_listed_with_their_jobs_state_and_filtered_by_kind(api_client_for, params):
    engine_generation_launch(params=params)
    cleaning = engine_cleaning_launch(params=params)

    response = api_client_for("viewer").get("/api/engine-runs/", {"kind": "cleaning"})

    assert [r["id"] for r in response.json()["results"]] == [cleaning.pk]
    assert response.json()["results"][0]["state"] == "queued"


def test_the_report_of_a_generation_run(api_client_for, params):
    run = engine_generation_launch(params=params)
    EngineRun.objects.filter(pk=run.pk).update(report={
        "jobs": {"generate": run.job_id}, "total": {"before": 8, "after": 10, "added": 2, "growth": 1.25},
        "per_source": {"generated": {"before": 0, "after": 2}},
        "per_tag": [{"tag_group": 1, "index": 0, "tag": "dog", "before": 4, "after": 6, "added": {"generated": 2}}]})

    body = api_client_for("viewer").get(f"/api/engine-runs/{run.pk}/report/").json()

    assert body["kind"] == "generation" and body["report"]["total"]["after"] == 10
    assert body["report"]["per_tag"][0]["added"] == {"generated": 2} and "jobs" not in body["report"]


def test_flag_counts_of_a_cleaning_run(api_client_for, tagged):
    run = flagged_run(tagged, every=2)

    body = api_client_for("reviewer").get(f"/api/engine-runs/{run.pk}/flag-counts/").json()

    assert body["total"] == 4 and body["by_reason"]["cluster_outlier"] == 4 and body["by_status"]["open"] == 4
    assert sum(row["total"] for row in body["per_category"]) == 4


@pytest.mark.parametrize("query, expected", [
    ({"reason": "cluster_outlier"}, 8),
    ({"reason": "baseline_rejection"}, 2),
    ({"status": "accepted"}, 1),
    ({"cluster": 1}, 4),
    ({"tag_group": "dog"}, 4),
])
def test_flags_are_filtered_by_run_status_reason_cluster_and_tag_group(api_client_for, tagged, query, expected):
    run = flagged_run(tagged, clusters=2)
    flagged_run(tagged)  # another run's flags stay out
    first, second = Flag.objects.filter(run=run)[:2]
    Flag.objects.filter(pk__in=[first.pk, second.pk]).update(by_rejection=True)
    Flag.objects.filter(pk=first.pk).update(status="accepted")
    query = {k: tagged.groups[v].pk if k == "tag_group" else v for k, v in query.items()}

    response = api_client_for("viewer").get("/api/engine-flags/", {"run": run.pk, **query})

    assert response.status_code == 200 and response.json()["count"] == expected


def test_a_flag_carries_its_evidence(api_client_for, tagged):
    run = flagged_run(tagged)
    flag = Flag.objects.filter(run=run).order_by("id").first()

    body = api_client_for("viewer").get(f"/api/engine-flags/{flag.pk}/").json()

    assert body["reasons"] == ["cluster_outlier"] and body["tag"] == "dog"
    assert (body["box"], body["cluster"], body["distance"], body["score"]) == ([4, 4, 20, 16], 0, 0.5, 0.3)
    assert body["image_uri"] == "img/000000.jpg" and body["source"] == "parsed"


def test_clustering_again_by_hand_queues_a_cpu_job(curator, params):
    run = engine_cleaning_launch(params=params)

    response = curator.post(f"/api/engine-runs/{run.pk}/cluster/", {"fraction": 0.05, "fast": True}, format="json")

    assert response.status_code == 201
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.queue, job.params["run"], job.params["fraction"]) == ("engine_cluster", "cpu", run.pk, 0.05)


def test_a_generation_run_is_not_clustered(curator, params):
    run = engine_generation_launch(params=params)

    response = curator.post(f"/api/engine-runs/{run.pk}/cluster/", {}, format="json")

    assert response.status_code == 400 and "only cleaning runs" in response.json()["run"][0]
