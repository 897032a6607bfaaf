"""The 待审核 work list (issue 13 §1): the office is told of every (re-)submitted reply, and the ledger,
its export and the API list the replies waiting for review, the longest waiting first, with the wait
in working days of the county calendar."""

from __future__ import annotations

import datetime
import io
from typing import Any

import chinese_calendar
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from feedback import selectors, services
from feedback.access import Role
from feedback.models import Assignment, Notification, SignedReply
from feedback.services import notifications
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def at(day: datetime.date, hour: int = 10) -> Any:
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI), tick=False)


def submit(member: Any, assignment: Assignment, signed_on: datetime.date) -> SignedReply:
    return services.submit_reply(
        actor=member,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=signed_on,
        result="explained",
        summary="经研究，答复如下。",
    )


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the notice ---------------------------------------------------------------------------------


def test_the_channel_office_is_told_of_a_submission_and_again_of_a_resubmission(netoffice, zjj_head, ezoneoffice):
    second_clerk = make_user("netoffice2", role=Role.OFFICE, department="wxb")
    second_clerk.email = "clerk@example.cn"
    second_clerk.save()
    issue, (a,) = assigned(netoffice)

    first = submit(zjj_head, a, a.assigned_on)
    notices = Notification.objects.filter(kind="reply_submitted-1")
    assert set(notices.values_list("recipient__username", flat=True)) == {"netoffice", "netoffice2"}
    assert all("待审核" in n.title and issue.ref in n.body for n in notices)
    assert not Notification.objects.filter(recipient=ezoneoffice).exists()  # another channel's office

    services.return_reply(actor=netoffice, reply=first, reason="未加盖公章")
    submit(zjj_head, a, a.assigned_on)
    again = Notification.objects.filter(kind="reply_submitted-2")
    assert again.count() == 2 and all("重新提交" in n.title for n in again)

    assert notifications.send_pending_emails() >= 1
    assert any("clerk@example.cn" in m.to and "待审核" in m.subject for m in mail.outbox)


def test_a_co_handlers_submission_is_announced_as_such(netoffice, zjj_head, jyj_head):
    _, (_, co) = assigned(netoffice, co=("jyj",))
    submit(jyj_head, co, co.assigned_on)
    note = Notification.objects.get(recipient=netoffice, kind="reply_submitted-1")
    assert "县教育局（协办）" in note.body


# --- the list -------------------------------------------------------------------------------------


def test_the_queue_is_oldest_first_with_co_handlers_and_waits_in_working_days(netoffice, zjj_head, jyj_head):
    start = datetime.date(2026, 9, 28)
    with at(start):
        older, (lead_a, co_a) = assigned(netoffice, co=("jyj",), title="老旧小区加装电梯")
        newer, (lead_b,) = assigned(netoffice, title="农贸市场噪声")
    with at(datetime.date(2026, 9, 29)):
        submit(jyj_head, co_a, start)  # the co-handler first
    with at(datetime.date(2026, 9, 30)):
        submit(zjj_head, lead_b, start)
    with at(datetime.date(2026, 9, 30), hour=15):
        submit(zjj_head, lead_a, start)

    today = datetime.date(2026, 10, 12)  # after the National Day holidays and a make-up Saturday
    rows = selectors.review_queue(netoffice, {}, today=today)

    assert [(r.issue.pk, r.assignment.pk) for r in rows] == [
        (older.pk, co_a.pk),
        (newer.pk, lead_b.pk),
        (older.pk, lead_a.pk),
    ]

    def independent(since: datetime.date) -> int:  # the package the calendar is seeded from
        return sum(
            chinese_calendar.is_workday(since + datetime.timedelta(days=n)) for n in range(1, (today - since).days + 1)
        )

    assert [r.waited for r in rows] == [
        independent(datetime.date(2026, 9, 29)),
        independent(datetime.date(2026, 9, 30)),
        independent(datetime.date(2026, 9, 30)),
    ]
    weekdays = sum((datetime.date(2026, 9, 29) + datetime.timedelta(days=n)).weekday() < 5 for n in range(1, 14))
    assert rows[0].waited != weekdays  # the holidays and the make-up Saturday are the calendar's, not weekdays'
    assert selectors.review_count(netoffice) == 3


def test_a_reviewed_reply_leaves_the_queue_and_a_returned_one_comes_back_when_resubmitted(netoffice, zjj_head):
    _, (a,) = assigned(netoffice)
    reply = submit(zjj_head, a, a.assigned_on)
    assert selectors.review_count(netoffice) == 1
    services.return_reply(actor=netoffice, reply=reply, reason="无负责人签字")
    assert selectors.review_count(netoffice) == 0
    second = submit(zjj_head, a, a.assigned_on)
    assert [r.reply.pk for r in selectors.review_queue(netoffice, {})] == [second.pk]
    services.accept_reply(actor=netoffice, reply=second)
    assert selectors.review_queue(netoffice, {}) == [] and selectors.review_count(netoffice) == 0


def test_the_queue_is_scoped_like_everything_else(netoffice, ezoneoffice, zjj_head):
    _, (a,) = assigned(netoffice)
    submit(zjj_head, a, a.assigned_on)
    assert selectors.review_count(ezoneoffice) == 0 and selectors.review_queue(ezoneoffice, {}) == []
    assert api(ezoneoffice).get("/api/v1/issues/?awaiting_review=true").json()["count"] == 0


# --- the ledger page -------------------------------------------------------------------------------


def test_the_ledger_has_a_counted_tab_and_marks_the_issue_state(
    client, netoffice, zjj_head, django_assert_max_num_queries
):
    waiting, (a,) = assigned(netoffice, title="学校门口修建人行天桥")
    quiet, _ = assigned(netoffice, title="路灯不亮")
    submit(zjj_head, a, a.assigned_on)
    client.force_login(netoffice)

    page = client.get(reverse("issue_list")).content.decode()
    assert 'data-tab="awaiting-review">待审核 <span class="count">1</span>' in page
    assert page.count('st-awaiting-review">有回复待审核') == 1  # on the waiting issue's row only

    with django_assert_max_num_queries(14):
        tab = client.get(reverse("issue_list"), {"awaiting_review": "1"}).content.decode()
    assert 'id="review-queue"' in tab and waiting.ref in tab and quiet.ref not in tab
    assert "县住房和城乡建设局（主办）" in tab and "今天提交" in tab

    detail = client.get(reverse("issue_detail", args=[waiting.pk])).content.decode()
    assert 'id="awaiting-review"' in detail


def test_the_ledger_export_honours_the_tab(client, netoffice, zjj_head):
    waiting, (a,) = assigned(netoffice, title="学校门口修建人行天桥")
    assigned(netoffice, title="路灯不亮")
    submit(zjj_head, a, a.assigned_on)
    client.force_login(netoffice)
    response = client.get(reverse("issue_export"), {"awaiting_review": "1"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert waiting.ref in cells and "路灯不亮" not in cells


# --- the API --------------------------------------------------------------------------------------


def test_the_api_filter_lists_waiting_issues_oldest_reply_first(netoffice, zjj_head, jyj_head):
    with at(datetime.date(2026, 11, 2)):
        first, (a1,) = assigned(netoffice, title="一")
        second, (a2, co2) = assigned(netoffice, co=("jyj",), title="二")
        third, _ = assigned(netoffice, title="三")
        submit(zjj_head, a2, a2.assigned_on)
    with at(datetime.date(2026, 11, 3)):
        submit(jyj_head, co2, co2.assigned_on)
        submit(zjj_head, a1, a1.assigned_on)
        body = api(netoffice).get("/api/v1/issues/?awaiting_review=true").json()
        others = api(netoffice).get("/api/v1/issues/?awaiting_review=false").json()

    assert [r["ref"] for r in body["results"]] == [second.ref, first.ref]
    assert body["count"] == 2 and all(r["awaiting_review"] for r in body["results"])
    assert [r["ref"] for r in others["results"]] == [third.ref]
    assert others["results"][0]["awaiting_review"] is False


@pytest.mark.parametrize("value", ["yes", "2", "真"])
def test_an_invalid_filter_value_is_400_with_a_message(netoffice, value):
    response = api(netoffice).get("/api/v1/issues/", {"awaiting_review": value})
    assert response.status_code == 400
    assert "awaiting_review 只能为 true 或 false" in str(response.json())


def test_the_api_records_a_reason_for_no_follow_up_and_reports_it(netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    services.accept_reply(actor=netoffice, reply=submit(zjj_head, a, a.assigned_on))
    client = api(netoffice)
    refused = client.post(f"/api/v1/issues/{issue.pk}/close/")
    assert refused.status_code == 400 and "尚未回访" in str(refused.json())

    missing = client.post(f"/api/v1/issues/{issue.pk}/follow-up-skipped/", {"reason": "other"})
    assert missing.status_code == 400 and "note" in missing.json()

    done = client.post(f"/api/v1/issues/{issue.pk}/follow-up-skipped/", {"reason": "诉求人拒绝回访"})
    assert done.status_code == 200
    assert (done.json()["follow_up_skipped"], done.json()["follow_up_skipped_label"]) == ("refused", "诉求人拒绝回访")
    assert client.post(f"/api/v1/issues/{issue.pk}/close/").json()["status"] == "closed"

    summary = client.get("/api/v1/stats/summary/").json()
    assert (summary["closed"], summary["rated"], summary["follow_up_skipped"]) == (1, 0, 1)
    listed = client.get(summary["lists"]["follow_up_skipped"]).json()
    assert listed["count"] == summary["follow_up_skipped"] and listed["results"][0]["ref"] == issue.ref


# --- the issue page ---------------------------------------------------------------------------------


def test_the_issue_page_records_a_reason_and_then_closes(client, netoffice, ezoneoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    services.accept_reply(actor=netoffice, reply=submit(zjj_head, a, a.assigned_on))
    client.force_login(netoffice)
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert 'id="closure-rule"' in page and 'id="follow-up-skip"' in page

    refused = client.post(reverse("issue_close", args=[issue.pk]), follow=True).content.decode()
    assert "尚未回访，不能办结" in refused
    missing = client.post(
        reverse("issue_follow_up_skipped", args=[issue.pk]), {"follow_up_skipped": "other"}, follow=True
    ).content.decode()
    assert "原因选“其他”时必须写明具体情况" in missing
    done = client.post(
        reverse("issue_follow_up_skipped", args=[issue.pk]),
        {"follow_up_skipped": "refused", "follow_up_skip_note": "<b>不接受回访</b>"},
        follow=True,
    ).content.decode()
    assert "已登记未能回访的原因" in done and "诉求人拒绝回访：&lt;b&gt;不接受回访&lt;/b&gt;" in done  # escaped
    assert 'id="closure-rule"' not in done and "登记未能回访" in done  # the timeline names it

    client.post(reverse("issue_close", args=[issue.pk]))
    issue.refresh_from_db()
    assert issue.status == "closed"
    closed_page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert 'id="follow-up"' not in closed_page and 'id="follow-up-skip"' not in closed_page  # only 重办 now

    client.force_login(ezoneoffice)  # another channel's office: not found
    assert (
        client.post(reverse("issue_follow_up_skipped", args=[issue.pk]), {"follow_up_skipped": "refused"}).status_code
        == 404
    )


def test_the_follow_up_form_stays_until_closure(client, netoffice, zjj_head):
    issue, (a,) = assigned(netoffice)
    services.accept_reply(actor=netoffice, reply=submit(zjj_head, a, a.assigned_on))
    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="unreachable")
    client.force_login(netoffice)
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert 'id="follow-up"' in page and "回访未联系上，还不能办结" in page
    client.post(reverse("issue_follow_up", args=[issue.pk]), {"satisfaction": "satisfied"})
    issue.refresh_from_db()
    assert issue.satisfaction == "satisfied"
    assert list(issue.history.filter(action="follow_up").values_list("note", flat=True)) == ["未联系上", "满意"]
