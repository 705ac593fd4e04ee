"""The jobs pages: list filters, a detail page whose progress polls until the job ends, cancel and retry."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_create
from apps.jobs.models import Job, JobState
from apps.jobs.services import job_launch

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_trainer(db) -> Client:
    client = Client()
    client.force_login(user_create(username="tess", password="pw-12345678", roles=["trainer"]))
    return client


def test_job_list_filters_by_kind_and_state(client_trainer):
    queued = job_launch(kind="selfcheck", params={})
    failed = job_launch(kind="selfcheck", params={})
    Job.objects.filter(pk=failed.pk).update(state=JobState.FAILED)

    html = client_trainer.get(reverse("jobs:list"), {"kind": "selfcheck", "state": "failed"}).content.decode()

    assert f'href="{reverse("jobs:detail", args=[failed.pk])}"' in html
    assert f'href="{reverse("jobs:detail", args=[queued.pk])}"' not in html


def test_job_progress_polls_while_running_and_stops_once_ended(client_trainer):
    job = job_launch(kind="selfcheck", params={"steps": 4})
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, progress_done=1, progress_total=4)
    progress = reverse("jobs:progress", args=[job.pk])

    running = client_trainer.get(progress).content.decode()
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, progress_done=4)
    ended = client_trainer.get(progress).content.decode()

    assert 'hx-trigger="every 1s"' in running and 'aria-valuenow="25"' in running
    assert 'data-action="cancel" >' in running and 'data-action="retry" disabled' in running
    assert 'hx-trigger="every 1s"' not in ended and 'aria-valuenow="100"' in ended
    assert 'data-action="cancel" disabled' in ended


def test_cancel_then_retry_from_the_detail_page(client_trainer):
    job = job_launch(kind="selfcheck", params={})

    client_trainer.post(reverse("jobs:cancel", args=[job.pk]))
    assert Job.objects.get(pk=job.pk).state == JobState.CANCELLED
    client_trainer.post(reverse("jobs:retry", args=[job.pk]))
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
