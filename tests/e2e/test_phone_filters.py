"""On a phone the ledger's filter bar is folded to its search field until the user opens it
(static/js/portal.js foldFilters), and stays open when the address already chooses a filter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_first_cycle import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_ledger_filters_fold_on_a_phone_until_opened(live_server, browser, screenshot, netoffice):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, base, "netoffice")
        page.goto(f"{base}/issues/")
        expect(page.get_by_label("搜索")).to_be_visible()
        expect(page.get_by_label("渠道")).to_be_hidden()
        more = page.get_by_role("button", name="更多筛选")
        screenshot(page, "ledger-phone-folded")
        more.click()
        expect(page.get_by_label("渠道")).to_be_visible()
        expect(more).to_have_count(0)

        page.goto(f"{base}/issues/?channel=net")  # a filter chosen: nothing hidden
        expect(page.get_by_label("渠道")).to_be_visible()
        expect(page.get_by_role("button", name="更多筛选")).to_have_count(0)
        page.goto(f"{base}/issues/?q=天桥")  # only the search: folded again
        expect(page.get_by_label("渠道")).to_be_hidden()
    finally:
        context.close()


def test_the_filters_are_never_folded_on_a_laptop(live_server, page, netoffice):
    log_in(page, live_server.url, "netoffice")
    page.goto(f"{live_server.url}/issues/")
    expect(page.get_by_label("渠道")).to_be_visible()
    expect(page.get_by_role("button", name="更多筛选")).to_have_count(0)
