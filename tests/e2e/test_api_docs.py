"""The API documentation (/api/v1/docs/, Swagger UI) in a real browser: it renders under the portal's
Content-Security-Policy with every file from the portal itself (county intranets have no internet)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_first_cycle import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signed_in_user_reads_the_api_docs_and_tries_an_operation(live_server, page, screenshot, leader):
    base = live_server.url
    log_in(page, base, "leader")
    problems: list[str] = []  # script errors and CSP refusals ("Refused to …"/"violates …" are console errors)
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" or "Content Security Policy" in msg.text else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    outside: list[str] = []  # anything an intranet browser could not reach
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{base}/api/v1/docs/")

    expect(page.get_by_role("heading", name="直通车 API")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    operation = page.locator(".opblock", has=page.locator('[data-path="/api/v1/categories/"]')).first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    screenshot(page, "api-docs")
    assert not problems, problems
    assert not outside, outside
    assert not failed, failed
