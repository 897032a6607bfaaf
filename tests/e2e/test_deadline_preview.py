"""The registration form previews the deadline as the clerk fills it in (static/js/portal.js)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback.workcalendar import deadline_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_registration_form_previews_the_default_and_a_typed_deadline_under_csp(
    live_server, page, screenshot, netoffice
):
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    today = timezone.localdate()
    default_due = deadline_for(today, 10, "working_day").due_date
    typed_due = deadline_for(today, 3, "calendar_day").due_date

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("账号").fill("netoffice")
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="登记诉求").first.click()

    box = page.locator("#deadline-preview")
    expect(box).to_be_hidden()  # nothing to preview until a lead department is chosen
    page.get_by_label("主办单位").select_option(label="县住房和城乡建设局")
    expect(box).to_contain_text(f"办理期限：{default_due:%Y-%m-%d}")
    expect(box).to_contain_text("按默认时限：政网书面回复：10个工作日")
    expect(box).to_contain_text("起算日")

    page.get_by_label("办理时限").fill("3")
    expect(box).to_contain_text("需同时填写")
    page.get_by_label("时限单位").select_option(label="自然日")
    expect(box).to_contain_text(f"办理期限：{typed_due:%Y-%m-%d}")
    expect(box).not_to_contain_text("按默认时限")
    screenshot(page, "deadline-preview")

    page.get_by_label("办理时限").fill("")
    page.get_by_label("时限单位").select_option(label="（默认）")
    page.get_by_label("诉求性质").select_option(label="咨询")
    expect(box).to_contain_text(re.compile("按默认时限：政网咨询类回复：3个工作日"))
    assert blocked == []
