"""The county report prints as its heading and table: the 打印 button (shown by portal.js) and, in
print media, no filter form or navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_first_cycle import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_county_report_has_a_print_button_and_prints_without_its_form(live_server, page, leader, reference):
    log_in(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/report/")
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    expect(page.locator("table.report")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator("table.report")).to_be_visible()
    expect(page.get_by_role("heading", name="三个直通车工作情况（县级报告口径）")).to_be_visible()
