"""异议/退回: the department objects to misrouting within 5 working days; the channel office decides."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.errors import ConcurrentChange, IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Assignment, Department, ExtensionRequest, HistoryEntry, Issue, Notification, Objection
from tests.conftest import reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db
D = datetime.date
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOV_2 = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday


def at(day: datetime.date, hour: int = 10) -> Any:
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(hour), tzinfo=SHANGHAI), tick=False)


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


@pytest.fixture
def clock():
    with time_machine.travel(NOV_2, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(clock, netoffice) -> Assignment:
    # 政网: 10 working days from Mon 2026-11-02 → Mon 11-16; objections until the 5th working day, Mon 11-09.
    _, (a,) = assigned(netoffice, lead="zjj", assigned_on=D(2026, 11, 2))
    assert a.due_date == D(2026, 11, 16)
    return a


def object_to(actor: Any, assignment: Assignment, reason: str = "天桥建设属交通运输局职责", **kwargs: Any) -> Objection:
    return services.raise_objection(actor=actor, assignment=assignment, reason=reason, **kwargs)


def submit(actor: Any, assignment: Assignment) -> Any:
    return services.submit_reply(
        actor=actor,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经测算，暂不具备建设条件。",
    )


def pending_steps(a: Assignment) -> list[str]:
    return list(a.steps.filter(taken_at=None).order_by("scheduled_for").values_list("step", flat=True))


# --- raising an objection --------------------------------------------------------------------------------


def test_an_objection_within_five_working_days_is_recorded_and_the_clock_keeps_running(lead, zjj_head, netoffice):
    before = (lead.status, lead.due_date, pending_steps(lead))

    objection = object_to(zjj_head, lead, suggested_department=dept("jtj"))

    lead.refresh_from_db()
    assert objection.status == Objection.Status.PENDING
    assert objection.suggested_department == dept("jtj")
    assert (lead.status, lead.due_date, pending_steps(lead)) == before  # "not ours" stops nothing
    entry = HistoryEntry.objects.get(action="objection_raised")
    assert (entry.assignment, entry.actor) == (lead, zjj_head)
    assert entry.note == "天桥建设属交通运输局职责；建议改派：县交通运输局"
    assert Notification.objects.filter(recipient=netoffice, kind=f"objection_{objection.pk}").count() == 1


def test_the_window_is_counted_on_the_stored_working_calendar(netoffice, zjj_head):
    # Assigned Wed 2026-09-30, before the National Day holiday (10-01…10-07) and its make-up Saturday
    # 10-10: the 5 working days are 10-08, 10-09, 10-10, 10-12, 10-13. Monday–Friday would say 10-07.
    with at(D(2026, 9, 30)):
        _, (a,) = assigned(netoffice, lead="zjj", assigned_on=D(2026, 9, 30))
    assert services.objection_last_day(a) == D(2026, 10, 13)
    with at(D(2026, 10, 14)), pytest.raises(InvalidInput, match="最后一天是 2026年10月13日"):
        object_to(zjj_head, a)
    assert not Objection.objects.exists()
    with at(D(2026, 10, 13), hour=23):
        object_to(zjj_head, a)
    assert Objection.objects.count() == 1


def test_an_objection_after_five_working_days_is_refused_naming_the_last_allowed_day(lead, zjj_head):
    with at(D(2026, 11, 10)), pytest.raises(InvalidInput) as refused:
        object_to(zjj_head, lead)
    assert "5 个工作日" in refused.value.message and "2026年11月09日" in refused.value.message
    assert not Objection.objects.exists()


def test_an_objection_needs_a_reason(lead, zjj_head):
    with pytest.raises(InvalidInput, match="异议理由") as refused:
        object_to(zjj_head, lead, reason="  ")
    assert refused.value.field == "reason"
    assert not Objection.objects.exists()


def test_a_second_pending_objection_is_refused(lead, zjj_head, zjj_staff):
    object_to(zjj_head, lead)
    with pytest.raises(ConcurrentChange, match="等待直通车办公室决定"):
        object_to(zjj_staff, lead, reason="再次提出")
    assert Objection.objects.count() == 1


def test_the_database_allows_one_pending_objection_per_assignment(lead, zjj_head):
    object_to(zjj_head, lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        Objection.objects.create(assignment=lead, reason="绕过服务层")


def test_only_a_member_of_the_assigned_department_objects(lead, jyj_head, netoffice, leader):
    for outsider in (jyj_head, netoffice, leader):
        with pytest.raises(NotPermitted):
            object_to(outsider, lead)
    assert not Objection.objects.exists()


def test_the_suggested_department_must_be_another_handling_department(lead, zjj_head):
    with pytest.raises(InvalidInput, match="不能是本单位"):
        object_to(zjj_head, lead, suggested_department=dept("zjj"))
    with pytest.raises(InvalidInput, match="直通车办公室"):
        object_to(zjj_head, lead, suggested_department=dept("wxb"))


def test_no_objection_once_a_reply_waits_for_review_or_after_a_rejection(lead, zjj_head, netoffice):
    objection = object_to(zjj_head, lead)
    services.reject_objection(actor=netoffice, objection=objection, note="属住建局职责范围")
    with pytest.raises(IllegalTransition, match="已被驳回"):
        object_to(zjj_head, lead, reason="还是不属于我们")
    submit(zjj_head, lead)
    with pytest.raises(IllegalTransition, match="已回复待审核"):
        object_to(zjj_head, lead, reason="x")


# --- the office decides ----------------------------------------------------------------------------------


def test_rejecting_needs_a_reason_and_leaves_the_assignment_on_its_clock(lead, zjj_head, netoffice):
    objection = object_to(zjj_head, lead)
    with pytest.raises(InvalidInput, match="理由"):
        services.reject_objection(actor=netoffice, objection=objection, note=" ")

    services.reject_objection(actor=netoffice, objection=objection, note="属住建局职责范围")

    objection.refresh_from_db()
    lead.refresh_from_db()
    assert (objection.status, objection.decided_by, objection.decision_note) == (
        Objection.Status.REJECTED,
        netoffice,
        "属住建局职责范围",
    )
    assert (lead.status, lead.due_date) == (Assignment.Status.PENDING, D(2026, 11, 16))
    assert HistoryEntry.objects.filter(action="objection_rejected", assignment=lead).count() == 1
    assert Notification.objects.filter(recipient=zjj_head, kind=f"objection_{objection.pk}_decided").exists()


def test_accepting_with_the_clock_continued_hands_the_issue_over_on_the_same_due_date(
    lead, clock, zjj_head, netoffice, django_user_model
):
    from tests.conftest import make_user

    jtj_head = make_user("jtj_head", department="jtj", role="department", is_head=True)
    objection = object_to(zjj_head, lead, suggested_department=dept("jtj"))
    clock.move_to(datetime.datetime(2026, 11, 5, 15, 0, tzinfo=SHANGHAI))

    services.accept_objection(
        actor=netoffice, objection=objection, department=dept("jtj"), clock="continue", note="同意"
    )

    lead.refresh_from_db()
    objection.refresh_from_db()
    new = objection.new_assignment
    assert (lead.status, pending_steps(lead)) == (Assignment.Status.WITHDRAWN, [])
    assert not lead.is_open
    assert (new.department, new.role, new.status) == (dept("jtj"), Assignment.Role.LEAD, Assignment.Status.PENDING)
    assert (new.assigned_on, new.due_date, new.original_due_date) == (D(2026, 11, 2), D(2026, 11, 16), D(2026, 11, 16))
    assert pending_steps(new)[-1] == "bulletin"  # its own reminders
    assert (objection.status, objection.clock) == (Objection.Status.ACCEPTED, "continue")
    assert list(
        lead.issue.history.filter(action__in=["withdraw", "assigned_to", "objection_accepted"])
        .filter(at__date__gte=D(2026, 11, 5))
        .values_list("action", "assignment")
    ) == [("withdraw", lead.pk), ("assigned_to", new.pk), ("objection_accepted", lead.pk)]
    assert Notification.objects.filter(recipient=zjj_head, kind=f"objection_{objection.pk}_decided").exists()
    assert Notification.objects.filter(recipient=jtj_head, assignment=new, kind="assigned").exists()
    # The new department's own objection window starts on the day it received the issue.
    assert services.objection_window_start(new) == D(2026, 11, 5)
    assert services.objection_last_day(new) == D(2026, 11, 12)


def test_accepting_with_the_clock_restarted_counts_the_same_limit_from_today(lead, clock, zjj_head, netoffice):
    objection = object_to(zjj_head, lead)
    clock.move_to(datetime.datetime(2026, 11, 6, 9, 0, tzinfo=SHANGHAI))

    services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="restart")

    new = Objection.objects.get().new_assignment
    # 10 working days from Fri 11-06 → Fri 11-20.
    assert (new.assigned_on, new.due_date, new.deadline_amount) == (D(2026, 11, 6), D(2026, 11, 20), 10)


def test_a_co_handlers_objection_hands_over_a_co_handling_assignment(clock, netoffice, jyj_head):
    issue, (_lead, co) = assigned(netoffice, lead="zjj", co=("jyj",), assigned_on=D(2026, 11, 2))
    objection = object_to(jyj_head, co, reason="不涉及教育")
    services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="continue")
    roles = dict(issue.assignments.exclude(status="withdrawn").values_list("department__code", "role"))
    assert roles == {"zjj": "lead", "jtj": "co"}


def test_bad_decisions_are_refused(lead, zjj_head, netoffice, ezoneoffice, leader, jyj_head):
    objection = object_to(zjj_head, lead)
    with pytest.raises(InvalidInput, match="不能是提出异议的单位") as same:
        services.accept_objection(actor=netoffice, objection=objection, department=dept("zjj"), clock="continue")
    assert same.value.field == "department"
    with pytest.raises(InvalidInput, match="直通车办公室"):
        services.accept_objection(actor=netoffice, objection=objection, department=dept("wxb"), clock="continue")
    with pytest.raises(InvalidInput, match="continue"):
        services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="tomorrow")
    for outsider in (ezoneoffice, leader, zjj_head, jyj_head):
        with pytest.raises(NotPermitted):
            services.accept_objection(actor=outsider, objection=objection, department=dept("jtj"), clock="continue")
        with pytest.raises(NotPermitted):
            services.reject_objection(actor=outsider, objection=objection, note="x")
    objection.refresh_from_db()
    lead.refresh_from_db()
    assert (objection.status, lead.status) == (Objection.Status.PENDING, Assignment.Status.PENDING)
    assert lead.issue.assignments.count() == 1


def test_handing_over_to_a_department_already_on_the_issue_is_refused(clock, netoffice, zjj_head):
    _, (lead_a, _co) = assigned(netoffice, lead="zjj", co=("jyj",), assigned_on=D(2026, 11, 2))
    objection = object_to(zjj_head, lead_a)
    with pytest.raises(InvalidInput, match="已是本诉求的承办单位"):
        services.accept_objection(actor=netoffice, objection=objection, department=dept("jyj"), clock="continue")


def test_a_decided_objection_cannot_be_decided_again(lead, zjj_head, netoffice):
    objection = object_to(zjj_head, lead)
    services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="continue")
    with pytest.raises(IllegalTransition, match="已同意改派"):
        services.accept_objection(actor=netoffice, objection=objection, department=dept("jyj"), clock="continue")
    with pytest.raises(IllegalTransition):
        services.reject_objection(actor=netoffice, objection=objection, note="改主意了")
    assert lead.issue.assignments.count() == 2


def test_accepting_after_the_department_submitted_a_reply_is_refused_and_changes_nothing(lead, zjj_head, netoffice):
    objection = object_to(zjj_head, lead)
    submit(zjj_head, lead)
    with pytest.raises(IllegalTransition, match="已回复待审核"):
        services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="continue")
    objection.refresh_from_db()
    assert objection.status == Objection.Status.PENDING
    assert lead.issue.assignments.count() == 1


def test_a_pending_extension_of_the_withdrawn_assignment_is_closed(lead, zjj_head, netoffice):
    services.request_extension(actor=zjj_head, assignment=lead, requested_due_date=D(2026, 11, 20), reason="复杂")
    objection = object_to(zjj_head, lead)
    services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="continue")
    extension = ExtensionRequest.objects.get()
    assert extension.status == ExtensionRequest.Status.REJECTED
    assert "退回改派" in extension.decision_note


# --- a withdrawn assignment leaves the workflow ---------------------------------------------------------


def test_a_withdrawn_lead_allows_a_new_lead_and_does_not_block_the_reply(lead, zjj_head, netoffice):
    from tests.conftest import make_user

    jtj_head = make_user("jtj_head", department="jtj", role="department", is_head=True)
    objection = object_to(zjj_head, lead)
    services.accept_objection(actor=netoffice, objection=objection, department=dept("jtj"), clock="continue")
    new = Objection.objects.get().new_assignment
    assert lead.issue.assignments.filter(role="lead").count() == 2  # one withdrawn, one live

    reply = submit(jtj_head, new)
    services.accept_reply(actor=netoffice, reply=reply)

    issue = Issue.objects.get(pk=lead.issue_id)
    assert issue.status == Issue.Status.REPLIED


def test_the_database_still_refuses_two_live_leads(lead, netoffice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            issue=lead.issue,
            department=dept("jtj"),
            role="lead",
            assigned_on=lead.assigned_on,
            deadline_amount=10,
            deadline_unit="working_day",
            due_date=lead.due_date,
            original_due_date=lead.due_date,
        )


def test_reopening_after_a_hand_over_reopens_the_new_lead(lead, zjj_head, netoffice):
    from tests.conftest import make_user

    jtj_head = make_user("jtj_head", department="jtj", role="department", is_head=True)
    services.accept_objection(
        actor=netoffice, objection=object_to(zjj_head, lead), department=dept("jtj"), clock="continue"
    )
    new = Objection.objects.get().new_assignment
    services.accept_reply(actor=netoffice, reply=submit(jtj_head, new))

    reopened = services.reopen_issue(actor=netoffice, issue=lead.issue, reason="群众不满意")

    assert [a.pk for a in reopened] == [new.pk]
    lead.refresh_from_db()
    assert lead.status == Assignment.Status.WITHDRAWN
    with pytest.raises(InvalidInput, match="原承办单位"):
        services.reopen_issue(actor=netoffice, issue=lead.issue, reason="x", departments=[dept("zjj")])


def test_the_sweep_leaves_a_withdrawn_assignment_alone(lead, zjj_head, netoffice):
    from feedback.services.sweeps import sweep_deadlines

    services.accept_objection(
        actor=netoffice, objection=object_to(zjj_head, lead), department=dept("jtj"), clock="continue"
    )
    sweep_deadlines(now=datetime.datetime(2027, 3, 1, tzinfo=SHANGHAI))
    assert not lead.steps.exists()
    assert Objection.objects.get().new_assignment.steps.filter(step="overdue", taken_at__isnull=False).exists()


# --- the pages -------------------------------------------------------------------------------------------


def test_the_department_objects_on_the_issue_page(client, lead, zjj_head):
    client.force_login(zjj_head)
    url = reverse("issue_detail", args=[lead.issue_id])
    page = client.get(url).content.decode()
    assert "提出异议" in page and "请在 2026-11-09 前提出" in page

    empty = client.post(reverse("objection_raise", args=[lead.pk]), {"reason": ""}, follow=True)
    assert "异议理由" in empty.content.decode() and not Objection.objects.exists()

    response = client.post(
        reverse("objection_raise", args=[lead.pk]),
        {"reason": "属交通运输局职责", "suggested_department": dept("jtj").pk},
        follow=True,
    )

    page = response.content.decode()
    assert "异议已提出" in page and "待决定" in page
    assert Objection.objects.get().suggested_department == dept("jtj")
    assert f'action="{reverse("objection_raise", args=[lead.pk])}"' not in page  # no second form while one is pending


def test_the_page_offers_no_objection_after_the_window(client, lead, zjj_head):
    with at(D(2026, 11, 10)):
        client.force_login(zjj_head)  # sessions expire: log in on the day
        page = client.get(reverse("issue_detail", args=[lead.issue_id])).content.decode()
        response = client.post(reverse("objection_raise", args=[lead.pk]), {"reason": "x"}, follow=True)
    assert "提出异议（不属于本单位职责）" not in page
    assert "最后一天是 2026年11月09日" in response.content.decode()


def test_another_department_cannot_object_through_the_page(client, lead, jyj_head):
    client.force_login(jyj_head)
    assert client.post(reverse("objection_raise", args=[lead.pk]), {"reason": "x"}).status_code == 404


def test_the_office_decides_on_the_issue_page(client, lead, zjj_head, netoffice):
    objection = object_to(zjj_head, lead, suggested_department=dept("jtj"))
    client.force_login(netoffice)
    page = client.get(reverse("issue_detail", args=[lead.issue_id])).content.decode()
    assert "同意并改派" in page and "驳回异议" in page

    same = client.post(
        reverse("objection_decide", args=[objection.pk, "accept"]),
        {f"obj{objection.pk}-department": dept("zjj").pk, f"obj{objection.pk}-clock": "continue"},
        follow=True,
    )
    assert Objection.objects.get().status == "pending"  # the objecting department is not on the list
    assert "改派单位" in same.content.decode()

    response = client.post(
        reverse("objection_decide", args=[objection.pk, "accept"]),
        {f"obj{objection.pk}-department": dept("jtj").pk, f"obj{objection.pk}-clock": "restart"},
        follow=True,
    )

    page = response.content.decode()
    assert "已同意异议并改派" in page and "已退回改派" in page and "县交通运输局" in page
    assert Objection.objects.get().clock == "restart"


def test_the_office_rejects_on_the_page_only_with_a_reason(client, lead, zjj_head, netoffice):
    objection = object_to(zjj_head, lead)
    client.force_login(netoffice)
    client.post(reverse("objection_decide", args=[objection.pk, "reject"]), {"note": ""})
    assert Objection.objects.get().status == "pending"
    client.post(reverse("objection_decide", args=[objection.pk, "reject"]), {"note": "属住建局职责"})
    assert Objection.objects.get().status == "rejected"


def test_a_department_cannot_decide_its_own_objection_on_the_page(client, lead, zjj_head):
    objection = object_to(zjj_head, lead)
    client.force_login(zjj_head)
    client.post(reverse("objection_decide", args=[objection.pk, "reject"]), {"note": "自己驳回"})
    assert Objection.objects.get().status == "pending"


def test_the_inbox_tags_rows_with_a_pending_objection_without_a_query_per_row(
    client, clock, netoffice, zjj_head, django_assert_max_num_queries
):
    rows = [assigned(netoffice, lead="zjj", title=f"诉求{n}", assigned_on=D(2026, 11, 2))[1][0] for n in range(6)]
    for a in rows[:3]:
        object_to(zjj_head, a)
    for user in (zjj_head, netoffice):
        client.force_login(user)
        client.get(reverse("inbox"))  # warm the session and the user's scope
        with django_assert_max_num_queries(11):  # six rows, three tagged: no query per row
            page = client.get(reverse("inbox")).content.decode()
        assert page.count("异议待定") == 3


def test_the_objection_form_suggests_only_units_not_already_handling_the_issue(clock, netoffice):
    from feedback.forms import ObjectionForm

    issue, (lead, _) = assigned(netoffice, lead="zjj", co=("jtj",), assigned_on=D(2026, 11, 2))
    form = ObjectionForm(exclude=lead.department, issue=issue)
    offered = {d.code for d in form.fields["suggested_department"].queryset}
    assert "zjj" not in offered and "jtj" not in offered  # the lead itself and its co-handler
    assert "jyj" in offered and "wxb" not in offered
    assert form.fields["suggested_department"].empty_label == "（不建议具体单位，由县委网信办研判）"
