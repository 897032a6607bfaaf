"""The browser pages, through Django's test client: forms, messages, lists and query counts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import Assignment, Department, Issue, SignedReply
from tests.conftest import reply_pdf
from tests.factories import assigned, register

pytestmark = pytest.mark.django_db


def registration_data(**overrides) -> dict:
    data = {
        "channel": "net",
        "ref": "",
        "received_on": timezone.localdate().isoformat(),
        "nature": "suggestion",
        "category": "",
        "requester_kind": "netizen",
        "requester_name": "山村支教亮亮老师",
        "requester_phone": "13812345678",
        "requester_org": "",
        "title": "学校门口修建人行天桥",
        "content": "上下学高峰人车混行，建议修建天桥。",
        "onsite_answer": "",
        "lead": "",
        "co": [],
        "deadline_amount": "",
        "deadline_unit": "",
    }
    data.update(overrides)
    return data


def test_login_page_is_chinese_and_logs_in(client, netoffice):
    page = client.get(reverse("login")).content.decode()
    assert "登录" in page and 'lang="zh-CN"' in page
    response = client.post(reverse("login"), {"username": "netoffice", "password": "pw-for-tests-123"})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("issue_list")


def test_a_wrong_password_gets_a_clear_message(client, netoffice):
    response = client.post(reverse("login"), {"username": "netoffice", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode() or "正确" in response.content.decode()


def test_demo_password_is_refused_when_debug_is_off(client, settings, netoffice):
    from feedback.demo import DEMO_PASSWORD

    netoffice.set_password(DEMO_PASSWORD)
    netoffice.save()
    settings.DEBUG = False
    response = client.post(reverse("login"), {"username": "netoffice", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "演示账号仅限开发环境使用" in response.content.decode()
    settings.DEBUG = True
    assert client.post(reverse("login"), {"username": "netoffice", "password": DEMO_PASSWORD}).status_code == 302


def test_office_registers_and_assigns_in_one_step(client, netoffice):
    client.force_login(netoffice)
    zjj, jtj = Department.objects.get(code="zjj"), Department.objects.get(code="jtj")
    from feedback.models import Category

    response = client.post(
        reverse("issue_create"),
        registration_data(category=Category.objects.get(code="housing").pk, lead=zjj.pk, co=[jtj.pk]),
    )
    issue = Issue.objects.get()
    assert response.status_code == 302 and response.url == reverse("issue_detail", args=[issue.pk])
    assert issue.status == Issue.Status.ASSIGNED and issue.registered_by == netoffice
    assert set(issue.assignments.values_list("department__code", "role")) == {("zjj", "lead"), ("jtj", "co")}
    page = client.get(response.url).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    assert "期限是怎么算的" in page and "当日不计入" in page


def test_registration_errors_are_shown_and_nothing_is_saved(client, netoffice):
    client.force_login(netoffice)
    zjj = Department.objects.get(code="zjj")
    response = client.post(reverse("issue_create"), registration_data(category="", title="", lead=zjj.pk, co=[zjj.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "与主办单位相同" in page and "该字段是必填项" in page
    assert not Issue.objects.exists()


def test_a_duplicate_reference_is_refused_on_the_form(client, netoffice):
    register(netoffice, ref="ZW-2026-Q3-01")
    client.force_login(netoffice)
    from feedback.models import Category

    response = client.post(
        reverse("issue_create"),
        registration_data(ref="ZW-2026-Q3-01", category=Category.objects.get(code="housing").pk),
    )
    assert "已存在" in response.content.decode()
    assert Issue.objects.count() == 1


def test_an_office_only_registers_in_its_own_channel(client, netoffice):
    client.force_login(netoffice)
    from feedback.models import Category

    response = client.post(
        reverse("issue_create"), registration_data(channel="citizen", category=Category.objects.get(code="housing").pk)
    )
    assert response.status_code == 200 and "渠道：选择一个有效的选项" in response.content.decode()
    assert not Issue.objects.exists()


def test_issue_list_filters_searches_sorts_and_paginates(client, netoffice):
    for n in range(30):
        register(netoffice, title=f"路灯不亮{n}", received_on=timezone.localdate() - datetime.timedelta(days=n))
    register(netoffice, title="天桥", category="transport")
    client.force_login(netoffice)
    page = client.get(reverse("issue_list")).content.decode()
    assert "第 1 / 2 页，共 31 条" in page
    assert "天桥" in client.get(reverse("issue_list"), {"q": "天桥"}).content.decode()
    assert "路灯" not in client.get(reverse("issue_list"), {"q": "天桥"}).content.decode()
    from feedback.models import Category

    filtered = client.get(reverse("issue_list"), {"category": Category.objects.get(code="transport").pk})
    assert "共 1 条" in filtered.content.decode()
    oldest_first = client.get(reverse("issue_list"), {"sort": "received_on", "q": "路灯"}).content.decode()
    assert oldest_first.index("路灯不亮29") < oldest_first.index("路灯不亮28")
    bad = client.get(reverse("issue_list"), {"received_from": "2026-05-01", "received_to": "2026-04-01"})
    assert "结束日期不能早于开始日期" in bad.content.decode()


@pytest.mark.parametrize("size", [5, 40])
def test_issue_list_and_detail_use_a_constant_number_of_queries(client, netoffice, django_assert_max_num_queries, size):
    for _ in range(size):
        assigned(netoffice, co=("jtj",))
    client.force_login(netoffice)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("issue_list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("inbox")).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(reverse("issue_detail", args=[Issue.objects.first().pk])).status_code == 200


def test_issue_list_exports_the_filtered_ledger_to_excel(client, netoffice):
    import io

    from openpyxl import load_workbook

    assigned(netoffice, title="天桥", co=("jtj",))
    register(netoffice, title="路灯")
    client.force_login(netoffice)
    response = client.get(reverse("issue_export"), {"q": "天桥"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("编号", "渠道", "受理日期")
    assert len(rows) == 2
    assert rows[1][6:9] == ("天桥", "县住房和城乡建设局", "县交通运输局")


def test_department_inbox_counts_and_tabs(client, netoffice, zjj_head):
    today = timezone.localdate()
    _, (overdue,) = assigned(netoffice, title="超期事项", assigned_on=today - datetime.timedelta(days=40))
    _, (_fresh,) = assigned(netoffice, title="新事项")
    _, (done,) = assigned(netoffice, title="已回复事项")
    services.accept_reply(
        actor=netoffice,
        reply=services.submit_reply(
            actor=zjj_head,
            assignment=done,
            file=reply_pdf(),
            signer_name="王",
            signer_title="局长",
            signed_on=today,
            result="resolved",
            summary="已解决",
        ),
    )
    services.acknowledge_assignment(actor=zjj_head, assignment=overdue)
    client.force_login(zjj_head)
    assert client.get(reverse("home")).url == reverse("inbox")
    response = client.get(reverse("inbox"))
    tabs = {key: count for key, _, count in response.context["tabs"]}
    assert tabs == {"pending": 1, "in_progress": 1, "due_soon": 0, "overdue": 1, "replied": 1}
    assert "新事项" in response.content.decode()
    overdue_page = client.get(reverse("inbox"), {"tab": "overdue"}).content.decode()
    assert "超期事项" in overdue_page and "新事项" not in overdue_page


def test_the_inbox_filters_by_channel_and_its_pages_keep_the_filter_and_the_search(
    client, netoffice, ezoneoffice, zjj_head, monkeypatch
):
    for n in range(3):
        assigned(netoffice, title=f"政网事项{n}", channel="net")
    assigned(ezoneoffice, title="政企事项", channel="enterprise")
    client.force_login(zjj_head)
    page = client.get(reverse("inbox"), {"channel": "enterprise"})
    assert {key: count for key, _, count in page.context["tabs"]}["pending"] == 1  # the tabs count the channel
    html = page.content.decode()
    assert "政企事项" in html and "政网事项" not in html
    assert 'href="?tab=overdue&amp;channel=enterprise"' in html
    monkeypatch.setattr("feedback.views.inbox.PAGE_SIZE", 2)
    first = client.get(reverse("inbox"), {"channel": "net", "q": "政网"}).content.decode()
    assert "page=2" in first and "channel=net&amp;q=%E6%94%BF%E7%BD%91&amp;page=2" in first
    second = client.get(reverse("inbox"), {"channel": "net", "q": "政网", "page": 2}).content.decode()
    assert second.count("政网事项") == 1 and "政企事项" not in second
    export = client.get(reverse("inbox_export"), {"channel": "enterprise"})
    assert export.status_code == 200


def test_department_acknowledges_and_uploads_a_reply_in_the_browser(client, netoffice, zjj_head):
    _issue, (a,) = assigned(netoffice)
    client.force_login(zjj_head)
    client.post(reverse("assignment_acknowledge", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == Assignment.Status.ACKNOWLEDGED
    response = client.post(
        reverse("reply_upload", args=[a.pk]),
        {
            "file": reply_pdf("住建局回复函.pdf"),
            "signer_name": "王建国",
            "signer_title": "局长",
            "signed_on": timezone.localdate().isoformat(),
            "result": "explained",
            "summary": "经测算暂不建设。",
        },
    )
    assert response.status_code == 302
    reply = SignedReply.objects.get()
    assert reply.original_name == "住建局回复函.pdf" and reply.submitted_by == zjj_head


def test_a_bad_upload_is_shown_on_the_form_and_nothing_is_stored(client, netoffice, zjj_head):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, (a,) = assigned(netoffice)
    client.force_login(zjj_head)
    response = client.post(
        reverse("reply_upload", args=[a.pk]),
        {
            "file": SimpleUploadedFile("letter.svg", b"<svg onload='alert(1)'/>"),
            "signer_name": "王",
            "signer_title": "局长",
            "signed_on": timezone.localdate().isoformat(),
            "result": "resolved",
            "summary": "x",
        },
    )
    assert response.status_code == 200
    assert "PDF、JPG 或 PNG" in response.content.decode()
    assert not SignedReply.objects.exists()


def test_office_reviews_follows_up_and_closes_in_the_browser(client, netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    first = services.submit_reply(
        actor=zjj_head,
        assignment=a,
        file=reply_pdf(),
        signer_name="王",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="resolved",
        summary="已解决",
    )
    client.force_login(netoffice)
    response = client.post(reverse("reply_return", args=[first.pk]), {"reason": ""}, follow=True)
    assert "理由" in response.content.decode()
    client.post(reverse("reply_return", args=[first.pk]), {"reason": "未加盖公章"})
    first.refresh_from_db()
    assert first.review_status == "returned"
    second = services.submit_reply(
        actor=zjj_head,
        assignment=a,
        file=reply_pdf(),
        signer_name="王",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="resolved",
        summary="已解决",
    )
    client.post(reverse("reply_accept", args=[second.pk]))
    client.post(reverse("issue_follow_up", args=[issue.pk]), {"satisfaction": "basically", "comment": "还行"})
    client.post(reverse("issue_close", args=[issue.pk]), {"closed_on": ""})
    issue.refresh_from_db()
    assert issue.status == Issue.Status.CLOSED and issue.satisfaction == "basically"
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    for label in ("登记", "交办", "提交书面回复", "退回重办", "审核通过", "回访", "办结"):
        assert label in page, label


def test_an_illegal_move_in_the_browser_shows_a_chinese_message(client, netoffice):
    issue, _ = assigned(netoffice)
    client.force_login(netoffice)
    response = client.post(reverse("issue_close", args=[issue.pk]), {}, follow=True)
    assert "当前状态为“办理中”，不能办结。" in response.content.decode()


def test_channel_pages_show_sessions_and_scoped_issues(client, netoffice, ezoneoffice):
    register(netoffice, title="政网诉求")
    client.force_login(ezoneoffice)
    for name in ("channels_net:home", "channels_enterprise:home", "channels_citizen:home"):
        page = client.get(reverse(name)).content.decode()
        assert "政网诉求" not in page
    client.force_login(netoffice)
    assert "政网诉求" in client.get(reverse("channels_net:home")).content.decode()


def test_pages_send_security_headers(client, netoffice):
    client.force_login(netoffice)
    response = client.get(reverse("issue_list"))
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_portal_has_an_icon(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert finders.find("img/favicon.svg")
    assert 'rel="icon"' in client.get("/accounts/login/").content.decode()
