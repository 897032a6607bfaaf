"""Browser (end-to-end) test fixtures: Playwright for Python driving Debian's chromium.

* ``browser`` (session): headless ``/usr/bin/chromium`` (``CHROMIUM`` overrides the path); the
  tests are skipped, with the reason, when it is not installed (``bin/test`` installs it).
* ``page``: a fresh context per test, zh-CN, Asia/Shanghai, 1280x800. When a test fails, a
  screenshot of its page is kept as ``test-artifacts/screenshots/FAILED-<test>.png``.
* ``screenshot(page, name)``: saves ``test-artifacts/screenshots/<name>.png`` and returns the path.
* Use pytest-django's ``live_server`` for the server (``live_server.url``).

Every test under ``tests/e2e/`` gets the ``e2e`` marker, so ``bin/test -m "not e2e"`` leaves them out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django's ORM would then refuse to
# run from the test body ("SynchronousOnlyOperation"). The tests only use the ORM synchronously.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def playwright_instance():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk (bin/test tries to)"
        if os.environ.get("CI"):  # .ci/run: a browser test must never pass as a silent skip
            pytest.fail(message + " (CI: failing instead of skipping)", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        try:
            save_screenshot(page, f"FAILED-{request.node.name}")
        except Exception as exc:  # the page may be gone already; the failure itself matters more
            print(f"could not save a screenshot of the failed page: {exc}")
    context.close()


def save_screenshot(page, name: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", name).strip("_") or "page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """``screenshot(page, "login")`` → ``test-artifacts/screenshots/login.png``."""
    return save_screenshot
