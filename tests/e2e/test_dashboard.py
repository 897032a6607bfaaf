"""The leaders' dashboard in a real browser: figures, charts (or the note saying why there are none)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from feedback.assets import ECHARTS, available
from tests.e2e.test_first_cycle import log_in
from tests.feedback.test_statistics import may  # noqa: F401  (the fixture: seven issues in May 2026)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("may")
def test_the_leader_reads_the_dashboard(live_server, page, screenshot, leader):
    problems: list[str] = []  # script errors and CSP refusals (the browser reports both as console errors)
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    failed: list[str] = []  # any file the page could not load (the browser's own /favicon.ico aside)
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)

    log_in(page, live_server.url, "leader")
    page.get_by_role("link", name="统计看板").click()
    page.get_by_label("受理日期从").fill("2026-05-01")
    page.get_by_label("至").fill("2026-05-31")
    page.get_by_label("统计截止日").fill("2026-05-31")
    page.get_by_role("button", name="统计").click()

    expect(page.get_by_role("heading", name="统计看板")).to_be_visible()
    reply_rate = page.locator(".kpi", has_text="办理回复率")
    expect(reply_rate).to_contain_text("42.9%")
    expect(reply_rate).to_have_attribute("title", re.compile("办理回复率 = "))
    expect(reply_rate).to_contain_text("距目标 100% 还差 4 件")
    expect(page.locator(".kpi", has_text="按期回复率")).to_contain_text("50.0%")
    expect(page.get_by_role("heading", name="超期未回复清单")).to_be_visible()

    if available(ECHARTS):
        for name in ("bureaus", "townships", "categories", "months"):
            expect(page.locator(f'[data-chart="{name}"] canvas')).to_have_count(1)
    else:
        expect(page.get_by_text("图表组件（Apache ECharts）未安装")).to_be_visible()
    screenshot(page, "dashboard")
    assert not problems, problems
    assert not failed, failed

    # The card's number opens exactly its records (the 按期回复率 card names 超期未回复 too: by label).
    overdue = page.locator(".kpi", has=page.locator(".kpi-label", has_text="超期未回复"))
    overdue.locator(".kpi-value").click()
    expect(page.get_by_role("heading", name="超期未回复的交办")).to_be_visible()
    expect(page.locator("[data-count]")).to_have_text("2")
    expect(page.get_by_role("row", name=re.compile("县交通运输局"))).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.go_back()
    expect(page.locator(".kpi", has_text="办理回复率")).to_be_visible()
    screenshot(page, "dashboard-phone")
    if available(ECHARTS):
        # On a phone the donut lists the categories in a legend instead of labels it has no room for.
        assert chart_option(page, "categories")["legend"][0]["show"] is not False
        assert chart_option(page, "categories")["series"][0]["label"]["show"] is False

    # March has no issue (I7 is April's, the rest May's): the trend still runs month by month.
    page.goto(f"{live_server.url}/dashboard/?received_from=2026-03-01&received_to=2026-05-31&as_of=2026-05-31")
    page.get_by_role("heading", name="月度趋势（按受理月份）").click()  # folded on a phone
    expect(page.get_by_role("row", name=re.compile("2026-03"))).to_contain_text("—")
    if available(ECHARTS):
        assert chart_option(page, "months")["xAxis"][0]["data"] == ["2026-03", "2026-04", "2026-05"]


# Counts the charts' resize() calls: its DOMContentLoaded handler is registered before static/js/dashboard.js
# runs (init scripts run first), so it wraps echarts.init before the page draws anything.
COUNT_RESIZES = """
document.addEventListener("DOMContentLoaded", () => {
  window.chartResizes = 0;
  if (typeof window.echarts === "undefined") return;
  const init = window.echarts.init;
  window.echarts.init = (...args) => {
    const chart = init(...args);
    const resize = chart.resize.bind(chart);
    chart.resize = (...more) => { window.chartResizes += 1; return resize(...more); };
    return chart;
  };
});
"""


@pytest.mark.usefixtures("may")
def test_each_chart_is_drawn_once_and_again_only_when_its_box_changes_size(live_server, page, leader):
    """The browser fires "toggle" for every <details open> the page is parsed with (five here): once each
    redrew all four charts (tens of ms apiece, after the page was drawn). A resize redraws only a changed box."""
    if not available(ECHARTS):
        pytest.skip("ECharts is not installed (npm)")
    page.add_init_script(COUNT_RESIZES)
    log_in(page, live_server.url, "leader")
    page.goto(f"{live_server.url}/dashboard/?received_from=2026-05-01&received_to=2026-05-31&as_of=2026-05-31")
    expect(page.locator('[data-chart-ready="true"]')).to_have_count(4)
    assert page.locator("details[data-fold-phone][open]").count() >= 4  # the toggles that once redrew
    settle = "new Promise((done) => setTimeout(() => requestAnimationFrame(() => done()), 300))"
    page.evaluate(settle)
    assert page.evaluate("window.chartResizes") == 0
    # Whether those toggles come before or after the handler depends on when ECharts arrived; these do not.
    page.evaluate(
        "() => document.querySelectorAll('details[data-fold-phone]').forEach((d) => { d.open = false; d.open = true; })"
    )
    page.evaluate(settle)
    assert page.evaluate("window.chartResizes") == 0

    page.set_viewport_size({"width": 900, "height": 800})  # every box narrower: each chart redrawn once
    waited = (
        "async () => { for (let i = 0; i < 200 && window.chartResizes < 4; i++)"
        " await new Promise((r) => setTimeout(r, 25)); }"
    )
    page.evaluate(waited)  # (not wait_for_function: it evaluates a string, which the portal's CSP refuses)
    assert page.evaluate("window.chartResizes") == 4
    box = page.locator('[data-chart="bureaus"]')
    assert box.locator("canvas").bounding_box()["width"] == pytest.approx(box.bounding_box()["width"], abs=1)
    page.evaluate("new Promise((done) => setTimeout(done, 300))")
    assert page.evaluate("window.chartResizes") == 4


def chart_option(page, name: str) -> dict:
    """The option ECharts holds for a chart (its merged option, as the chart was drawn)."""
    locator = page.locator(f'[data-chart="{name}"][data-chart-ready="true"]')
    expect(locator).to_have_count(1)
    return locator.evaluate("(box) => window.echarts.getInstanceByDom(box).getOption()")


@pytest.mark.usefixtures("may")
def test_on_a_phone_the_leader_reads_the_rates_first_opens_a_formula_and_the_tables_on_a_tap(
    live_server, browser, screenshot, leader
):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "leader")
        page.goto(f"{live_server.url}/dashboard/?received_from=2026-05-01&received_to=2026-05-31&as_of=2026-05-31")
        # The headline rates and the gap to 100 % on the first screen, above the filters.
        on_time = page.locator(".kpi", has_text="按期回复率")
        expect(on_time).to_contain_text("50.0%")
        expect(page.locator(".kpi", has_text="办理回复率")).to_contain_text("距目标 100% 还差 4 件")
        assert page.locator(".kpis").bounding_box()["y"] < page.locator("form.filters").bounding_box()["y"]
        assert page.locator(".kpi", has_text="办理回复率").bounding_box()["y"] < 844
        # The formula opens on a tap (no mouse to hover with).
        formula = on_time.get_by_text(re.compile("按期回复率 = 按期回复的交办数"))
        expect(formula).to_be_hidden()
        on_time.get_by_text("计算公式").click()
        expect(formula).to_be_visible()
        # The long tables wait behind a tap; the page is a few screens, not two dozen.
        expect(page.get_by_role("heading", name="超期未回复清单")).to_be_visible()
        expect(page.locator("#overdue table")).to_be_hidden()
        expect(page.locator("#months table")).to_be_hidden()
        screens = page.evaluate("document.documentElement.scrollHeight") / 844
        assert screens < 6, screens
        screenshot(page, "dashboard-phone")
        page.get_by_role("heading", name="月度趋势（按受理月份）").click()
        expect(page.locator("#months table")).to_be_visible()
        if available(ECHARTS):
            assert page.locator('[data-chart="months"] canvas').bounding_box()["width"] > 200
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
