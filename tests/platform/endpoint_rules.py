"""Who may call each API endpoint: (url name, HTTP method) → the roles that are allowed.

Every endpoint the URL conf registers under /api/ must appear here; a new endpoint without a row fails
``test_endpoint_permissions``. Roles: the five role groups, ``norole`` (signed in, no role) and
``anonymous``.
"""

from __future__ import annotations

ALL_ROLES = frozenset({"admin", "curator", "reviewer", "trainer", "viewer"})
SIGNED_IN = ALL_ROLES | {"norole"}
PUBLIC = SIGNED_IN | {"anonymous"}
CURATE = frozenset({"admin", "curator"})
LAUNCH = frozenset({"admin", "curator", "trainer"})
TRAIN = frozenset({"admin", "trainer"})
REVIEW = frozenset({"admin", "reviewer"})
NOBODY: frozenset[str] = frozenset()

RULES: dict[tuple[str, str], frozenset[str]] = {
    ("api-schema", "get"): PUBLIC,
    ("api-docs", "get"): PUBLIC,
    ("api-token", "post"): PUBLIC,
    ("api-me", "get"): SIGNED_IN,
    ("job-list", "get"): ALL_ROLES,
    ("job-list", "post"): LAUNCH,
    ("job-detail", "get"): ALL_ROLES,
    ("job-log", "get"): ALL_ROLES,
    ("job-cancel", "post"): LAUNCH,
    ("job-retry", "post"): LAUNCH,
    # label systems (apps/labels/api)
    ("labelsystem-list", "get"): ALL_ROLES,
    ("labelsystem-detail", "get"): ALL_ROLES,
    ("labelsystem-import-files", "post"): CURATE,
    ("labelsystemversion-list", "get"): ALL_ROLES,
    ("labelsystemversion-detail", "get"): ALL_ROLES,
    ("labelsystemversion-diff", "get"): ALL_ROLES,
    ("labelsystemversion-export", "get"): ALL_ROLES,
    ("labelsystemversion-history", "get"): ALL_ROLES,
    ("labelsystemversion-draft", "post"): CURATE,
    ("labelsystemversion-publish", "post"): CURATE,
    ("labelsystemversion-suggest-merges", "post"): CURATE,
    ("taggroup-list", "get"): ALL_ROLES,
    ("taggroup-detail", "get"): ALL_ROLES,
    ("taggroup-merge", "post"): CURATE,
    ("taggroup-split", "post"): CURATE,
    ("tag-list", "get"): ALL_ROLES,
    ("tag-detail", "get"): ALL_ROLES,
    ("tag-detail", "put"): CURATE,
    ("tag-detail", "patch"): CURATE,
    ("tag-wordnet", "get"): ALL_ROLES,
    ("mergeproposal-list", "get"): ALL_ROLES,
    ("mergeproposal-detail", "get"): ALL_ROLES,
    ("mergeproposal-accept", "post"): CURATE,
    ("mergeproposal-reject", "post"): CURATE,
    ("mergeproposal-bulk-accept", "post"): CURATE,
    ("mergeproposal-bulk-reject", "post"): CURATE,
    # datasets (apps/datasets/api)
    ("dataset-list", "get"): ALL_ROLES,
    ("dataset-detail", "get"): ALL_ROLES,
    ("datasetversion-list", "get"): ALL_ROLES,
    ("datasetversion-detail", "get"): ALL_ROLES,
    ("datasetversion-counts", "get"): ALL_ROLES,
    ("datasetversion-lineage", "get"): ALL_ROLES,
    ("datasetversion-diff", "get"): ALL_ROLES,
    ("datasetversion-frequency", "get"): ALL_ROLES,
    ("datasetversion-phrases", "get"): ALL_ROLES,
    ("datasetversion-seal", "post"): CURATE,
    ("datasetversion-note", "post"): CURATE,
    ("datasetversion-propose-label-system", "post"): CURATE,
    ("datasetversion-branch", "post"): CURATE,
    ("snapshot-list", "get"): ALL_ROLES,
    ("snapshot-detail", "get"): ALL_ROLES,
    # training (apps/training/api)
    ("trainingrun-list", "get"): ALL_ROLES,
    ("trainingrun-list", "post"): TRAIN,
    ("trainingrun-detail", "get"): ALL_ROLES,
    ("trainingrun-metrics", "get"): ALL_ROLES,
    ("checkpoint-list", "get"): ALL_ROLES,
    ("checkpoint-list", "post"): TRAIN,
    ("checkpoint-detail", "get"): ALL_ROLES,
    ("checkpoint-evaluate", "post"): TRAIN,
    ("checkpoint-extend", "post"): TRAIN,
    ("evalresult-list", "get"): ALL_ROLES,
    ("evalresult-detail", "get"): ALL_ROLES,
    ("evalresult-compare", "get"): ALL_ROLES,
    # review (apps/review/api)
    ("reviewrun-list", "get"): ALL_ROLES,
    ("reviewrun-detail", "get"): ALL_ROLES,
    ("reviewrun-progress", "get"): ALL_ROLES,
    ("reviewrun-agreement", "get"): ALL_ROLES,
    ("reviewrun-queue", "get"): REVIEW,
    ("reviewrun-bulk-decide", "post"): REVIEW,
    ("reviewrun-undo", "post"): REVIEW,
    ("reviewrun-assign-reviewers", "post"): CURATE,
    ("reviewrun-remove-reviewer", "post"): CURATE,
    ("reviewrun-batches", "post"): CURATE,
    ("reviewrun-apply", "post"): CURATE,
    ("reviewflag-detail", "get"): REVIEW,
    ("reviewflag-decide", "post"): REVIEW,
    ("reviewbatch-list", "get"): ALL_ROLES,
    ("reviewbatch-detail", "get"): ALL_ROLES,
    ("reviewdecision-list", "get"): ALL_ROLES,
    ("reviewdecision-detail", "get"): ALL_ROLES,
    ("reviewapplication-list", "get"): ALL_ROLES,
    ("reviewapplication-detail", "get"): ALL_ROLES,
    # data engine (apps/engine/api)
    ("enginerun-list", "get"): ALL_ROLES,
    ("enginerun-list", "post"): CURATE,
    ("enginerun-detail", "get"): ALL_ROLES,
    ("enginerun-report", "get"): ALL_ROLES,
    ("enginerun-flag-counts", "get"): ALL_ROLES,
    ("enginerun-cluster", "post"): CURATE,
    ("engineflag-list", "get"): ALL_ROLES,
    ("engineflag-detail", "get"): ALL_ROLES,
}
