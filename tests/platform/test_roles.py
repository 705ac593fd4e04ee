"""Roles are groups whose permissions follow apps/accounts/roles.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.accounts.services import roles_sync

pytestmark = pytest.mark.django_db


def test_migrate_creates_one_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {"admin", "curator", "reviewer", "trainer", "viewer"}


def test_viewer_reads_but_cannot_launch_jobs(role_user):
    viewer = role_user("viewer")

    assert viewer.has_perm("jobs.view_job")
    assert not viewer.has_perm("jobs.add_job")


def test_trainer_launches_and_cancels_jobs(role_user):
    trainer = role_user("trainer")

    assert trainer.has_perms(["jobs.add_job", "jobs.cancel_job"])


def test_roles_sync_is_idempotent():
    first = roles_sync()

    assert roles_sync() == first
