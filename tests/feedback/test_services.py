"""Every service and every transition of the state machine, legal and illegal."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from feedback import services, states
from feedback.errors import ConcurrentChange, DuplicateReference, IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Assignment, Department, HistoryEntry, Issue, Requester, SignedReply
from tests.conftest import reply_pdf
from tests.factories import assigned, register

pytestmark = pytest.mark.django_db


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def submit(actor, assignment, **overrides) -> SignedReply:
    values = {
        "file": reply_pdf(),
        "signer_name": "王局长",
        "signer_title": "局长",
        "signed_on": timezone.localdate(),
        "result": "explained",
        "summary": "经测算，暂不具备建设条件。",
    }
    values.update(overrides)
    return services.submit_reply(actor=actor, assignment=assignment, **values)


def replied_issue(netoffice, zjj_head) -> Issue:
    issue, (a,) = assigned(netoffice)
    services.accept_reply(actor=netoffice, reply=submit(zjj_head, a))
    issue.refresh_from_db()
    return issue


# --- registration -------------------------------------------------------------------------


def test_register_issue_generates_a_reference_and_records_history(netoffice):
    issue = register(netoffice, received_on=datetime.date(2026, 3, 2))
    assert issue.ref == "ZW2026-00001"
    assert register(netoffice, received_on=datetime.date(2026, 3, 3)).ref == "ZW2026-00002"
    assert issue.status == Issue.Status.REGISTERED
    assert list(issue.history.values_list("action", "actor")) == [("register", netoffice.pk)]


def test_register_issue_refuses_a_duplicate_reference(netoffice):
    register(netoffice, ref="2024-Q3-001")
    with pytest.raises(DuplicateReference, match="已存在"):
        register(netoffice, ref="2024-Q3-001")
    assert Issue.objects.count() == 1


def test_register_issue_refuses_a_future_date_and_empty_text(netoffice):
    with pytest.raises(InvalidInput, match="不能晚于今天"):
        register(netoffice, received_on=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(InvalidInput, match="标题"):
        register(netoffice, title="   ")
    assert Issue.objects.count() == 0


def test_requesters_are_the_same_person_by_phone_or_else_by_name(netoffice):
    a = register(netoffice, name="张三", phone="13800001111")
    b = register(netoffice, name="张三丰", phone="138-0000-1111")
    c = register(netoffice, name="李四")
    d = register(netoffice, name="李四")
    e = register(netoffice, name="张三")  # same name as a, but a has a phone: a different person
    assert a.requester_id == b.requester_id
    assert c.requester_id == d.requester_id
    assert e.requester_id not in (a.requester_id, c.requester_id)
    assert Requester.objects.count() == 3


def test_a_bad_phone_number_is_refused_with_a_message(netoffice):
    with pytest.raises(InvalidInput, match="联系电话"):
        register(netoffice, phone="call me")


def test_phone_numbers_are_shown_masked(netoffice):
    issue = register(netoffice, phone="13812345678")
    assert issue.requester.masked_phone == "138****5678"


# --- assignment ---------------------------------------------------------------------------


def test_assign_issue_creates_lead_and_co_assignments_with_due_dates(netoffice):
    issue, assignments = assigned(netoffice, lead="zjj", co=("jtj", "jyj"), assigned_on=datetime.date(2026, 9, 30))
    issue.refresh_from_db()
    assert issue.status == Issue.Status.ASSIGNED
    assert [(a.department.code, a.role) for a in assignments] == [("zjj", "lead"), ("jtj", "co"), ("jyj", "co")]
    # 政网 default: 10 working days from 2026-09-30, skipping the National Day week (Oct 1–7)
    # and counting the make-up Saturday Oct 10.
    assert {a.due_date for a in assignments} == {datetime.date(2026, 10, 20)}
    assert all(not a.provisional and a.deadline_unit == "working_day" for a in assignments)
    assert issue.history.filter(action="assign").count() == 1
    assert issue.history.filter(action="assigned_to").count() == 3


def test_assign_issue_with_an_explicit_calendar_day_limit_rolls_forward(netoffice):
    _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 9, 26))
    issue = register(netoffice, received_on=datetime.date(2026, 9, 26))
    (b,) = services.assign_issue(
        actor=netoffice,
        issue=issue,
        lead=dept("zjj"),
        deadline_amount=5,
        deadline_unit="calendar_day",
        assigned_on=datetime.date(2026, 9, 26),
    )
    assert b.due_date == datetime.date(2026, 10, 8)  # Oct 1 falls in the Oct 1–7 holiday: rolls to Oct 8
    assert b.policy is None and a.policy is not None


@time_machine.travel(datetime.datetime(2026, 12, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_a_deadline_reaching_into_2027_is_provisional(netoffice):
    _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 12, 24))
    assert a.provisional
    assert a.due_date.year == 2027


def test_assign_refuses_a_co_department_equal_to_the_lead(netoffice):
    issue = register(netoffice)
    with pytest.raises(InvalidInput, match="与主办单位相同"):
        services.assign_issue(actor=netoffice, issue=issue, lead=dept("zjj"), co=[dept("zjj")])
    issue.refresh_from_db()
    assert issue.status == Issue.Status.REGISTERED
    assert not Assignment.objects.exists()


def test_assign_refuses_retired_departments_and_channel_offices(netoffice):
    issue = register(netoffice)
    Department.objects.filter(code="jtj").update(active=False)
    with pytest.raises(InvalidInput, match="已停用"):
        services.assign_issue(actor=netoffice, issue=issue, lead=dept("jtj"))
    with pytest.raises(InvalidInput, match="办公室"):
        services.assign_issue(actor=netoffice, issue=issue, lead=dept("xfj"))
    with pytest.raises(InvalidInput, match="同时填写"):
        services.assign_issue(actor=netoffice, issue=issue, lead=dept("zjj"), deadline_amount=5)
    assert not Assignment.objects.exists()


def test_assigning_twice_is_an_illegal_transition(netoffice):
    issue, _ = assigned(netoffice)
    with pytest.raises(IllegalTransition, match="不能交办"):
        services.assign_issue(actor=netoffice, issue=issue, lead=dept("jyj"))
    assert Assignment.objects.count() == 1


# --- department work ----------------------------------------------------------------------


def test_acknowledge_twice_is_harmless(netoffice, zjj_staff):
    _, (a,) = assigned(netoffice)
    services.acknowledge_assignment(actor=zjj_staff, assignment=a)
    services.acknowledge_assignment(actor=zjj_staff, assignment=a)
    a.refresh_from_db()
    assert a.status == Assignment.Status.ACKNOWLEDGED and a.acknowledged_at is not None
    assert a.history.filter(action="acknowledge").count() == 1


def test_only_the_assigned_department_may_acknowledge_or_reply(netoffice, jyj_head):
    _, (a,) = assigned(netoffice)
    with pytest.raises(NotPermitted):
        services.acknowledge_assignment(actor=jyj_head, assignment=a)
    with pytest.raises(NotPermitted):
        submit(jyj_head, a)
    assert not SignedReply.objects.exists()


def test_submit_reply_stores_the_file_with_its_hash(netoffice, zjj_head):
    import hashlib

    _, (a,) = assigned(netoffice)
    reply = submit(zjj_head, a)
    a.refresh_from_db()
    assert a.status == Assignment.Status.SUBMITTED and a.acknowledged_at is not None
    with reply.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == reply.sha256
    assert reply.version == 1 and reply.review_status == SignedReply.Review.PENDING
    assert not reply.file.name.endswith("回复函.pdf")  # stored under a generated name


def test_a_bad_file_is_refused_and_nothing_is_stored(netoffice, zjj_head):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, (a,) = assigned(netoffice)
    with pytest.raises(InvalidInput) as caught:
        submit(zjj_head, a, file=SimpleUploadedFile("letter.pdf", b"<html><script>alert(1)</script></html>"))
    assert caught.value.field == "file"
    a.refresh_from_db()
    assert a.status == Assignment.Status.PENDING
    assert not SignedReply.objects.exists()


def test_a_second_reply_while_one_awaits_review_is_refused(netoffice, zjj_head, zjj_staff):
    _, (a,) = assigned(netoffice)
    submit(zjj_head, a)
    with pytest.raises(ConcurrentChange):
        submit(zjj_staff, a)
    assert SignedReply.objects.count() == 1


def test_reply_dates_must_be_plausible(netoffice, zjj_head):
    _, (a,) = assigned(netoffice, assigned_on=timezone.localdate() - datetime.timedelta(days=3))
    with pytest.raises(InvalidInput, match="不能晚于今天"):
        submit(zjj_head, a, signed_on=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(InvalidInput, match="不能早于交办日期"):
        submit(zjj_head, a, signed_on=a.assigned_on - datetime.timedelta(days=1))
    with pytest.raises(InvalidInput, match="办理结果"):
        submit(zjj_head, a, result="maybe")
    assert not SignedReply.objects.exists()


# --- review -------------------------------------------------------------------------------


def test_accepting_every_reply_marks_the_issue_replied(netoffice, zjj_head, jyj_head):
    issue, (lead, co) = assigned(netoffice, co=("jyj",))
    services.accept_reply(actor=netoffice, reply=submit(zjj_head, lead))
    issue.refresh_from_db()
    assert issue.status == Issue.Status.ASSIGNED  # the co-handler has not answered yet
    services.accept_reply(actor=netoffice, reply=submit(jyj_head, co))
    issue.refresh_from_db()
    lead.refresh_from_db()
    assert issue.status == Issue.Status.REPLIED
    assert lead.replied_on == timezone.localdate()
    assert issue.history.filter(action="all_replied").count() == 1


def test_accepting_twice_is_a_no_op_and_returning_an_accepted_reply_is_refused(netoffice, zjj_head):
    _, (a,) = assigned(netoffice)
    reply = submit(zjj_head, a)
    services.accept_reply(actor=netoffice, reply=reply)
    services.accept_reply(actor=netoffice, reply=reply)
    assert a.history.filter(action="accept_reply").count() == 1
    with pytest.raises(IllegalTransition):
        services.return_reply(actor=netoffice, reply=reply, reason="未盖章")


def test_returning_a_reply_needs_a_reason_and_allows_a_new_version(netoffice, zjj_head):
    _, (a,) = assigned(netoffice)
    reply = submit(zjj_head, a)
    with pytest.raises(InvalidInput, match="理由"):
        services.return_reply(actor=netoffice, reply=reply, reason=" ")
    services.return_reply(actor=netoffice, reply=reply, reason="未加盖公章")
    a.refresh_from_db()
    assert a.status == Assignment.Status.RETURNED
    second = submit(zjj_head, a)
    assert second.version == 2
    with pytest.raises(IllegalTransition):
        services.accept_reply(actor=netoffice, reply=reply)


def test_only_the_channel_office_reviews(netoffice, ezoneoffice, zjj_head, leader):
    _, (a,) = assigned(netoffice)
    reply = submit(zjj_head, a)
    for outsider in (ezoneoffice, zjj_head, leader):
        with pytest.raises(NotPermitted):
            services.accept_reply(actor=outsider, reply=reply)
    reply.refresh_from_db()
    assert reply.review_status == SignedReply.Review.PENDING


# --- follow-up, close, reopen -------------------------------------------------------------


def test_follow_up_then_close(netoffice, zjj_head):
    issue = replied_issue(netoffice, zjj_head)
    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="satisfied", comment="答复清楚")
    services.close_issue(actor=netoffice, issue=issue)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.CLOSED
    assert issue.closed_on == timezone.localdate() and issue.satisfaction == "satisfied"
    services.close_issue(actor=netoffice, issue=issue)  # repeat: no-op
    assert issue.history.filter(action="close").count() == 1


def test_follow_up_refuses_an_unknown_rating_and_an_issue_not_yet_replied(netoffice, zjj_head):
    issue, _ = assigned(netoffice)
    with pytest.raises(InvalidInput, match="回访结果"):
        services.record_follow_up(actor=netoffice, issue=issue, satisfaction="great")
    with pytest.raises(IllegalTransition, match="不能回访"):
        services.record_follow_up(actor=netoffice, issue=issue, satisfaction="satisfied")


def test_an_issue_cannot_be_closed_before_every_reply_is_accepted(netoffice):
    issue, _ = assigned(netoffice)
    with pytest.raises(IllegalTransition, match="不能办结"):
        services.close_issue(actor=netoffice, issue=issue)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.ASSIGNED and issue.closed_on is None


def test_a_closure_date_before_receipt_is_refused(netoffice, zjj_head):
    issue = replied_issue(netoffice, zjj_head)
    with pytest.raises(InvalidInput, match="不能早于受理日期"):
        services.close_issue(actor=netoffice, issue=issue, on=issue.received_on - datetime.timedelta(days=1))


def test_reopen_after_dissatisfaction_restarts_the_lead_with_a_new_clock(netoffice, zjj_head):
    issue = replied_issue(netoffice, zjj_head)
    services.record_follow_up(actor=netoffice, issue=issue, satisfaction="dissatisfied")
    with pytest.raises(InvalidInput, match="理由"):
        services.reopen_issue(actor=netoffice, issue=issue, reason="")
    (a,) = services.reopen_issue(actor=netoffice, issue=issue, reason="群众不满意，要求重新测算人流量")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.ASSIGNED and issue.satisfaction == ""
    assert a.status == Assignment.Status.ACKNOWLEDGED and a.deadline_version == 2 and a.replied_on is None
    second = submit(zjj_head, a)
    services.accept_reply(actor=netoffice, reply=second)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.REPLIED
    assert SignedReply.objects.filter(assignment=a, review_status="accepted").count() == 2


def test_a_registered_issue_cannot_be_reopened(netoffice):
    issue = register(netoffice)
    with pytest.raises(IllegalTransition):
        services.reopen_issue(actor=netoffice, issue=issue, reason="测试")


# --- the state machine itself -------------------------------------------------------------

ISSUE_STATES = list(Issue.Status.values)
ASSIGNMENT_STATES = list(Assignment.Status.values)


@pytest.mark.parametrize("action", sorted(states.ISSUE_MOVES))
@pytest.mark.parametrize("start", ISSUE_STATES)
def test_every_issue_move_from_every_state_is_either_legal_or_a_named_error(netoffice, action, start):
    issue = register(netoffice)
    Issue.objects.filter(pk=issue.pk).update(status=start, closed_on=issue.received_on if start == "closed" else None)
    issue.refresh_from_db()
    step = states.ISSUE_MOVES[action]
    if start in step.sources and step.guard is not None and step.guard(issue):
        # A rule beyond the status (办结 before 回访): refused by name, nothing written…
        with pytest.raises(IllegalTransition) as caught:
            states.move(issue, action, actor=netoffice)
        assert step.label in caught.value.message
        assert not issue.history.filter(action=action).exists()
        # …until it is met (here: a recorded reason why no follow-up can be done).
        issue.follow_up_skipped = Issue.FollowUpSkip.REFUSED
        Issue.objects.filter(pk=issue.pk).update(follow_up_skipped=issue.follow_up_skipped)
        assert not step.guard(issue)
    if start in step.sources:
        # The database ties closed_on to the closed status; the services set both together.
        issue.closed_on = issue.received_on if step.target == "closed" else None
        assert states.move(issue, action, actor=netoffice, also=("closed_on",)) is True
        assert issue.status == step.target
        assert issue.history.filter(action=action, from_status=start, to_status=step.target).exists()
    elif start == step.target and step.repeatable:
        assert states.move(issue, action, actor=netoffice) is False
    else:
        with pytest.raises(IllegalTransition) as caught:
            states.move(issue, action, actor=netoffice)
        assert step.label in caught.value.message
        issue.refresh_from_db()
        assert issue.status == start


@pytest.mark.parametrize("action", sorted(states.ASSIGNMENT_MOVES))
@pytest.mark.parametrize("start", ASSIGNMENT_STATES)
def test_every_assignment_move_from_every_state_is_either_legal_or_a_named_error(netoffice, action, start):
    _, (a,) = assigned(netoffice)
    Assignment.objects.filter(pk=a.pk).update(status=start, replied_on=a.assigned_on if start == "accepted" else None)
    a.refresh_from_db()
    step = states.ASSIGNMENT_MOVES[action]
    if start in step.sources:
        if step.target == "accepted":
            a.replied_on = a.assigned_on
        elif start == "accepted":
            a.replied_on = None
        assert states.move(a, action, actor=netoffice, also=("replied_on",)) is True
        assert a.status == step.target
    elif start == step.target and step.repeatable:
        assert states.move(a, action, actor=netoffice) is False
    else:
        with pytest.raises(IllegalTransition):
            states.move(a, action, actor=netoffice)
        a.refresh_from_db()
        assert a.status == start


def test_an_unknown_action_is_refused(netoffice):
    issue = register(netoffice)
    with pytest.raises(IllegalTransition, match="未知操作"):
        states.move(issue, "teleport", actor=netoffice)


def test_history_rows_cannot_be_changed_or_deleted_through_the_model(netoffice):
    issue = register(netoffice)
    entry = issue.history.get()
    entry.note = "篡改"
    with pytest.raises(ValueError, match="只能追加"):
        entry.save()
    with pytest.raises(ValueError, match="只能追加"):
        entry.delete()
    assert HistoryEntry.objects.get().note != "篡改"


def test_only_an_office_of_the_channel_registers_and_assigns(netoffice, ezoneoffice, zjj_head, leader):
    for outsider in (zjj_head, leader, ezoneoffice):
        with pytest.raises(NotPermitted):
            register(outsider, channel="net")
    issue = register(netoffice)
    for outsider in (zjj_head, leader, ezoneoffice):
        with pytest.raises(NotPermitted):
            services.assign_issue(actor=outsider, issue=issue, lead=dept("zjj"))
    assert not Assignment.objects.exists()


def test_register_and_assign_lands_both_or_neither(netoffice):
    from feedback.models import Category

    common = {
        "actor": netoffice,
        "channel": "net",
        "category": Category.objects.get(code="housing"),
        "requester": services.RequesterData(name="网友"),
        "title": "天桥",
        "content": "修天桥",
        "received_on": timezone.localdate(),
    }
    with pytest.raises(InvalidInput, match="与主办单位相同"):
        services.register_and_assign_issue(**common, lead=dept("zjj"), co=[dept("zjj")])
    assert not Issue.objects.exists()
    issue = services.register_and_assign_issue(**common, lead=dept("zjj"), co=[dept("jtj")])
    assert issue.assignments.count() == 2


def test_a_reopen_with_an_impossible_limit_is_refused_with_a_message(netoffice, zjj_head):
    issue = replied_issue(netoffice, zjj_head)
    with pytest.raises(InvalidInput, match="正整数"):
        services.reopen_issue(
            actor=netoffice, issue=issue, reason="不满意", deadline_amount=-1, deadline_unit="working_day"
        )
    issue.refresh_from_db()
    assert issue.status == Issue.Status.REPLIED
