"""The OpenAPI schema at /api/v1/schema/ generates cleanly: no warnings, valid OpenAPI; its
documentation page at /api/v1/docs/ works under the portal's Content-Security-Policy."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import yaml
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient


def test_the_schema_generates_without_warnings_and_validates(tmp_path: Path):
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    paths = yaml.safe_load(out.read_text())["paths"]
    assert {
        "/api/v1/deadlines/preview/",
        "/api/v1/assignments/",
        "/api/v1/assignments/{id}/acknowledge/",
        "/api/v1/assignments/{id}/replies/",
        "/api/v1/issues/",
        "/api/v1/replies/{id}/accept/",
        "/api/v1/replies/{id}/return/",
        "/api/v1/issues/{id}/follow-up/",
        "/api/v1/issues/{id}/close/",
        "/api/v1/issues/{id}/reopen/",
        "/api/v1/departments/",
        "/api/v1/categories/",
    } <= set(paths)


def test_the_schema_is_served_to_a_signed_in_user(leader):
    api = APIClient()
    api.force_authenticate(leader)

    response = api.get("/api/v1/schema/")

    assert response.status_code == 200
    assert b"/api/v1/assignments/" in response.content


# The documentation page (zhitongche/api_router.py) must work on an intranet under the portal's CSP.


class _Assets(HTMLParser):
    """Collects a page's <script>, <link> and <style> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.styles: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {"script": self.scripts, "link": self.links, "style": self.styles}.get(tag)
        if found is not None:
            found.append(dict(attrs))


def _policy(response: HttpResponse) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {name: sources for name, *sources in directives}


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


def test_the_swagger_page_loads_only_portal_files_under_the_portal_policy(client: Client, leader):
    client.force_login(leader)

    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assets = _Assets()
    assets.feed(page)
    assert "http://" not in page and "https://" not in page
    assert [s.get("src") for s in assets.scripts] == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/api/v1/docs/?script=",
    ]  # no inline script: each one is a file
    assert all(_same_origin(link["href"]) for link in assets.links)
    [style] = assets.styles
    nonce = style["nonce"]
    assert nonce
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["default-src"] == ["'self'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_swagger_start_up_script_is_javascript_that_loads_the_portal_schema(client: Client, leader):
    client.force_login(leader)

    response = client.get("/api/v1/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/v1/schema/"' in response.content.decode()


def test_other_pages_keep_the_policy_without_a_nonce(client: Client, leader):
    client.force_login(leader)
    client.get("/api/v1/docs/")

    response = client.get("/accounts/login/")

    assert _policy(response)["style-src"] == ["'self'"]
    assert _policy(response)["script-src"] == ["'self'"]


def test_there_is_no_redoc_page(client: Client, leader):
    # Redoc cannot run under the portal's CSP without an outside logo and inline styles (api_router.py).
    client.force_login(leader)

    assert client.get("/api/v1/redoc/").status_code == 404
