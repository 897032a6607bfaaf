"""The issue page's reads compiled once per shape of scope (access.ScopedQuery, decision 0810) give every user
exactly the rows of the querysets built for that user: same rows, same order, same fields, nothing more."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Prefetch, prefetch_related_objects
from django.test import Client

from feedback import access, services
from feedback.models import DeadlineStep, Department, Issue, Objection
from feedback.views.issues import ISSUE_ASSIGNMENTS, ISSUE_HISTORY, ISSUE_PAGE, ISSUE_REPLIES, _attach_handling
from tests.conftest import make_user
from tests.factories import assigned, register
from tests.feedback.test_page_costs import submit

pytestmark = pytest.mark.postgres

# What the page prefetched for the assignments until the reads by issue (stop 30).
STEPS_BEFORE = Prefetch("steps", queryset=DeadlineStep.objects.order_by("scheduled_for", "id"), to_attr="ladder_steps")
OBJECTIONS_BEFORE = Prefetch(
    "objections",
    queryset=Objection.objects.select_related(
        "suggested_department", "raised_by", "decided_by", "new_assignment__department"
    ).order_by("raised_at", "id"),
)
READS = {"issue": ISSUE_PAGE, "assignments": ISSUE_ASSIGNMENTS, "replies": ISSUE_REPLIES, "history": ISSUE_HISTORY}


def fields(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


@pytest.fixture
def county(netoffice, ezoneoffice, petitionoffice, zjj_head, zjj_staff, jyj_head, hqz_head, leader, admin_user):
    """Issues of every channel, co-handled, replied, merged, and two accusations (one against the net office's
    own unit, one against zjj, which leads it); the users of every role, a leader in a unit and one of none."""
    issues = []
    for channel, office in (("net", netoffice), ("enterprise", ezoneoffice), ("citizen", petitionoffice)):
        issue, _ = assigned(office, channel=channel, lead="zjj", co=("jyj",))
        submit(zjj_head, issue)
        issues.append(issue)
        issues.append(assigned(office, channel=channel, lead="jyj")[0])
    lead = issues[0]
    issues.append(services.register_and_merge_issue(actor=netoffice, into=lead, **registration(netoffice)))
    for accused, lead_unit in (("wxb", "jyj"), ("zjj", "zjj")):
        issue, _ = assigned(netoffice, channel="net", lead=lead_unit, nature="complaint")
        Issue.objects.filter(pk=issue.pk).update(accused_department=Department.objects.get(code=accused))
        issues.append(issue)
    issues.append(register(netoffice, channel="net"))  # not yet assigned
    co = issues[0].assignments.get(department__code="jyj")  # an extension asked by the co-handler
    services.request_extension(
        actor=jyj_head,
        assignment=co,
        requested_due_date=co.due_date + datetime.timedelta(days=10),
        reason="需要现场调查",
    )
    lead = issues[1].assignments.get(department__code="jyj")  # an objection by a lead
    services.raise_objection(actor=jyj_head, assignment=lead, reason="不属于本单位职责")
    users = [netoffice, ezoneoffice, petitionoffice, zjj_head, zjj_staff, jyj_head, hqz_head, leader, admin_user]
    users.append(make_user("leader_in_unit", department="zjj", role=access.Role.LEADER))
    users.append(make_user("nobody"))
    return issues, users


def registration(office) -> dict:
    from feedback.models import Category

    return {
        "channel": "net",
        "category": Category.objects.get(code="housing"),
        "requester": services.RequesterData(name="网民甲", phone=""),
        "title": "同一件事又反映了一次",
        "content": "学校门口修建人行天桥，请尽快研究答复。",
        "received_on": Issue.objects.order_by("pk").first().received_on,
    }


def test_each_read_gives_every_user_the_rows_of_its_own_queryset(county):
    issues, users = county
    seen = 0
    for user in users:
        user = type(user).objects.get(pk=user.pk)  # a fresh object: its scope computed anew
        for issue in issues:
            plain = access.issues_for(user).filter(pk=issue.pk).first()
            compiled = ISSUE_PAGE.first(user, pk=issue.pk)
            assert (compiled is None) == (plain is None), (user.username, issue.ref)
            if plain is None:
                continue
            seen += 1
            assert compiled.has_merged == (issue.pk == issues[0].pk)
            assert {k: v for k, v in fields(compiled).items() if k != "has_merged"} == fields(plain)
            for name, read in READS.items():
                built = list(read._build(user, **{"pk" if name == "issue" else "issue": issue.pk}))
                got = read.fetch(user, **{"pk" if name == "issue" else "issue": issue.pk})
                assert [fields(r) for r in got] == [fields(r) for r in built], (user.username, issue.ref, name)
            handled = 0
            plain = list(ISSUE_ASSIGNMENTS._build(user, issue=issue.pk))
            prefetch_related_objects(plain, "extensions", OBJECTIONS_BEFORE, STEPS_BEFORE)
            got = ISSUE_ASSIGNMENTS.fetch(user, issue=issue.pk)
            _attach_handling(got, issue.pk)
            for before, after in zip(plain, got, strict=True):
                assert [fields(e) for e in before.extensions.all()] == [fields(e) for e in after.extension_list]
                assert [fields(o) for o in before.objections.all()] == [fields(o) for o in after.objection_list]
                assert [fields(s) for s in before.ladder_steps] == [fields(s) for s in after.ladder_steps]
                handled += len(after.extension_list) + len(after.objection_list)
            if user.username == "jyj_head" and issue.pk in (issues[0].pk, issues[1].pk):
                assert handled == 1, issue.ref
            if user.username == "zjj_head" and issue.pk == issues[0].pk:
                assert handled == 0  # the co-handler's extension is not the lead's to see
    assert seen > 40
    # One statement per shape of scope: admin, leader (in a unit or not), office, department.
    assert len(ISSUE_PAGE._shapes) <= 5


def test_an_accused_unit_never_reads_the_accusation_and_an_office_only_its_channel(county):
    issues, users = county
    by_name = {u.username: u for u in users}
    against_wxb, against_zjj = issues[-3], issues[-2]
    assert ISSUE_PAGE.first(by_name["netoffice"], pk=against_wxb.pk) is None  # the net office is wxb
    assert ISSUE_PAGE.first(by_name["zjj_head"], pk=against_zjj.pk) is None  # though zjj leads it
    assert ISSUE_ASSIGNMENTS.fetch(by_name["zjj_head"], issue=against_zjj.pk) == []
    assert ISSUE_PAGE.first(by_name["leader_in_unit"], pk=against_zjj.pk) is None
    assert ISSUE_PAGE.first(by_name["leader"], pk=against_zjj.pk) is not None
    enterprise = issues[2]
    assert ISSUE_PAGE.first(by_name["netoffice"], pk=enterprise.pk) is None
    assert ISSUE_PAGE.first(by_name["ezoneoffice"], pk=enterprise.pk) is not None
    assert ISSUE_PAGE.first(by_name["hqz_head"], pk=issues[0].pk) is None  # not assigned to hqz
    assert ISSUE_PAGE.first(by_name["nobody"], pk=issues[0].pk) is None


def test_a_co_handler_reads_only_its_own_reply_and_the_lead_every_reply(county, jyj_head, zjj_head):
    issues, _ = county
    issue = issues[0]  # zjj leads, jyj co-handles; zjj has replied
    assert [r.assignment.department.code for r in ISSUE_REPLIES.fetch(zjj_head, issue=issue.pk)] == ["zjj"]
    assert ISSUE_REPLIES.fetch(jyj_head, issue=issue.pk) == []


def test_the_issue_page_answers_404_out_of_scope_and_shows_the_reads_in_scope(county, netoffice, ezoneoffice):
    issues, _ = county
    client = Client()
    client.force_login(netoffice)
    assert client.get(f"/issues/{issues[2].pk}/").status_code == 404  # an enterprise issue
    assert client.get(f"/issues/{issues[-3].pk}/").status_code == 404  # accusing the net office's unit
    assert client.get(f"/issues/{2**40}/").status_code == 404
    page = client.get(f"/issues/{issues[0].pk}/").content.decode()
    lead, co = (Department.objects.get(code=c).name for c in ("zjj", "jyj"))
    for shown in (issues[0].ref, lead, co, "经测算，暂不具备建设条件。", "同一件事又反映了一次", "交办"):
        assert shown in page
