"""并单: a suggestion from the public portal merged into a net issue already being handled — the
service, the triage page, the tracking page, the API, and two clerks triaging at once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from channels_net import services
from channels_net.models import PublicSubmission
from feedback import services as core
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Category, Department, HistoryEntry, Issue
from tests.concurrency import run_together
from tests.conftest import reply_pdf
from tests.factories import assigned, register

pytestmark = pytest.mark.django_db
SUBMISSIONS = "/api/v1/net/submissions/"


def suggestion(
    content: str = "学校门口上下学拥堵，建议修人行天桥，联系我13812345678",
    *,
    name: str = "洞口小哥",
    phone: str = "13912345678",
) -> PublicSubmission:
    return services.submit_suggestion(
        category=Category.objects.get(code="transport"),
        content=content,
        name=name,
        phone=phone,
        consent_to_publish=True,
    )


def closed_issue(netoffice: object, zjj_head: object) -> Issue:
    issue, (assignment,) = assigned(netoffice, title="已办结的老问题")
    reply = core.submit_reply(
        actor=zjj_head,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复",
    )
    core.accept_reply(actor=netoffice, reply=reply)
    core.record_follow_up(actor=netoffice, issue=issue, satisfaction="satisfied")
    return core.close_issue(actor=netoffice, issue=issue)


def api(user: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the service ------------------------------------------------------------------------------


def test_a_merged_suggestion_is_recorded_in_the_issues_history_with_personal_numbers_masked(netoffice: object) -> None:
    issue, _ = assigned(netoffice)
    submission = suggestion()
    merged = services.merge_submission(
        actor=netoffice, submission=submission, issue_ref=f"  {issue.ref.lower()} ", note="同一学校门口"
    )
    assert merged == issue
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.MERGED and submission.merged_into == issue
    assert submission.issue is None and submission.decided_by == netoffice and submission.decided_at
    entry = HistoryEntry.objects.get(issue=issue, action=services.MERGED_ACTION)
    assert entry.actor == netoffice
    assert "洞口小哥" in entry.note and "138****5678" in entry.note and "同一学校门口" in entry.note
    assert "13812345678" not in entry.note and "13912345678" not in entry.note
    issue.refresh_from_db()
    assert issue.status == Issue.Status.ASSIGNED  # the issue goes on as it was
    assert Issue.objects.count() == 1


@pytest.mark.parametrize(
    "ref, message",
    [
        ("", "请填写要并入的诉求编号"),
        ("ZW2026-99999", "未找到编号为“ZW2026-99999”的诉求"),
    ],
)
def test_a_blank_or_unknown_reference_is_refused_on_the_field(netoffice: object, ref: str, message: str) -> None:
    submission = suggestion()
    with pytest.raises(InvalidInput, match=message) as caught:
        services.merge_submission(actor=netoffice, submission=submission, issue_ref=ref)
    assert caught.value.field == "issue_ref"
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.RECEIVED


def test_a_closed_issue_or_another_channels_issue_cannot_take_a_suggestion(
    netoffice: object, ezoneoffice: object, zjj_head: object, admin_user: object
) -> None:
    closed = closed_issue(netoffice, zjj_head)
    enterprise = register(ezoneoffice, channel="enterprise", title="企业用工难")
    submission = suggestion()
    with pytest.raises(IllegalTransition, match="已办结，不能并入"):
        services.merge_submission(actor=netoffice, submission=submission, issue_ref=closed.ref)
    # Out of the net office's scope: the same answer as an unknown reference.
    with pytest.raises(InvalidInput, match=f"未找到编号为“{enterprise.ref}”的诉求，或您无权查看"):
        services.merge_submission(actor=netoffice, submission=submission, issue_ref=enterprise.ref)
    # An administrator sees it, and is told why it cannot be chosen.
    with pytest.raises(InvalidInput, match="只能并入政网直通车的诉求"):
        services.merge_submission(actor=admin_user, submission=submission, issue_ref=enterprise.ref)
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.RECEIVED
    assert not HistoryEntry.objects.filter(action=services.MERGED_ACTION).exists()


def test_only_the_net_office_or_an_administrator_merges(
    netoffice: object, ezoneoffice: object, zjj_head: object, leader: object
) -> None:
    issue, _ = assigned(netoffice)
    submission = suggestion()
    for outsider in (ezoneoffice, zjj_head, leader, None):
        with pytest.raises(NotPermitted):
            services.merge_submission(actor=outsider, submission=submission, issue_ref=issue.ref)
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.RECEIVED


def test_a_suggestion_already_triaged_is_refused_even_from_a_stale_copy(netoffice: object) -> None:
    issue, _ = assigned(netoffice)
    other, _ = assigned(netoffice, title="另一件诉求")
    submission = suggestion()
    stale = PublicSubmission.objects.get(pk=submission.pk)  # a second clerk's page, loaded before the merge
    services.merge_submission(actor=netoffice, submission=submission, issue_ref=issue.ref)
    with pytest.raises(IllegalTransition, match="该意见已处理过"):
        services.merge_submission(actor=netoffice, submission=stale, issue_ref=other.ref)
    with pytest.raises(IllegalTransition, match="该意见已处理过"):
        services.accept_submission(actor=netoffice, submission=stale)
    with pytest.raises(IllegalTransition, match="该意见已处理过"):
        services.decline_submission(actor=netoffice, submission=stale, reason="重复")
    accepted = suggestion()
    services.accept_submission(actor=netoffice, submission=accepted)
    with pytest.raises(IllegalTransition, match="该意见已处理过"):
        services.merge_submission(actor=netoffice, submission=accepted, issue_ref=issue.ref)
    submission.refresh_from_db()
    assert submission.merged_into == issue
    assert HistoryEntry.objects.filter(action=services.MERGED_ACTION).count() == 1
    assert not other.merged_submissions.exists()


def test_several_suggestions_may_join_one_issue(netoffice: object) -> None:
    issue, _ = assigned(netoffice)
    for _ in range(3):
        services.merge_submission(actor=netoffice, submission=suggestion(), issue_ref=issue.ref)
    assert issue.merged_submissions.count() == 3
    assert HistoryEntry.objects.filter(issue=issue, action=services.MERGED_ACTION).count() == 3


def test_a_reference_imported_in_lower_case_is_found_as_typed(netoffice: object) -> None:
    ledger = register(netoffice, ref="wx2024-old-7")
    services.merge_submission(actor=netoffice, submission=suggestion(), issue_ref=" wx2024-old-7 ")
    assert ledger.merged_submissions.count() == 1


# --- the pages --------------------------------------------------------------------------------


def test_the_triage_page_offers_the_open_issues_and_merges_by_reference(
    client: Client, netoffice: object, zjj_head: object
) -> None:
    issue, _ = assigned(netoffice)
    closed = closed_issue(netoffice, zjj_head)
    submission = suggestion()
    client.force_login(netoffice)
    html = client.get(reverse("channels_net:submission_list")).content.decode()
    assert "并入已有诉求" in html and f'<option value="{issue.ref}">' in html
    assert f'<option value="{closed.ref}">' not in html
    url = reverse("channels_net:submission_decide", args=[submission.pk, "merge"])
    page = client.post(url, {"issue_ref": closed.ref}, follow=True).content.decode()
    assert "已办结，不能并入" in page
    page = client.post(url, {"issue_ref": ""}, follow=True).content.decode()
    assert "请填写要并入的诉求编号" in page
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.RECEIVED
    page = client.post(url, {"issue_ref": issue.ref, "note": "同一路口"}, follow=True).content.decode()
    assert f"已并入诉求 {issue.ref}" in page and f'并入 <a href="/issues/{issue.pk}/">{issue.ref}</a>' in page
    page = client.post(url, {"issue_ref": issue.ref}, follow=True).content.decode()
    assert "该意见已处理过" in page
    detail = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert "并入网上征集意见" in detail and "同一路口" in detail


def test_the_triage_page_takes_few_queries(
    client: Client, netoffice: object, django_assert_max_num_queries: object
) -> None:
    issue, _ = assigned(netoffice)
    for n in range(6):
        assigned(netoffice, title=f"诉求{n}")
        suggestion()
    services.merge_submission(actor=netoffice, submission=suggestion(), issue_ref=issue.ref)
    services.accept_submission(actor=netoffice, submission=suggestion())
    client.force_login(netoffice)
    # 12, and 8 for the duplicate suggestions of all the pending submissions at once (a savepoint and the
    # trigram threshold around one lateral join, its release, the requesters, the pool, its townships).
    with django_assert_max_num_queries(20):
        html = client.get(reverse("channels_net:submission_list")).content.decode()
    assert html.count('<option value="ZW') == 8


def test_the_triage_endpoint_is_not_found_for_anyone_else(
    client: Client, netoffice: object, ezoneoffice: object, zjj_head: object
) -> None:
    issue, _ = assigned(netoffice)
    submission = suggestion()
    url = reverse("channels_net:submission_decide", args=[submission.pk, "merge"])
    for outsider in (ezoneoffice, zjj_head):
        client.force_login(outsider)
        assert client.post(url, {"issue_ref": issue.ref}).status_code == 404
    submission.refresh_from_db()
    assert submission.status == PublicSubmission.Status.RECEIVED


def test_the_tracking_page_follows_the_issue_without_showing_anything_private(
    client: Client, netoffice: object, zjj_head: object
) -> None:
    issue, (assignment,) = assigned(netoffice, name="另一位网民", phone="13700001111")
    submission = suggestion()
    services.merge_submission(actor=netoffice, submission=submission, issue_ref=issue.ref, note="内部说明")
    html = Client().get(reverse("public:track", args=[submission.code])).content.decode()
    assert "已并入同类诉求办理" in html and issue.ref in html and "办理中" in html
    for private in (
        "另一位网民",
        "13700001111",
        "137****1111",
        issue.title,
        "请尽快研究答复",
        "内部说明",
        "洞口小哥",
        "13912345678",
        "人行天桥",
    ):
        assert private not in html, private
    assert "查看该诉求的公开答复" not in html
    # Answered and published (with the first submitter's consent): the merged submitter may read it.
    reply = core.submit_reply(
        actor=zjj_head,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经测算暂不设置",
    )
    core.accept_reply(actor=netoffice, reply=reply)
    html = Client().get(reverse("public:track", args=[submission.code])).content.decode()
    assert "已回复待回访" in html and "查看该诉求的公开答复" not in html  # nothing published yet
    first = suggestion(name="原提交人")
    services.accept_submission(actor=netoffice, submission=first)
    first.refresh_from_db()
    answered = first.issue
    (first_assignment,) = core.assign_issue(actor=netoffice, issue=answered, lead=Department.objects.get(code="zjj"))
    reply = core.submit_reply(
        actor=zjj_head,
        assignment=first_assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经测算暂不设置",
    )
    core.accept_reply(actor=netoffice, reply=reply)
    services.publish_reply(actor=netoffice, submission=first, summary="经测算车流未达标准，暂不设置。")
    later = suggestion(name="后来的网民")
    services.merge_submission(actor=netoffice, submission=later, issue_ref=answered.ref)
    html = Client().get(reverse("public:track", args=[later.code])).content.decode()
    assert "查看该诉求的公开答复" in html and reverse("public:reply_detail", args=[answered.ref]) in html
    assert "原提交人" not in html


# --- the API ----------------------------------------------------------------------------------


def test_the_api_lists_suggestions_without_tracking_codes_and_with_masked_phones(
    netoffice: object, django_assert_max_num_queries: object
) -> None:
    issue, _ = assigned(netoffice)
    rows = [suggestion() for _ in range(4)]
    services.merge_submission(actor=netoffice, submission=rows[0], issue_ref=issue.ref)
    with django_assert_max_num_queries(8):
        body = api(netoffice).get(SUBMISSIONS).data
    assert body["count"] == 4
    first = body["results"][-1]
    assert first["phone"] == "139****5678" and first["merged_into_ref"] == issue.ref
    assert all(row.code not in str(body) for row in rows)
    assert api(netoffice).get(SUBMISSIONS, {"status": "received"}).data["count"] == 3


def test_the_api_merges_and_answers_400_with_the_reason(netoffice: object, zjj_head: object) -> None:
    issue, _ = assigned(netoffice)
    closed = closed_issue(netoffice, zjj_head)
    submission = suggestion()
    url = f"{SUBMISSIONS}{submission.pk}/merge/"
    client = api(netoffice)
    response = client.post(url, {}, format="json")
    assert response.status_code == 400 and "issue_ref" in response.data
    response = client.post(url, {"issue_ref": "ZW2026-99999"}, format="json")
    assert response.status_code == 400 and "未找到编号" in response.data["issue_ref"][0]
    response = client.post(url, {"issue_ref": closed.ref}, format="json")
    assert response.status_code == 400 and "已办结" in response.data["issue_ref"][0]
    response = client.post(url, {"issue_ref": issue.ref, "note": "同一路口"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "merged" and response.data["merged_into"] == issue.pk
    assert response.data["status_label"] == "已并入同类诉求办理"
    again = client.post(url, {"issue_ref": issue.ref}, format="json")
    assert again.status_code == 400 and again.data == {"detail": "该意见已处理过。"}
    assert client.post(f"{SUBMISSIONS}{submission.pk}/decline/", {"reason": "重复"}, format="json").status_code == 400


def test_the_api_accepts_and_declines_too(netoffice: object) -> None:
    to_accept, to_decline = suggestion(), suggestion()
    client = api(netoffice)
    response = client.post(f"{SUBMISSIONS}{to_accept.pk}/accept/", {"title": "学校门口人行天桥"}, format="json")
    assert response.status_code == 201 and response.data["issue_ref"].startswith("ZW")
    assert Issue.objects.get(ref=response.data["issue_ref"]).title == "学校门口人行天桥"
    response = client.post(f"{SUBMISSIONS}{to_decline.pk}/decline/", {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.data
    response = client.post(f"{SUBMISSIONS}{to_decline.pk}/decline/", {"reason": "请拨打13812345678"}, format="json")
    assert response.status_code == 200 and response.data["decline_reason"] == "请拨打138****5678"


def test_the_api_is_for_the_net_office_and_administrators_only(
    netoffice: object, ezoneoffice: object, zjj_head: object, leader: object, admin_user: object
) -> None:
    issue, _ = assigned(netoffice)
    submission = suggestion()
    for outsider in (ezoneoffice, zjj_head, leader):  # out of scope is 404, never 403 (issue 15)
        assert api(outsider).get(SUBMISSIONS).status_code == 404
        assert (
            api(outsider)
            .post(f"{SUBMISSIONS}{submission.pk}/merge/", {"issue_ref": issue.ref}, format="json")
            .status_code
            == 404
        )
    assert APIClient().get(SUBMISSIONS).status_code in (401, 403)
    assert (
        api(netoffice).post(f"{SUBMISSIONS}999999/merge/", {"issue_ref": issue.ref}, format="json").status_code == 404
    )
    assert (
        api(admin_user)
        .post(f"{SUBMISSIONS}{submission.pk}/merge/", {"issue_ref": issue.ref}, format="json")
        .status_code
        == 200
    )


# --- two clerks at once (PostgreSQL row locks) ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_triaging_one_suggestion_at_once_leave_one_decision(
    reference: None, netoffice: object, admin_user: object
) -> None:
    issue, _ = assigned(netoffice)
    other, _ = assigned(netoffice, title="另一件诉求")
    for n in range(8):
        submission = suggestion(f"第{n}条意见")
        calls = [
            lambda s=submission: services.merge_submission(actor=netoffice, submission=s, issue_ref=issue.ref),
            lambda s=submission: services.merge_submission(actor=admin_user, submission=s, issue_ref=other.ref),
            lambda s=submission: services.accept_submission(actor=netoffice, submission=s),
            lambda s=submission: services.decline_submission(actor=admin_user, submission=s, reason="重复"),
        ]
        outcomes = run_together(*calls)
        refused = [o for o in outcomes if isinstance(o, IllegalTransition)]
        assert len(refused) == 3 and all(o.message == "该意见已处理过。" for o in refused), outcomes
        submission.refresh_from_db()
        assert submission.status != PublicSubmission.Status.RECEIVED
        merged = HistoryEntry.objects.filter(action=services.MERGED_ACTION, note__contains=f"第{n}条意见").count()
        assert merged == (1 if submission.status == PublicSubmission.Status.MERGED else 0)
    # Every accepted suggestion made exactly one issue.
    accepted = PublicSubmission.objects.filter(status=PublicSubmission.Status.ACCEPTED).count()
    assert Issue.objects.count() == 2 + accepted


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_merge_racing_the_closure_of_its_issue_never_joins_a_closed_issue(
    reference: None, netoffice: object, zjj_head: object
) -> None:
    for n in range(6):
        issue, (assignment,) = assigned(netoffice, title=f"诉求{n}")
        reply = core.submit_reply(
            actor=zjj_head,
            assignment=assignment,
            file=reply_pdf(),
            signer_name="王局长",
            signer_title="局长",
            signed_on=timezone.localdate(),
            result="explained",
            summary="已答复",
        )
        core.accept_reply(actor=netoffice, reply=reply)
        core.record_follow_up(actor=netoffice, issue=issue, satisfaction="satisfied")
        submission = suggestion(f"第{n}条意见")
        outcomes = run_together(
            lambda s=submission, i=issue: services.merge_submission(actor=netoffice, submission=s, issue_ref=i.ref),
            lambda i=issue: core.close_issue(actor=netoffice, issue=i),
        )
        assert isinstance(outcomes[1], Issue), outcomes
        submission.refresh_from_db()
        if isinstance(outcomes[0], IllegalTransition):  # the closure came first
            assert submission.status == PublicSubmission.Status.RECEIVED
        else:  # the merge came first: recorded before the closure
            assert submission.status == PublicSubmission.Status.MERGED
            actions = list(HistoryEntry.objects.filter(issue=issue).values_list("action", flat=True))
            assert actions.index(services.MERGED_ACTION) < actions.index("close")
