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
}
