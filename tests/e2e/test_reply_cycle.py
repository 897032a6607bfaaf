"""From the department's inbox to a closed issue, in a real browser, with a co-handling department."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from feedback.models import Issue
from tests.conftest import pdf_bytes
from tests.e2e.test_first_cycle import log_in
from tests.factories import assigned

pytestmark = pytest.mark.django_db(transaction=True)


def upload_reply(page, base: str, pdf_path, summary: str) -> None:
    page.goto(f"{base}/inbox/")
    page.get_by_role("row", name=re.compile("学校门口修建人行天桥")).get_by_role("link", name="上传回复").click()
    page.get_by_label("回复函扫描件").set_input_files(str(pdf_path))
    page.get_by_label("签发人", exact=True).fill("王建国")
    page.get_by_label("签发人职务").fill("局长")
    page.get_by_label("办理结果").select_option(label="解释说明")
    page.get_by_label("答复摘要").fill(summary)
    page.get_by_role("button", name="提交回复").click()
    expect(page.get_by_text("书面回复已提交，等待直通车办公室审核。")).to_be_visible()


def test_lead_and_co_handler_reply_the_office_reviews_follows_up_and_closes(
    live_server, browser, screenshot, tmp_path, netoffice, zjj_head, jtj_head
):
    base = live_server.url
    issue, _ = assigned(netoffice, lead="zjj", co=("jtj",), title="学校门口修建人行天桥")
    letter = tmp_path / "回复函.pdf"
    letter.write_bytes(pdf_bytes())
    fake = tmp_path / "假文件.pdf"
    fake.write_text("<html><script>alert(1)</script></html>")

    def page_for(username):
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        log_in(page, base, username)
        return page

    co = page_for("jtj_head")
    co.goto(f"{base}/inbox/")
    co.get_by_role("row", name=re.compile("学校门口修建人行天桥")).get_by_role("link", name="上传回复").click()
    co.get_by_label("回复函扫描件").set_input_files(str(fake))
    co.get_by_label("签发人", exact=True).fill("李")
    co.get_by_label("签发人职务").fill("局长")
    co.get_by_label("答复摘要").fill("x")
    co.get_by_role("button", name="提交回复").click()
    expect(co.get_by_text("文件内容与扩展名不符")).to_be_visible()
    screenshot(co, "10-bad-file-refused")
    upload_reply(co, base, letter, "交通局：已测算车流量，配合住建局答复。")

    lead = page_for("zjj_head")
    upload_reply(lead, base, letter, "经测算人流车流未达标准，暂不建设天桥，已增设斑马线。")
    expect(lead.get_by_text("交通局：已测算车流量")).to_be_visible()  # the lead sees the co-handler's reply

    office = page_for("netoffice")
    asked: list[str] = []  # the confirmations portal.js asks before irreversible steps, accepted
    office.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    office.goto(f"{base}/issues/{issue.pk}/")
    office.get_by_role("button", name="审核通过").first.click()
    expect(office.get_by_text("回复已审核通过。")).to_be_visible()
    office.get_by_role("button", name="审核通过").first.click()
    expect(office.get_by_role("heading", name="回访与办结")).to_be_visible()
    screenshot(office, "11-replies-accepted")
    office.get_by_label("回访结果").select_option(label="满意")
    office.get_by_role("button", name="记录回访").click()
    office.get_by_role("button", name="办结").click()
    expect(office.get_by_text("已办结。")).to_be_visible()
    expect(office.locator(".badge.big")).to_have_text("已办结")
    assert [m[:8] for m in asked] == ["确定审核通过这份", "确定审核通过这份", "确定办结这件诉求"]
    screenshot(office, "12-closed")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.CLOSED and issue.satisfaction == "satisfied"
