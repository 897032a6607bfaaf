"""Not a test: the screenshots in README.md and docs/, taken over the demo data (feedback.demo).

Run ``bin/screenshots`` (it calls pytest on this file, which the suite does not collect: the name does
not start with ``test_``). Each picture is the page as its user sees it on a laptop (1280 px) or a
phone (390 px); ``docs/screenshots/<name>.png`` is overwritten. Pages that need typing or pasting
first (the batch grid) are shot by their own browser tests into ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.test_screens import _first, log_in_as

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def open_first_formula(page: Page) -> None:
    page.locator(".kpi").first.get_by_text("计算公式").click()


@dataclass(frozen=True)
class Shot:
    name: str
    who: str
    address: Callable[[], str]
    viewport: dict[str, int] = field(default_factory=lambda: LAPTOP)
    full_page: bool = False
    before: Callable[[Page], None] | None = None


SHOTS = [
    Shot("issue-list", "netoffice", lambda: "/issues/"),
    Shot("review-queue", "netoffice", lambda: "/issues/?awaiting_review=1"),
    Shot("department-inbox", "zjj_head", lambda: "/inbox/"),
    Shot("inbox-phone", "zjj_head", lambda: "/inbox/", PHONE, full_page=True),
    Shot(
        "enterprise-day",
        "ezoneoffice",
        lambda: f"/enterprise/days/{_first('channels_enterprise.EnterpriseDay', intakes__isnull=False)}/",
        full_page=True,
    ),
    Shot(
        "citizen-week",
        "petitionoffice",
        lambda: f"/citizen/weeks/{_first('channels_citizen.NoMeetingWeek', visits__isnull=False)}/",
        full_page=True,
    ),
    Shot("dashboard", "leader", lambda: "/dashboard/", full_page=True),
    Shot("dashboard-phone", "leader", lambda: "/dashboard/", PHONE, full_page=True, before=open_first_formula),
]


@pytest.fixture
def demo(reference: None) -> None:
    from feedback.demo import seed_demo

    seed_demo()


def test_shoot_the_screenshots_of_the_docs(live_server, browser, demo) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for shot in SHOTS:
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=shot.viewport)
        try:
            log_in_as(context, live_server.url, shot.who)
            page = context.new_page()
            response = page.goto(live_server.url + shot.address(), wait_until="networkidle")
            assert response is not None and response.status == 200, shot.name
            if shot.before:
                shot.before(page)
            page.wait_for_timeout(300)  # the charts' entry animation
            page.screenshot(path=str(DOCS / f"{shot.name}.png"), full_page=shot.full_page)
            print(f"{DOCS / shot.name}.png")
        finally:
            context.close()
