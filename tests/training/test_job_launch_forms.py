"""The jobs UI's per-kind launch forms, generated from each kind's parameter serializer."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_create
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_trainer(db) -> Client:
    client = Client()
    client.force_login(user_create(username="tom", password="pw-12345678", roles=["trainer"]))
    return client


def test_launch_page_builds_the_form_of_a_kind_from_its_serializer(client_trainer):
    html = client_trainer.get(reverse("jobs:launch"), {"kind": "train"}).content.decode()

    assert 'name="dataset_version"' in html and 'type="number"' in html
    assert '<select name="size"' in html and '<option value="tiny" selected>' in html
    assert 'name="config"' in html and "Overrides of the RAM config defaults" in html


def test_a_bad_parameter_is_shown_next_to_its_field_and_nothing_is_queued(client_trainer):
    response = client_trainer.post(reverse("jobs:launch") + "?kind=train", {
        "kind": "train", "dataset_version": "424242", "label_system_version": "1", "mode": "finetune",
        "variant": "ram", "size": "tiny", "config": "{}"})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-error-for="dataset_version">no dataset version with id 424242' in html
    assert not Job.objects.exists()


def test_a_valid_form_queues_the_job_with_typed_parameters(client_trainer):
    response = client_trainer.post(reverse("jobs:launch") + "?kind=selfcheck",
                                   {"kind": "selfcheck", "steps": "5", "step_seconds": "0.5"})

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.params == {"steps": 5, "step_seconds": 0.5, "fail": False, "transient_failures": 0}


def test_a_kind_without_a_serializer_falls_back_to_json_parameters(client_trainer):
    html = client_trainer.get(reverse("jobs:launch")).content.decode()

    assert 'name="params"' in html and '<select name="kind"' in html


def test_the_json_form_still_launches_any_kind(client_trainer):
    response = client_trainer.post(reverse("jobs:launch"), {"kind": "selfcheck", "params": '{"steps": 2}'})

    assert response.status_code == 302
    assert Job.objects.get().params["steps"] == 2
