"""并单 and 拆分 (issue 19): the services, the issue page, the register form, and the figures with merged issues."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from feedback import services, tasks
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.figures import statistics
from feedback.models import Assignment, Category, DeadlineStep, Department, HistoryEntry, Issue
from tests.conftest import make_user, reply_pdf
from tests.feedback.test_figure_lists import assert_every_list_counts_its_figure
from tests.feedback.test_rollup import dept, on, reply

pytestmark = pytest.mark.django_db

D = datetime.date


def new(actor, title="红星村自来水经常停水", *, channel="net", phone="", received_on=None, name="网民甲") -> Issue:
    return services.register_issue(
        actor=actor,
        channel=channel,
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name=name, phone=phone),
        title=title,
        content=f"{title}，江口镇红星村，请尽快解决。",
        received_on=received_on or timezone.localdate(),
    )


def assign(actor, issue, lead="zjj", on_day=None) -> Assignment:
    (a,) = services.assign_issue(actor=actor, issue=issue, lead=dept(lead), co=[], assigned_on=on_day)
    return a


def actions(issue) -> list[str]:
    return list(HistoryEntry.objects.filter(issue=issue).order_by("id").values_list("action", flat=True))


# --- the services ---------------------------------------------------------------------------------


def test_merging_links_the_issue_to_its_lead_and_records_it_in_both_timelines(netoffice):
    lead, twin = new(netoffice), new(netoffice, name="网民乙")
    assign(netoffice, lead)
    services.merge_issue(actor=netoffice, issue=twin, into=lead, note="同一问题")
    twin.refresh_from_db()
    assert twin.merged_into == lead and twin.merged_at is not None
    assert twin.status == Issue.Status.ASSIGNED  # follows the lead
    assert twin.requester.name == "网民乙" and twin.channel == "net"  # its own requester and channel stay
    note = HistoryEntry.objects.get(issue=twin, action="merged").note
    assert note.startswith(f"已并入 {lead.ref}") and "同一问题" in note
    assert HistoryEntry.objects.get(issue=lead, action="merge_received").note.startswith(twin.ref)


def test_merging_withdraws_the_unreplied_assignments_and_their_reminders(netoffice):
    lead, twin = new(netoffice), new(netoffice)
    a = assign(netoffice, twin)
    assert DeadlineStep.objects.filter(assignment=a, taken_at__isnull=True).exists()
    services.merge_issue(actor=netoffice, issue=twin, into=lead)
    a.refresh_from_db()
    assert a.status == Assignment.Status.WITHDRAWN
    assert not DeadlineStep.objects.filter(assignment=a, taken_at__isnull=True).exists()
    assert not Assignment.objects.filter(issue=twin).live().exists()


def test_an_issue_with_a_reply_waiting_or_accepted_is_not_merged(netoffice, zjj_head):
    lead, twin = new(netoffice), new(netoffice)
    a = assign(netoffice, twin)
    services.submit_reply(
        actor=zjj_head,
        assignment=a,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="答复。",
    )
    with pytest.raises(IllegalTransition, match="书面回复"):
        services.merge_issue(actor=netoffice, issue=twin, into=lead)
    assert Issue.objects.get(pk=twin.pk).merged_into is None


@pytest.mark.parametrize(
    "case, error",
    [
        ("itself", InvalidInput),
        ("twice", IllegalTransition),
        ("into a merged one", InvalidInput),
        ("a lead", IllegalTransition),
        ("closed", IllegalTransition),
    ],
)
def test_merges_that_make_no_sense_are_refused(netoffice, case, error):
    lead, twin, third = new(netoffice), new(netoffice), new(netoffice)
    if case == "itself":
        issue, into = twin, twin
    elif case == "twice":
        services.merge_issue(actor=netoffice, issue=twin, into=lead)
        issue, into = twin, third
    elif case == "into a merged one":
        services.merge_issue(actor=netoffice, issue=twin, into=lead)
        issue, into = third, twin
    elif case == "a lead":
        services.merge_issue(actor=netoffice, issue=twin, into=lead)
        issue, into = lead, third
    else:
        Issue.objects.filter(pk=twin.pk).update(status="closed", closed_on=twin.received_on)
        issue, into = twin, lead
    with pytest.raises(error):
        services.merge_issue(actor=netoffice, issue=issue, into=into)


def test_only_the_channels_office_merges_and_only_into_what_it_can_see(netoffice, ezoneoffice, leader, admin_user):
    lead, twin = new(admin_user), new(admin_user)
    other_channel = new(admin_user, channel="enterprise")
    for outsider in (ezoneoffice, leader):
        with pytest.raises(NotPermitted):
            services.merge_issue(actor=outsider, issue=twin, into=lead)
    with pytest.raises(NotPermitted, match="无权查看"):
        services.merge_issue(actor=netoffice, issue=twin, into=other_channel)
    services.merge_issue(actor=admin_user, issue=other_channel, into=lead)  # an admin sees every channel
    assert Issue.objects.get(pk=other_channel.pk).merged_into == lead


def test_a_merged_issue_follows_its_leads_reply_follow_up_closure_and_rehandling(netoffice):
    day = D(2026, 11, 2)
    with on(day):
        lead, twin = new(netoffice, received_on=day), new(netoffice, received_on=day)
        a = assign(netoffice, lead, on_day=day)
        services.merge_issue(actor=netoffice, issue=twin, into=lead)
    reply(a, D(2026, 11, 5))
    twin.refresh_from_db()
    assert twin.status == Issue.Status.REPLIED
    with on(D(2026, 11, 6)):
        services.record_follow_up(actor=netoffice, issue=lead, satisfaction="satisfied", comment="满意")
        services.close_issue(actor=netoffice, issue=lead, on=D(2026, 11, 6))
    twin.refresh_from_db()
    assert (twin.status, twin.satisfaction, twin.closed_on) == (Issue.Status.CLOSED, "satisfied", D(2026, 11, 6))
    assert actions(twin)[-2:] == ["follow_up", "close"]
    assert HistoryEntry.objects.filter(issue=twin, action="close").get().note.startswith(f"随主诉求 {lead.ref}")
    with on(D(2026, 11, 9)):
        services.reopen_issue(actor=netoffice, issue=lead, reason="群众不满意")
    twin.refresh_from_db()
    assert (twin.status, twin.closed_on) == (Issue.Status.ASSIGNED, None)


def test_merged_into_an_issue_closed_before_it_was_received_it_is_closed_the_day_it_arrived(netoffice):
    lead = new(netoffice, received_on=D(2026, 10, 1))
    Issue.objects.filter(pk=lead.pk).update(status="closed", closed_on=D(2026, 10, 20))
    lead.refresh_from_db()
    late = new(netoffice, received_on=D(2026, 11, 2))
    services.merge_issue(actor=netoffice, issue=late, into=lead)
    late.refresh_from_db()
    assert (late.status, late.closed_on) == (Issue.Status.CLOSED, D(2026, 11, 2))


def test_a_merged_issue_is_not_handled_on_its_own(netoffice):
    lead, twin = new(netoffice), new(netoffice)
    services.merge_issue(actor=netoffice, issue=twin, into=lead)
    with pytest.raises(IllegalTransition, match="已并单"):
        assign(netoffice, twin)


def test_splitting_needs_a_reason_and_puts_the_issue_back_to_be_assigned(netoffice):
    lead, twin = new(netoffice), new(netoffice)
    assign(netoffice, lead)
    services.merge_issue(actor=netoffice, issue=twin, into=lead)
    with pytest.raises(InvalidInput):
        services.split_issue(actor=netoffice, issue=twin, reason=" ")
    services.split_issue(actor=netoffice, issue=twin, reason="不是同一处管网")
    twin.refresh_from_db()
    assert (twin.merged_into, twin.merged_at, twin.status) == (None, None, Issue.Status.REGISTERED)
    assert "不是同一处管网" in HistoryEntry.objects.get(issue=twin, action="split").note
    assert HistoryEntry.objects.filter(issue=lead, action="split_off").exists()
    assign(netoffice, twin)  # handled on its own again
    with pytest.raises(IllegalTransition):
        services.split_issue(actor=netoffice, issue=twin, reason="再拆")


def test_registering_and_merging_is_both_or_neither(netoffice):
    lead = new(netoffice)
    services.merge_issue(actor=netoffice, issue=new(netoffice), into=new(netoffice))
    merged_lead = Issue.objects.filter(merged_into__isnull=False).get()
    before = Issue.objects.count()
    with pytest.raises(InvalidInput):
        services.register_and_merge_issue(
            actor=netoffice,
            into=merged_lead,
            channel="net",
            category=Category.objects.get(code="housing"),
            requester=services.RequesterData(name="网民丙", phone=""),
            title="停水",
            content="停水",
            received_on=timezone.localdate(),
        )
    assert Issue.objects.count() == before
    issue = services.register_and_merge_issue(
        actor=netoffice,
        into=lead,
        channel="net",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="网民丙", phone=""),
        title="停水",
        content="停水",
        received_on=timezone.localdate(),
    )
    assert issue.merged_into == lead and actions(issue) == ["register", "merged"]


# --- the figures ----------------------------------------------------------------------------------


def _cohort():
    return Issue.objects.filter(received_on__gte=D(2026, 11, 1), received_on__lte=D(2026, 11, 30))


@pytest.mark.postgres
def test_figures_count_every_request_and_each_handling_once(reference, netoffice):
    """issues and requesters count merged issues; replied, assignments and on-time count the handling
    once (a merged issue has no live assignment); closed and rated follow the lead. The lists give
    exactly these counts, live and from the rollup."""
    day, as_of = D(2026, 11, 2), D(2026, 11, 30)
    with on(day):
        lead = new(netoffice, received_on=day, phone="13900000001")
        alone = new(netoffice, "桃花村路灯不亮", received_on=day, phone="13900000002")
        a, b = assign(netoffice, lead, on_day=day), assign(netoffice, alone, on_day=day)
    reply(a, D(2026, 11, 5))
    reply(b, D(2026, 11, 6))
    with on(D(2026, 11, 9)):
        services.record_follow_up(actor=netoffice, issue=lead, satisfaction="satisfied")
        services.close_issue(actor=netoffice, issue=lead, on=D(2026, 11, 9))
    before = statistics.summary(_cohort(), as_of=as_of, live=True)
    with on(D(2026, 11, 10)):
        twins = [new(netoffice, received_on=D(2026, 11, 10), phone=f"1380000000{n}") for n in range(2)]
        assign(netoffice, twins[0], on_day=D(2026, 11, 10))  # withdrawn by the merge
        for twin in twins:
            services.merge_issue(actor=netoffice, issue=twin, into=lead)
    after = statistics.summary(_cohort(), as_of=as_of, live=True)
    assert after.issues == before.issues + 2
    assert after.requesters == before.requesters + 2
    assert after.replied == before.replied  # once per handling
    assert (after.assignments, after.on_time, after.late, after.overdue_open) == (
        before.assignments,
        before.on_time,
        before.late,
        before.overdue_open,
    )
    assert after.closed == before.closed + 2  # their status follows the lead: closed
    assert after.rated == before.rated + 2 and after.satisfied == before.satisfied + 2
    # Never-merged issues keep CONTRACT's figures exactly: the cohort without the merged ones is unchanged.
    never = statistics.summary(_cohort().filter(merged_into__isnull=True), as_of=as_of, live=True)
    assert never == before
    tasks.refresh_stats_rollup()
    assert statistics.summary(_cohort(), as_of=as_of) == after  # the rollup agrees with the live count
    client = APIClient()
    client.force_authenticate(make_user("leader_m", role="leader"))
    followed = assert_every_list_counts_its_figure(
        client, f"received_from=2026-11-01&received_to=2026-11-30&as_of={as_of.isoformat()}"
    )
    assert followed > 0


# --- the pages ------------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "channel": "net",
        "ref": "",
        "received_on": timezone.localdate().isoformat(),
        "nature": "suggestion",
        "category": Category.objects.get(code="housing").pk,
        "requester_kind": "netizen",
        "requester_name": "网民丁",
        "requester_phone": "13812340000",
        "requester_org": "",
        "title": "反映江口镇红星村供水不正常",
        "content": "红星村供水很不稳定，隔几天就没水，估计是水管破了，请派人来查一查。",
        "onsite_answer": "",
        "lead": Department.objects.get(code="slj").pk,
        "co": [],
        "deadline_amount": "",
        "deadline_unit": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def water(netoffice):
    issue = new(netoffice)
    assign(netoffice, issue)
    return issue


def test_saving_a_probable_duplicate_shows_it_first_without_javascript(client, netoffice, water):
    client.force_login(netoffice)
    before = Issue.objects.count()
    response = client.post(reverse("issue_create"), form_data())
    page = response.content.decode()
    assert response.status_code == 200 and Issue.objects.count() == before
    assert "发现可能重复的诉求" in page and water.ref in page and "很可能重复" in page
    assert f'name="merge_into" value="{water.ref}"' in page


def test_one_click_merges_the_new_request_into_the_suggestion(client, netoffice, water):
    client.force_login(netoffice)
    response = client.post(reverse("issue_create"), form_data(merge_into=water.ref))
    issue = Issue.objects.get(requester__name="网民丁")
    assert response.status_code == 302 and response.url == reverse("issue_detail", args=[issue.pk])
    assert issue.merged_into == water and not issue.assignments.exists()  # the lead chosen on the form is not used
    page = client.get(response.url).content.decode()
    assert f"已登记诉求 {issue.ref}，并入 {water.ref}" in page
    assert re.search(rf"已并入 <a href=\"{reverse('issue_detail', args=[water.pk])}\">{water.ref}</a>", page)
    assert "拆分" in page and 'action="' + reverse("issue_assign", args=[issue.pk]) not in page
    lead_page = client.get(reverse("issue_detail", args=[water.pk])).content.decode()
    assert "以下 1 件诉求已并入本件" in lead_page and issue.ref in lead_page


def test_keeping_it_apart_registers_it_as_usual(client, netoffice, water):
    client.force_login(netoffice)
    response = client.post(reverse("issue_create"), form_data(keep_apart="1"))
    issue = Issue.objects.get(requester__name="网民丁")
    assert response.status_code == 302 and issue.merged_into is None
    assert issue.assignments.get().department.code == "slj"


def test_merging_into_an_unknown_or_unseen_ref_is_a_form_error(client, netoffice, admin_user):
    hidden = new(admin_user, channel="enterprise")
    client.force_login(netoffice)
    for ref in ("ZW-NOPE", hidden.ref):
        page = client.post(reverse("issue_create"), form_data(merge_into=ref)).content.decode()
        assert f"未找到编号为“{ref}”的诉求，或您无权查看" in page
    assert not Issue.objects.filter(requester__name="网民丁").exists()


def test_the_office_merges_and_splits_from_the_issue_page(client, netoffice, water):
    twin = new(netoffice, name="网民戊")
    client.force_login(netoffice)
    client.post(reverse("issue_merge", args=[twin.pk]), {"into": water.ref, "note": "同一件事"})
    assert Issue.objects.get(pk=twin.pk).merged_into == water
    response = client.post(reverse("issue_split", args=[twin.pk]), {"split-reason": "不是同一处"}, follow=True)
    assert "已拆分" in response.content.decode()
    assert Issue.objects.get(pk=twin.pk).merged_into is None


def test_other_users_cannot_merge_or_split(client, netoffice, ezoneoffice, zjj_head, leader, water):
    twin = new(netoffice)
    services.merge_issue(actor=netoffice, issue=twin, into=water)
    for user in (ezoneoffice, zjj_head, leader):
        client.force_login(user)
        assert client.post(reverse("issue_split", args=[twin.pk]), {"split-reason": "x"}).status_code == 404
    assert Issue.objects.get(pk=twin.pk).merged_into == water


def test_the_issue_page_with_merged_issues_keeps_its_query_count(
    client, netoffice, water, django_assert_max_num_queries
):
    for n in range(5):
        services.merge_issue(actor=netoffice, issue=new(netoffice, name=f"网民{n}"), into=water)
    client.force_login(netoffice)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("issue_detail", args=[water.pk])).content.decode()
    assert "以下 5 件诉求已并入本件" in page
