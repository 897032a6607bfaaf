"""The office's daily loop (issue 13), in a real browser: a department uploads a reply → the office
finds it under 待审核 (the count on the tab) → returns it → the department uploads again → the office
accepts → 办结 is refused before 回访 (the message is on the page) → 回访 → 办结 → the dashboard's
closure figure moves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import pdf_bytes
from tests.e2e.test_first_cycle import log_in
from tests.e2e.test_reply_cycle import upload_reply
from tests.factories import assigned

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_office_reviews_from_its_work_list_and_closes_only_after_the_follow_up(
    live_server, browser, screenshot, tmp_path, netoffice, zjj_head
):
    base = live_server.url
    issue, _ = assigned(netoffice, lead="zjj", title="学校门口修建人行天桥")
    letter = tmp_path / "回复函.pdf"
    letter.write_bytes(pdf_bytes())

    def page_for(username):
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        log_in(page, base, username)
        return page

    department = page_for("zjj_head")
    upload_reply(department, base, letter, "经测算人流车流未达标准，暂不建设天桥。")

    office = page_for("netoffice")
    office.on("dialog", lambda dialog: dialog.accept())  # portal.js confirms irreversible steps
    dashboard_closure = _closure(office, base)

    office.goto(f"{base}/")  # the office's home is the ledger
    tab = office.locator('[data-tab="awaiting-review"]')
    expect(tab).to_have_text(re.compile(r"待审核\s*1"))
    expect(
        office.get_by_role("row", name=re.compile("学校门口修建人行天桥")).locator(".st-awaiting-review")
    ).to_be_visible()
    tab.click()
    row = office.locator("#review-queue").get_by_role("row", name=re.compile(issue.ref))
    expect(row).to_contain_text("县住房和城乡建设局（主办）")
    expect(row).to_contain_text("今天提交")
    screenshot(office, "loop-01-awaiting-review")
    office.goto(f"{base}/notifications/")
    expect(office.get_by_text(re.compile("新回复待审核"))).to_be_visible()  # the bell's notice

    # Return it with a reason.
    office.goto(f"{base}/issues/{issue.pk}/")
    office.get_by_label("退回理由").fill("未加盖公章")
    office.get_by_role("button", name="退回重办").click()
    office.goto(f"{base}/")
    expect(office.locator('[data-tab="awaiting-review"]')).to_have_text(re.compile(r"待审核\s*0"))

    # The department uploads again, from the issue page.
    department.goto(f"{base}/issues/{issue.pk}/")
    department.get_by_role("link", name="上传书面回复").click()
    department.get_by_label("回复函扫描件").set_input_files(str(letter))
    department.get_by_label("签发人", exact=True).fill("王建国")
    department.get_by_label("签发人职务").fill("局长")
    department.get_by_label("办理结果").select_option(label="解释说明")
    department.get_by_label("答复摘要").fill("已补盖公章，暂不建设天桥，已增设斑马线。")
    department.get_by_role("button", name="提交回复").click()
    expect(department.get_by_text("书面回复已提交，等待直通车办公室审核。")).to_be_visible()

    # The office finds it in the list again, as a re-submission, and accepts it.
    office.goto(f"{base}/")
    expect(office.locator('[data-tab="awaiting-review"]')).to_have_text(re.compile(r"待审核\s*1"))
    office.locator('[data-tab="awaiting-review"]').click()
    row = office.locator("#review-queue").get_by_role("row", name=re.compile(issue.ref))
    expect(row).to_contain_text("第2版（重新提交）")
    row.get_by_role("link", name="去审核").click()
    office.get_by_role("button", name="审核通过").click()
    expect(office.get_by_text("回复已审核通过。")).to_be_visible()

    # 办结 before 回访: refused, and the page says why and what to do.
    expect(office.locator("#closure-rule")).to_contain_text("尚未回访，不能办结")
    office.locator("#close").get_by_role("button", name="办结").click()
    expect(office.locator(".messages")).to_contain_text("尚未回访，不能办结")
    expect(office.locator(".badge.big")).to_have_text("已回复待回访")
    screenshot(office, "loop-02-close-refused")
    assert _closure(office, base) == dashboard_closure

    # 回访, then 办结.
    office.goto(f"{base}/issues/{issue.pk}/")
    office.get_by_label("回访结果").select_option(label="满意")
    office.get_by_role("button", name="记录回访").click()
    expect(office.locator("#closure-rule")).to_have_count(0)
    office.locator("#close").get_by_role("button", name="办结").click()
    expect(office.get_by_text("已办结。")).to_be_visible()
    expect(office.locator(".badge.big")).to_have_text("已办结")

    closed_before, issues_before = dashboard_closure
    assert _closure(office, base) == (closed_before + 1, issues_before)
    screenshot(office, "loop-03-dashboard-after-closure")


def _closure(page, base: str) -> tuple[int, int]:
    """The dashboard's 办结率 card: (closed, issues) as it shows them."""
    page.goto(f"{base}/dashboard/")
    card = page.locator(".kpi", has=page.locator(".kpi-label", has_text="办结率"))
    expect(card).to_be_visible()
    detail = card.locator(".kpi-detail").inner_text()
    closed, issues = re.match(r"\s*(\d+)\s*/\s*(\d+)", detail).groups()
    return int(closed), int(issues)
