"""Roles are Django groups; this module says which permissions each one holds.

Permissions are named ``app_label.codename`` and may end in ``*`` (``labels.view_*``) so that a model added
later is covered by its role without editing this table.
"""

from __future__ import annotations

ADMIN = "admin"
CURATOR = "curator"
REVIEWER = "reviewer"
TRAINER = "trainer"
VIEWER = "viewer"

ROLES = (ADMIN, CURATOR, REVIEWER, TRAINER, VIEWER)

_READ = ["labels.view_*", "jobs.view_*", "datasets.view_*", "training.view_*", "review.view_*", "engine.view_*"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWER: _READ,
    CURATOR: [
        *_READ,
        "labels.add_*",
        "labels.change_*",
        "labels.delete_*",
        "labels.publish_labelsystemversion",
        "datasets.add_*",
        "datasets.change_*",
        "jobs.add_job",
        "jobs.cancel_job",
        "engine.add_*",
        "engine.change_*",
        "review.manage_*",
    ],
    REVIEWER: [*_READ, "review.add_reviewdecision", "review.review_*"],
    TRAINER: [*_READ, "jobs.add_job", "jobs.cancel_job", "training.add_*", "training.change_*"],
    ADMIN: ["*"],
}
