"""Admin of review: the decision log can be read but not added to, changed or deleted."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from apps.accounts.services import user_create
from apps.review.models import ReviewApplication, ReviewBatch, ReviewDecision, ReviewTask, RunReviewer
from apps.review.services.decisions import review_decide

pytestmark = pytest.mark.django_db


def test_every_review_model_is_registered():
    for model in (RunReviewer, ReviewBatch, ReviewTask, ReviewDecision, ReviewApplication):
        assert model in site._registry


def test_the_decision_log_is_read_only_in_the_admin(work, reviewer):
    review_decide(user=reviewer, flag=work.flags()[0], action="reject")
    decision = ReviewDecision.objects.get()
    admin_user = user_create(username="root", password="pw-12345678", is_superuser=True)
    client = Client()
    client.force_login(admin_user)

    assert client.get(reverse("admin:review_reviewdecision_changelist")).status_code == 200
    page = client.get(reverse("admin:review_reviewdecision_change", args=[decision.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:review_reviewdecision_add")).status_code == 403
    assert client.post(reverse("admin:review_reviewdecision_delete", args=[decision.pk]),
                       {"post": "yes"}).status_code == 403
    assert ReviewDecision.objects.filter(pk=decision.pk, action="reject").exists()
