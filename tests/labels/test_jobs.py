"""The suggest_merges job kind: validated parameters, and the worker body storing proposals."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.jobs.models import Job
from apps.jobs.services import job_launch
from apps.labels.models import MergeProposal
from workers.base import JobContext
from workers.labels import run_suggest_merges

from .factories import make_version

pytestmark = pytest.mark.django_db


def test_launch_refuses_a_published_version(django_capture_on_commit_callbacks):
    version = make_version(["car"], published=True)

    with pytest.raises(ValidationError, match="is published"):
        job_launch(kind="suggest_merges", params={"version": version.pk})


def test_launch_refuses_an_unknown_reason():
    version = make_version(["car"])

    with pytest.raises(ValidationError):
        job_launch(kind="suggest_merges", params={"version": version.pk, "reasons": ["vibes"]})


def test_launch_queues_on_the_cpu_queue(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("apps.jobs.services.current_app.send_task",
                        lambda name, args, queue: sent.append((name, args, queue)))
    version = make_version(["car"])

    with django_capture_on_commit_callbacks(execute=True):
        job = job_launch(kind="suggest_merges", params={"version": version.pk})

    assert sent == [("cpu.suggest_merges", [job.pk], "cpu")]
    assert job.params["reasons"] == ["synset", "plural", "translation"]


def test_job_body_stores_proposals_and_reports_counts(wordnet, monkeypatch):
    monkeypatch.setattr("apps.jobs.services.current_app.send_task", lambda *a, **k: None)
    version = make_version(["car", "automobile", "dog"])
    job = job_launch(kind="suggest_merges", params={"version": version.pk})

    result = run_suggest_merges(JobContext(Job.objects.get(pk=job.pk)))

    assert result["created"] == 1
    assert MergeProposal.objects.get(version=version).tag_b.text == "automobile"
    assert Job.objects.get(pk=job.pk).progress_done == 1


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_suggest_merges_runs_on_a_real_worker(celery_worker_process, wordnet_dir):
    from apps.jobs.models import JobState
    from tests.helpers import wait_for

    version = make_version(["car", "automobile", "dog"])
    job = job_launch(kind="suggest_merges", params={"version": version.pk})

    job = wait_for(lambda: (j := Job.objects.get(pk=job.pk)).is_terminal and j, timeout=120,
                   message="the suggest_merges job to end")

    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["created"] == 1
    assert MergeProposal.objects.get(version=version).tag_a.text == "car"


def test_job_body_without_wordnet_fails_with_the_install_command(monkeypatch):
    from ram_model.text.wordnet import INSTALL_HINT, WordNetMissingError
    from workers.base import JobParameterError

    def missing():
        raise WordNetMissingError(f"WordNet 3.0 not found. Install it with: {INSTALL_HINT}")

    monkeypatch.setattr("apps.jobs.services.current_app.send_task", lambda *a, **k: None)
    monkeypatch.setattr("workers.labels.wordnet_for_site", missing)
    job = job_launch(kind="suggest_merges", params={"version": make_version(["car"]).pk})

    with pytest.raises(JobParameterError, match="apt-get install wordnet-base"):
        run_suggest_merges(JobContext(Job.objects.get(pk=job.pk)))
