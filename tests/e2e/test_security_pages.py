"""The security measures that are pages, in a real browser (issue 15): the 404 page, the preview
placeholder that becomes the picture, the captcha picture, TOTP enrolment."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from feedback import services
from feedback.access import Role
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("pw-for-tests-123")
    page.get_by_role("button", name="登录").click()


def test_a_missing_page_is_chinese_with_its_request_id(live_server, page: Page, settings) -> None:
    settings.DEBUG = False
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(page.locator("#request-id")).to_have_text(response.headers["x-request-id"])


def test_the_preview_placeholder_becomes_the_picture(live_server, page: Page, netoffice, zjj_head) -> None:
    issue, (lead,) = assigned(netoffice, lead="zjj")
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=lead,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )
    log_in(page, live_server.url, "netoffice")
    page.goto(f"{live_server.url}/issues/{issue.pk}/")
    preview = page.locator("img[data-preview]")
    expect(preview).to_have_attribute("alt", "预览生成中…")  # 202: queued, not drawn in the request
    from feedback.tasks import render_reply_preview

    assert render_reply_preview(reply.pk) == "ready"  # what the Celery worker does
    page.wait_for_function("() => document.querySelector('img[data-preview]').naturalWidth > 0", timeout=15_000)


def test_the_public_form_shows_a_captcha_picture(live_server, page: Page, reference) -> None:
    page.goto(f"{live_server.url}/public/submit/")
    captcha = page.locator("img.captcha")
    expect(captcha).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.captcha').naturalWidth > 0")


def test_an_office_enrols_a_second_factor(live_server, page: Page, settings, reference) -> None:
    settings.OTP_REQUIRED_ROLES = ["admin", "leader", "office", "department_head"]
    user = make_user("office1", department="wxb", role=Role.OFFICE)
    log_in(page, live_server.url, "office1")
    expect(page.get_by_role("heading", name="绑定动态口令")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#otp-qr').naturalWidth > 0")  # the QR under the CSP
    device = TOTPDevice.objects.get(user=user)
    page.get_by_label("动态口令或恢复码").fill(f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
    page.get_by_role("button", name="完成绑定").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page.get_by_role("link", name="诉求台账")).to_be_visible()
