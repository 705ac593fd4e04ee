"""Every registered API endpoint × every role gets the status its rule in endpoint_rules.py says."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .endpoint_rules import RULES

ROLES_UNDER_TEST = ["admin", "curator", "reviewer", "trainer", "viewer", "norole", "anonymous"]
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    kwargs: tuple[tuple[str, str], ...]

    @property
    def url(self) -> str:
        return reverse(self.name, kwargs=dict(self.kwargs))


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def _methods(callback) -> list[str]:
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(actions)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return [m for m in HTTP_METHODS if view_class is not None and hasattr(view_class, m)]


def api_endpoints() -> list[Endpoint]:
    endpoints = set()
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.lstrip("^").startswith("api/") or not pattern.name:
            continue
        groups = pattern.pattern.regex.groupindex
        if "format" in groups:  # the router's ".json" suffix twin of an endpoint already listed
            continue
        kwargs = tuple((name, "999999") for name in groups)
        for method in _methods(pattern.callback):
            endpoints.add(Endpoint(pattern.name, method, kwargs))
    return sorted(endpoints, key=lambda e: (e.name, e.method))


ENDPOINTS = api_endpoints()


def test_every_api_endpoint_has_a_permission_rule():
    missing = [f"{e.name} {e.method.upper()}" for e in ENDPOINTS if (e.name, e.method) not in RULES]

    assert not missing, f"add rules to tests/platform/endpoint_rules.py for: {missing}"


def test_every_rule_names_a_registered_endpoint():
    registered = {(e.name, e.method) for e in ENDPOINTS}

    assert set(RULES) - registered == set()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES_UNDER_TEST)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.name}-{e.method}")
def test_endpoint_answers_role_as_its_rule_says(endpoint: Endpoint, role: str, api_client_for):
    allowed = role in RULES.get((endpoint.name, endpoint.method), frozenset())
    client = api_client_for(role)

    response = getattr(client, endpoint.method)(endpoint.url, {}, format="json")

    if allowed:
        assert response.status_code not in (401, 403), f"{role} refused: {response.status_code}"
    else:
        assert response.status_code in (401, 403), f"{role} allowed: {response.status_code}"
