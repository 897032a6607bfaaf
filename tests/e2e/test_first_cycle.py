"""A person's first cycle in a real browser: office registers and assigns, the department head sees it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from feedback.models import Assignment, Issue

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()


def test_office_registers_and_assigns_and_the_head_finds_it_in_the_inbox(
    live_server, page, screenshot, netoffice, zjj_head
):
    base = live_server.url
    log_in(page, base, "netoffice")
    expect(page.get_by_role("heading", name="诉求台账")).to_be_visible()
    screenshot(page, "01-office-issue-list")

    page.get_by_role("link", name="登记诉求").first.click()
    page.get_by_label("诉求性质").select_option(label="建议")
    page.get_by_label("分类").select_option(label="住房和城乡建设")
    page.get_by_label("诉求人类型").select_option(label="网民")
    page.get_by_label("姓名/网名/企业").fill("山村支教亮亮老师")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_label("标题").fill("学校门口修建人行天桥")
    page.get_by_label("诉求内容").fill("上下学高峰人车混行，建议在学校门口修建人行天桥。")
    page.get_by_label("主办单位").select_option(label="县住房和城乡建设局")
    page.get_by_label("县交通运输局", exact=True).check()  # 协办单位: a list of checkboxes
    screenshot(page, "02-registration-form")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text(re.compile(r"已登记诉求 ZW\d{4}-\d{5}并完成交办"))).to_be_visible()
    expect(page.get_by_text("138****5678")).to_be_visible()
    expect(page.get_by_text("13812345678")).to_have_count(0)
    screenshot(page, "03-issue-detail")
    issue = Issue.objects.get()
    assert issue.status == Issue.Status.ASSIGNED
    assert issue.assignments.get(role="lead").department.code == "zjj"

    page.get_by_role("button", name="退出").click()
    log_in(page, base, "zjj_head")
    expect(page.get_by_role("heading", name=re.compile("县住房和城乡建设局.*待办事项"))).to_be_visible()
    row = page.get_by_role("row", name=re.compile("学校门口修建人行天桥"))
    expect(row).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("待签收 1"))).to_be_visible()
    screenshot(page, "04-head-inbox")
    row.get_by_role("button", name="签收").click()
    expect(page.get_by_text(f"已签收 {issue.ref}。")).to_be_visible()
    assert Assignment.objects.get(issue=issue, role="lead").status == Assignment.Status.ACKNOWLEDGED

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/issues/{issue.pk}/")
    expect(page.get_by_role("heading", name=re.compile("学校门口修建人行天桥"))).to_be_visible()
    screenshot(page, "05-issue-detail-phone")
