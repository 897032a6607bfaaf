"""The OpenAPI schema at /api/v1/schema/ generates cleanly: no warnings, valid OpenAPI."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_the_schema_generates_without_warnings_and_validates(tmp_path: Path):
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    paths = yaml.safe_load(out.read_text())["paths"]
    assert {"/api/v1/deadlines/preview/", "/api/v1/assignments/", "/api/v1/assignments/{id}/acknowledge/",
            "/api/v1/assignments/{id}/replies/", "/api/v1/issues/", "/api/v1/replies/{id}/accept/",
            "/api/v1/replies/{id}/return/", "/api/v1/issues/{id}/follow-up/", "/api/v1/issues/{id}/close/",
            "/api/v1/issues/{id}/reopen/", "/api/v1/departments/", "/api/v1/categories/"} <= set(paths)


def test_the_schema_is_served_to_a_signed_in_user(leader):
    api = APIClient()
    api.force_authenticate(leader)

    response = api.get("/api/v1/schema/")

    assert response.status_code == 200
    assert b"/api/v1/assignments/" in response.content
