"""并单 and 拆分 through the API, and merged requesters hearing their lead's answer (issue 19):
the merged issue's timeline, the office's call-back notice, the 政网 tracking page."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from channels_net import services as net
from channels_net.models import PublicSubmission
from feedback import services
from feedback.models import Category, HistoryEntry, Issue, Notification
from feedback.services.merging import pass_on_answer
from tests.feedback.test_merging import assign, new
from tests.feedback.test_rollup import reply

pytestmark = pytest.mark.django_db

D = datetime.date


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def merge_url(issue: Issue) -> str:
    return f"/api/v1/issues/{issue.pk}/merge/"


def split_url(issue: Issue) -> str:
    return f"/api/v1/issues/{issue.pk}/split/"


# --- the endpoints ----------------------------------------------------------------------------------


def test_the_office_merges_through_the_api_and_the_issue_names_its_lead(netoffice):
    lead, twin = new(netoffice), new(netoffice, name="网民乙")
    assign(netoffice, lead)
    answer = api(netoffice).post(merge_url(twin), {"into": lead.pk, "note": "同一问题"}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["merged_into"] == lead.pk and answer.json()["status"] == "assigned"
    assert Issue.objects.get(pk=twin.pk).merged_into_id == lead.pk
    assert "同一问题" in HistoryEntry.objects.get(issue=twin, action="merged").note
    assert api(netoffice).get(f"/api/v1/issues/{lead.pk}/").json()["merged_into"] is None


def test_an_issue_out_of_scope_is_404_and_a_reader_is_403(netoffice, ezoneoffice, leader):
    lead, twin = new(netoffice), new(netoffice)
    assert api(ezoneoffice).post(merge_url(twin), {"into": lead.pk}, format="json").status_code == 404
    assert api(ezoneoffice).post(split_url(twin), {"reason": "不是同一件"}, format="json").status_code == 404
    assert api(leader).post(merge_url(twin), {"into": lead.pk}, format="json").status_code == 403
    assert Issue.objects.get(pk=twin.pk).merged_into_id is None


@pytest.mark.parametrize(
    "body, expected",
    [
        ({}, {"into": ["请填写要并入的主诉求 id。"]}),
        ({"into": "abc"}, {"into": ["主诉求 id 应为整数。"]}),
        ({"into": 999999}, {"into": ["未找到 id 为 999999 的诉求，或您无权查看。"]}),
    ],
)
def test_a_missing_or_unknown_lead_is_a_chinese_400(netoffice, body, expected):
    twin = new(netoffice)
    answer = api(netoffice).post(merge_url(twin), body, format="json")
    assert (answer.status_code, answer.json()) == (400, expected)


def test_a_lead_the_office_cannot_see_is_the_same_400_as_an_unknown_one(netoffice, admin_user):
    twin, other = new(netoffice), new(admin_user, channel="enterprise")
    answer = api(netoffice).post(merge_url(twin), {"into": other.pk}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"into": [f"未找到 id 为 {other.pk} 的诉求，或您无权查看。"]}


def test_a_refused_merge_writes_nothing(netoffice):
    lead, twin, third = new(netoffice), new(netoffice), new(netoffice)
    services.merge_issue(actor=netoffice, issue=twin, into=lead)
    before = HistoryEntry.objects.count()
    answer = api(netoffice).post(merge_url(third), {"into": twin.pk}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"into": [f"{twin.ref} 本身已并入 {lead.ref}，请直接并入 {lead.ref}。"]}
    assert HistoryEntry.objects.count() == before and Issue.objects.get(pk=third.pk).merged_into_id is None


def test_the_office_splits_through_the_api_with_a_reason(netoffice):
    lead, twin = new(netoffice), new(netoffice)
    assign(netoffice, lead)
    services.merge_issue(actor=netoffice, issue=twin, into=lead)
    refused = api(netoffice).post(split_url(twin), {"reason": " "}, format="json")
    assert (refused.status_code, refused.json()) == (400, {"reason": ["请写明理由。"]})
    answer = api(netoffice).post(split_url(twin), {"reason": "不是同一个村"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["merged_into"], answer.json()["status"]) == (None, "registered")
    not_merged = api(netoffice).post(split_url(lead), {"reason": "试试"}, format="json")
    assert (not_merged.status_code, not_merged.json()) == (400, {"detail": "该诉求没有并单，无需拆分。"})


def test_the_schema_documents_merge_and_split(netoffice):
    schema = api(netoffice).get("/api/v1/schema/?format=json").json()
    merge = schema["paths"]["/api/v1/issues/{id}/merge/"]["post"]
    split = schema["paths"]["/api/v1/issues/{id}/split/"]["post"]
    assert merge["summary"] == "并单" and split["summary"] == "拆分"
    assert {"200", "400", "403", "404"} <= set(merge["responses"])


# --- merged requesters hear the answer ----------------------------------------------------------------


def answered_pair(netoffice, *, twin_channel="net"):
    day = D(2026, 11, 2)
    lead = new(netoffice, received_on=day)
    twin = new(
        netoffice if twin_channel == "net" else None,
        channel=twin_channel,
        received_on=day,
        name="网民乙",
        phone="13900001111",
    )
    a = assign(netoffice, lead, on_day=day)
    services.merge_issue(actor=None, issue=twin, into=lead)
    return lead, twin, a


def test_when_the_leads_reply_is_accepted_the_merged_timeline_carries_it(netoffice):
    lead, twin, a = answered_pair(netoffice)
    assert not HistoryEntry.objects.filter(issue=twin, action="lead_answered").exists()
    reply(a, D(2026, 11, 5))
    note = HistoryEntry.objects.get(issue=twin, action="lead_answered").note
    assert note.startswith(f"主诉求 {lead.ref} 已书面答复：")
    assert "县住房和城乡建设局（解释说明，2026-11-05 签发）：答复如下。" in note
    assert not HistoryEntry.objects.filter(issue=lead, action="lead_answered").exists()


def test_the_office_is_told_once_which_merged_requesters_to_call_back(netoffice, ezoneoffice):
    lead, twin, a = answered_pair(netoffice)
    enterprise_twin = new(None, channel="enterprise", received_on=D(2026, 11, 3), name="某电子公司")
    services.merge_issue(actor=None, issue=enterprise_twin, into=lead)
    reply(a, D(2026, 11, 5))
    (mine,) = Notification.objects.filter(recipient=netoffice, kind="merged_callback")
    assert f"{twin.ref} 网民乙（139****1111）" in mine.body and "13900001111" not in mine.body
    assert enterprise_twin.ref not in mine.body  # each channel's office calls its own requesters
    (theirs,) = Notification.objects.filter(recipient=ezoneoffice, kind="merged_callback")
    assert f"{enterprise_twin.ref} 某电子公司" in theirs.body and twin.ref not in theirs.body
    pass_on_answer(actor=None, lead=Issue.objects.get(pk=lead.pk))  # a rerun sends nothing twice
    assert Notification.objects.filter(kind="merged_callback").count() == 2


def test_a_lead_with_nothing_merged_tells_nobody(netoffice):
    day = D(2026, 11, 2)
    lead = new(netoffice, received_on=day)
    reply(assign(netoffice, lead, on_day=day), D(2026, 11, 5))
    assert not Notification.objects.filter(kind__startswith="merged_callback").exists()


def test_a_request_merged_into_an_answered_lead_hears_the_answer_at_once(netoffice):
    lead, twin, a = answered_pair(netoffice)
    reply(a, D(2026, 11, 5))
    late = new(netoffice, received_on=D(2026, 11, 6), name="网民丙")
    services.merge_issue(actor=netoffice, issue=late, into=Issue.objects.get(pk=lead.pk))
    assert "解释说明" in HistoryEntry.objects.get(issue=late, action="lead_answered").note
    (told,) = Notification.objects.filter(recipient=netoffice, kind=f"merged_callback:{late.pk}")
    assert late.ref in told.body and twin.ref not in told.body


def test_the_leads_follow_up_and_closure_reach_the_merged_timeline(netoffice):
    lead, twin, a = answered_pair(netoffice)
    reply(a, D(2026, 11, 5))
    services.record_follow_up(
        actor=netoffice,
        issue=Issue.objects.get(pk=lead.pk),
        satisfaction="satisfied",
        comment="满意",
        on=D(2026, 11, 6),
    )
    twin.refresh_from_db()
    assert twin.satisfaction == "satisfied"
    assert HistoryEntry.objects.get(issue=twin, action="follow_up").note.startswith(f"随主诉求 {lead.ref}")


# --- the 政网 tracking page ------------------------------------------------------------------------------


def submitted(netoffice) -> tuple[PublicSubmission, Issue]:
    submission = net.submit_suggestion(
        category=Category.objects.get(code="housing"), content="红星村经常停水，请检修水管。", name="水务观察员"
    )
    issue = net.accept_submission(actor=netoffice, submission=submission)
    return PublicSubmission.objects.get(pk=submission.pk), issue


def test_a_netizens_tracking_page_follows_the_lead_and_shows_its_answer(client, netoffice):
    day = timezone.localdate()
    submission, issue = submitted(netoffice)
    lead = new(netoffice, received_on=day - datetime.timedelta(days=3))
    a = assign(netoffice, lead, on_day=day - datetime.timedelta(days=3))
    services.merge_issue(actor=netoffice, issue=issue, into=lead)
    page = client.get(f"/public/track/{submission.code}/").content.decode()
    assert f"{lead.ref}（您反映的问题与该诉求相同" in page and 'id="answers"' not in page
    reply(a, day)
    page = client.get(f"/public/track/{submission.code}/").content.decode()
    assert "县住房和城乡建设局：解释说明" in page
    assert "答复如下。" not in page  # the summary reaches the public only redacted and published


def test_a_submission_merged_into_an_issue_that_was_merged_follows_the_lead(client, netoffice):
    submission = net.submit_suggestion(
        category=Category.objects.get(code="housing"), content="红星村又停水了。", name="路人"
    )
    day = timezone.localdate()
    lead, middle = new(netoffice, received_on=day), new(netoffice, received_on=day)
    a = assign(netoffice, lead, on_day=day)
    net.merge_submission(actor=netoffice, submission=submission, issue_ref=middle.ref)
    services.merge_issue(actor=netoffice, issue=middle, into=lead)
    reply(a, day)
    page = client.get(f"/public/track/{submission.code}/").content.decode()
    assert f"{lead.ref}（您反映的问题已有同类诉求正在办理" in page and "县住房和城乡建设局：解释说明" in page


# --- public suggestions merged on the 政网 triage page are called back too (issue 19) -----------------


def public_suggestion(name: str = "洞口小哥", phone: str = "13912345678") -> PublicSubmission:
    return net.submit_suggestion(
        category=Category.objects.get(code="transport"),
        content="红星村供水不正常，隔几天就没水",
        name=name,
        phone=phone,
        consent_to_publish=False,
    )


def test_suggestions_merged_into_the_lead_or_its_twin_are_in_the_call_back_notice(netoffice):
    lead, twin, a = answered_pair(netoffice)
    into_lead, into_twin = public_suggestion(), public_suggestion(name="", phone="")
    net.merge_submission(actor=netoffice, submission=into_lead, issue_ref=lead.ref)
    net.merge_submission(actor=netoffice, submission=into_twin, issue_ref=twin.ref)
    reply(a, D(2026, 11, 5))
    (notice,) = Notification.objects.filter(recipient=netoffice, kind="merged_callback")
    day = f"{timezone.localtime(into_lead.submitted_at):%Y-%m-%d}"
    assert f"{twin.ref} 网民乙（139****1111）" in notice.body
    assert f"网上征集意见（{day} 提交） 洞口小哥（139****5678）" in notice.body and "13912345678" not in notice.body
    assert f"网上征集意见（{day} 提交） 匿名网民（未留电话）" in notice.body
    assert "3 位并单诉求人待告知" in notice.title
    pass_on_answer(actor=None, lead=Issue.objects.get(pk=lead.pk))  # a rerun sends nothing twice
    assert Notification.objects.filter(recipient=netoffice, kind__startswith="merged_callback").count() == 1


def test_a_lead_with_only_suggestions_merged_still_has_them_called_back(netoffice):
    day = D(2026, 11, 2)
    lead = new(netoffice, received_on=day)
    a = assign(netoffice, lead, on_day=day)
    net.merge_submission(actor=netoffice, submission=public_suggestion(), issue_ref=lead.ref)
    reply(a, D(2026, 11, 5))
    (notice,) = Notification.objects.filter(recipient=netoffice, kind="merged_callback")
    assert "洞口小哥（139****5678）" in notice.body and "1 位并单诉求人待告知" in notice.title


def test_a_suggestion_merged_into_an_issue_already_answered_is_called_back_at_once(netoffice):
    day = D(2026, 11, 2)
    lead = new(netoffice, received_on=day)
    reply(assign(netoffice, lead, on_day=day), D(2026, 11, 5))
    assert not Notification.objects.filter(kind__startswith="merged_callback").exists()
    late = public_suggestion()
    net.merge_submission(actor=netoffice, submission=late, issue_ref=lead.ref)
    (notice,) = Notification.objects.filter(recipient=netoffice, kind=f"merged_callback:submission-{late.pk}")
    assert "洞口小哥（139****5678）" in notice.body and "答复：" in notice.body
