"""检举控告 (信访工作条例 art. 30): an accusation is never shown to the accused unit.

The rule lives once in ``feedback.access``; these tests walk every surface a department
member can reach. To prove the rule holds "even if it is also assigned", one issue is made to
have an assignment to the accused unit behind the services' back (as if the accused unit were
identified after assignment); the services themselves refuse such an assignment.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from feedback import access, services
from feedback.errors import InvalidInput
from feedback.models import Assignment, Category, Department, Issue, Objection
from tests.conftest import reply_pdf

pytestmark = pytest.mark.django_db


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def accuse(
    actor,
    *,
    accused: str = "zjj",
    lead: str | None = "jtj",
    nature: str = Issue.Nature.REPORT,
    title: str = "举报住建局工作人员索要好处费",
) -> Issue:
    return services.register_and_assign_issue(
        actor=actor,
        channel="citizen",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="匿名群众", phone="13800001111"),
        title=title,
        content=f"{title}，请查处。",
        received_on=timezone.localdate(),
        nature=nature,
        accused_department=dept(accused),
        lead=dept(lead) if lead else None,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(petitionoffice, zjj_head, jtj_head):
    """``handled``: an accusation against 住建局 handled by 交通局. ``leaked``: an accusation against
    住建局 that 住建局 had been assigned (and replied to) before it was named the accused unit."""
    handled = accuse(petitionoffice)
    leaked = services.register_and_assign_issue(
        actor=petitionoffice,
        channel="citizen",
        category=Category.objects.get(code="housing"),
        requester=services.RequesterData(name="匿名群众", phone="13800002222"),
        title="举报拆迁补偿被截留",
        content="举报拆迁补偿被截留。",
        received_on=timezone.localdate(),
        nature=Issue.Nature.REPORT,
        lead=dept("zjj"),
    )
    assignment = leaked.assignments.get()
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=assignment,
        file=reply_pdf(),
        signer_name="王",
        signer_title="局长",
        signed_on=assignment.assigned_on,
        result="resolved",
        summary="已处理",
    )
    Issue.objects.filter(pk=leaked.pk).update(accused_department=dept("zjj"))
    return {"handled": handled, "leaked": leaked, "assignment": assignment, "reply": reply}


def test_an_accusation_must_be_a_report_or_a_complaint(petitionoffice):
    with pytest.raises(InvalidInput, match="只有举报、投诉类诉求") as exc:
        accuse(petitionoffice, nature=Issue.Nature.SUGGESTION)
    assert exc.value.field == "accused_department"
    assert accuse(petitionoffice, nature=Issue.Nature.COMPLAINT).accused_department.code == "zjj"


def test_the_database_refuses_an_accused_unit_on_a_suggestion(petitionoffice):
    from django.db import IntegrityError, transaction

    issue = accuse(petitionoffice, lead=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.filter(pk=issue.pk).update(nature=Issue.Nature.SUGGESTION)


def test_an_accusation_cannot_be_assigned_to_the_accused_unit(petitionoffice):
    with pytest.raises(InvalidInput, match="是本诉求的被举报单位，不能交由其办理") as exc:
        accuse(petitionoffice, lead="zjj")
    assert exc.value.field == "lead"
    assert not Issue.objects.filter(title__startswith="举报住建局").exists()  # both or neither
    issue = accuse(petitionoffice, lead=None)
    with pytest.raises(InvalidInput, match="被举报单位") as exc:
        services.assign_issue(actor=petitionoffice, issue=issue, lead=dept("jtj"), co=[dept("zjj")])
    assert exc.value.field == "co"


def test_an_objection_cannot_hand_an_accusation_to_the_accused_unit(world, petitionoffice, jtj_head):
    assignment = world["handled"].assignments.get()
    objection = services.raise_objection(actor=jtj_head, assignment=assignment, reason="不属于交通局职责")
    with pytest.raises(InvalidInput, match="被举报单位"):
        services.accept_objection(
            actor=petitionoffice, objection=objection, department=dept("zjj"), clock=Objection.Clock.CONTINUE
        )


def test_the_api_refuses_the_assignment_with_the_reason(petitionoffice):
    issue = accuse(petitionoffice, lead=None)
    response = api(petitionoffice).post(f"/api/v1/issues/{issue.pk}/assign/", {"lead": "zjj"}, format="json")
    assert response.status_code == 400
    assert "被举报单位" in str(response.json())


def test_the_accused_unit_sees_no_accusation_in_the_scoped_querysets(world, zjj_head, jtj_head):
    assert not access.issues_for(zjj_head).filter(accused_department__code="zjj").exists()
    assert not access.assignments_for(zjj_head).exists()
    assert not access.replies_for(zjj_head).exists()
    assert set(access.issues_for(jtj_head).values_list("pk", flat=True)) == {world["handled"].pk}


def test_everyone_else_still_sees_the_accusation(world, petitionoffice, leader, admin_user, jtj_head):
    for user in (petitionoffice, leader, admin_user):
        assert access.issues_for(user).filter(pk=world["leaked"].pk).exists()
        assert access.replies_for(user).filter(pk=world["reply"].pk).exists()
    assert access.issues_for(jtj_head).filter(pk=world["handled"].pk).exists()


def test_the_accused_unit_gets_404_on_the_detail_page_and_nothing_in_the_list(client, world, zjj_head):
    client.force_login(zjj_head)
    for key in ("handled", "leaked"):
        assert client.get(reverse("issue_detail", args=[world[key].pk])).status_code == 404
    listing = client.get(reverse("issue_list")).content.decode()
    assert "索要好处费" not in listing and "截留" not in listing
    assert world["leaked"].ref not in listing and world["handled"].ref not in listing


def test_the_accused_unit_has_nothing_in_its_inbox(client, world, zjj_head):
    client.force_login(zjj_head)
    for tab in ("", "?tab=in_progress", "?tab=overdue", "?tab=replied"):
        page = client.get(reverse("inbox") + tab).content.decode()
        assert world["leaked"].ref not in page


def test_the_accused_unit_cannot_download_or_act_on_the_reply(client, world, zjj_head):
    client.force_login(zjj_head)
    assert client.get(reverse("reply_download", args=[world["reply"].pk])).status_code == 404
    assert client.get(reverse("assignment_slip", args=[world["assignment"].pk])).status_code == 404
    assert client.post(reverse("assignment_acknowledge", args=[world["assignment"].pk])).status_code == 404


def test_the_accused_unit_sees_nothing_through_the_api(world, zjj_head):
    client = api(zjj_head)
    assert client.get("/api/v1/issues/").json()["count"] == 0
    assert client.get("/api/v1/assignments/").json()["count"] == 0
    for url in (
        f"/api/v1/issues/{world['leaked'].pk}/",
        f"/api/v1/issues/{world['handled'].pk}/",
        f"/api/v1/issues/{world['leaked'].pk}/history/",
        f"/api/v1/assignments/{world['assignment'].pk}/",
        f"/api/v1/replies/{world['reply'].pk}/",
        f"/api/v1/replies/{world['reply'].pk}/file/",
    ):
        assert client.get(url).status_code == 404, url


def test_the_accused_unit_counts_nothing_in_statistics_or_drill_down(client, world, zjj_head):
    summary = api(zjj_head).get("/api/v1/stats/summary/").json()
    assert summary["issues"] == 0
    assert api(zjj_head).get("/api/v1/stats/departments/").json() == []
    client.force_login(zjj_head)
    for which in ("overdue", "unreplied"):
        page = client.get(reverse("dashboard_items"), {"which": which}).content.decode()
        assert world["leaked"].ref not in page


def test_the_accused_unit_exports_nothing(client, world, zjj_head):
    client.force_login(zjj_head)
    response = client.get(reverse("issue_export"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert all(world["leaked"].ref not in (row[0] or "") for row in rows[1:])
    response = client.get(reverse("inbox_export"))
    assert world["leaked"].ref.encode() not in response.content
    ledger = client.get(reverse("issue_export_ledger"))
    assert world["leaked"].ref not in b"".join(
        ledger.streaming_content if ledger.streaming else [ledger.content]
    ).decode("utf-8-sig")


def test_a_leader_whose_department_is_accused_does_not_see_it(world):
    from tests.conftest import make_user

    member = make_user("zjj_leader", department="zjj", role=access.Role.LEADER)
    assert not access.issues_for(member).filter(accused_department__code="zjj").exists()
    assert Assignment.objects.filter(issue=world["leaked"]).exists()


def test_an_accusation_is_registered_on_the_form_and_hidden_from_the_accused(client, netoffice, zjj_head):
    from django.urls import reverse

    from feedback.models import Category, Department, Issue

    client.force_login(netoffice)
    response = client.post(
        reverse("issue_create"),
        {
            "channel": "net",
            "received_on": "2026-11-02",
            "nature": "report",
            "category": Category.objects.get(code="housing").pk,
            "requester_kind": "netizen",
            "requester_name": "匿名网友",
            "title": "举报某单位违规收费",
            "content": "详见材料",
            "accused_department": Department.objects.get(code="zjj").pk,
            "lead": Department.objects.get(code="jtj").pk,
        },
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert issue.accused_department.code == "zjj"
    client.force_login(zjj_head)
    assert client.get(reverse("issue_detail", args=[issue.pk])).status_code == 404


def test_the_form_refuses_the_accused_unit_as_handler(client, netoffice):
    from django.urls import reverse

    from feedback.models import Category, Department, Issue

    client.force_login(netoffice)
    zjj = Department.objects.get(code="zjj")
    response = client.post(
        reverse("issue_create"),
        {
            "channel": "net",
            "received_on": "2026-11-02",
            "nature": "report",
            "category": Category.objects.get(code="housing").pk,
            "requester_kind": "netizen",
            "requester_name": "匿名网友",
            "title": "举报",
            "content": "详见材料",
            "accused_department": zjj.pk,
            "lead": zjj.pk,
        },
    )
    assert response.status_code == 200 and "被举报" in response.content.decode()
    assert not Issue.objects.exists()


def test_an_accusation_is_registered_through_the_api(client, netoffice):
    from feedback.models import Issue

    client.force_login(netoffice)
    response = client.post(
        "/api/v1/issues/",
        {
            "nature": "report",
            "category": "housing",
            "title": "举报",
            "content": "详见材料",
            "requester": {"name": "匿名网友"},
            "accused_department": "zjj",
            "lead": "jtj",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert Issue.objects.get().accused_department.code == "zjj"
    wrong = client.post(
        "/api/v1/issues/",
        {
            "nature": "suggestion",
            "category": "housing",
            "title": "建议",
            "content": "x",
            "requester": {"name": "网友"},
            "accused_department": "zjj",
        },
        content_type="application/json",
    )
    assert wrong.status_code == 400 and "accused_department" in wrong.json()
