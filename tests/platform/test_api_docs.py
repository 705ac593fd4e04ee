"""The OpenAPI schema and the browsable docs are served without a CDN."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_schema_is_served_as_json_with_the_jobs_paths(client):
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "labelhub API"
    assert "/api/jobs/{id}/cancel/" in schema["paths"]


def test_docs_page_loads_swagger_ui_from_this_server(client):
    response = client.get("/api/docs/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in body
    assert "cdn.jsdelivr.net" not in body


def test_token_authentication_reaches_the_api(role_user, client):
    role_user("viewer")
    token = client.post("/api/auth/token/", {"username": "user-viewer", "password": "pw-12345678"}).json()["token"]

    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")

    assert response.json()["roles"] == ["viewer"]
