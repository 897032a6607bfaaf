"""协办: the lead department sees its co-handlers' replies; each co-handler keeps its own clock and status.

Access rule (docs/architecture.md "Access"): a member of the lead department sees the replies of every
assignment of the issues it leads; a co-handler sees only its own department's replies. Reviewing stays
with the channel office.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from feedback import access, services
from feedback.models import Assignment, Department, Issue, SignedReply
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db
D = datetime.date
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2026, 11, 4, 10, 0, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def jtj_head(reference: None) -> Any:
    return make_user("jtj_head", department="jtj", role="department", is_head=True)


def submit(actor: Any, assignment: Assignment, summary: str) -> SignedReply:
    return services.submit_reply(
        actor=actor,
        assignment=assignment,
        file=reply_pdf(f"{summary}.pdf"),
        signer_name="负责人",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="partly_resolved",
        summary=summary,
    )


@pytest.fixture
def world(netoffice: Any, zjj_head: Any, jyj_head: Any, jtj_head: Any) -> dict[str, Any]:
    """Issue A: zjj leads, jyj and jtj co-handle, each has replied. Issue B: jyj leads, zjj co-handles."""
    issue, (lead, co_jyj, co_jtj) = assigned(
        netoffice, lead="zjj", co=("jyj", "jtj"), assigned_on=D(2026, 11, 2), title="学校周边道路积水"
    )
    other, (other_lead, other_co) = assigned(
        netoffice, lead="jyj", co=("zjj",), assigned_on=D(2026, 11, 2), title="校车接送安全"
    )
    return {
        "issue": issue,
        "lead": lead,
        "co_jyj": co_jyj,
        "co_jtj": co_jtj,
        "other": other,
        "lead_reply": submit(zjj_head, lead, "主办：已制定排水改造方案"),
        "jyj_reply": submit(jyj_head, co_jyj, "协办教育局：已通知学校错峰放学"),
        "jtj_reply": submit(jtj_head, co_jtj, "协办交通局：已设置临时警示标志"),
        "other_lead_reply": submit(jyj_head, other_lead, "教育局主办的另一件事"),
        "other_co_reply": submit(zjj_head, other_co, "住建局协办的另一件事"),
    }


def ids(queryset: Any) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_the_lead_sees_its_co_handlers_replies_and_only_on_the_issues_it_leads(world, zjj_head, jyj_head, jtj_head):
    assert ids(access.replies_for(zjj_head)) == {
        world["lead_reply"].pk,
        world["jyj_reply"].pk,
        world["jtj_reply"].pk,
        world["other_co_reply"].pk,
    }
    # jyj leads issue B (sees zjj's co-reply there) but only co-handles issue A (sees its own reply only).
    assert ids(access.replies_for(jyj_head)) == {
        world["jyj_reply"].pk,
        world["other_lead_reply"].pk,
        world["other_co_reply"].pk,
    }
    assert ids(access.replies_for(jtj_head)) == {world["jtj_reply"].pk}


def test_the_issue_page_shows_the_lead_every_co_handlers_reply(client, world, zjj_head):
    client.force_login(zjj_head)
    page = client.get(reverse("issue_detail", args=[world["issue"].pk])).content.decode()
    for key in ("lead_reply", "jyj_reply", "jtj_reply"):
        assert world[key].summary in page
        assert reverse("reply_download", args=[world[key].pk]) in page
    assert "审核通过" not in page  # seeing is not reviewing


def test_a_co_handler_sees_only_its_own_reply_on_the_issue_page(client, world, jyj_head):
    client.force_login(jyj_head)
    page = client.get(reverse("issue_detail", args=[world["issue"].pk])).content.decode()
    assert world["jyj_reply"].summary in page
    assert world["lead_reply"].summary not in page and world["jtj_reply"].summary not in page


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("zjj_head", {"lead_reply", "jyj_reply", "jtj_reply"}),
        ("jyj_head", {"jyj_reply"}),
        ("jtj_head", {"jtj_reply"}),
        ("netoffice", {"lead_reply", "jyj_reply", "jtj_reply"}),
        ("leader", {"lead_reply", "jyj_reply", "jtj_reply"}),
        ("ezoneoffice", set()),
    ],
)
def test_reply_downloads_follow_the_co_handling_rule(request, client, world, leader, ezoneoffice, who, visible):
    client.force_login(request.getfixturevalue(who))
    for key in ("lead_reply", "jyj_reply", "jtj_reply"):
        response = client.get(reverse("reply_download", args=[world[key].pk]))
        assert response.status_code == (200 if key in visible else 404), (who, key)
        if response.status_code == 200:
            assert response["Content-Disposition"].startswith("attachment")
            assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_the_api_lists_the_co_handlers_replies_for_the_lead_in_a_constant_number_of_queries(
    world, zjj_head, jtj_head, django_assert_max_num_queries
):
    lead_api, co_api = APIClient(), APIClient()
    lead_api.force_authenticate(zjj_head)
    co_api.force_authenticate(jtj_head)
    with django_assert_max_num_queries(8):
        rows = lead_api.get("/api/v1/replies/", {"page_size": 50}).json()["results"]
    assert {r["id"] for r in rows} == {world[k].pk for k in ("lead_reply", "jyj_reply", "jtj_reply", "other_co_reply")}
    assert lead_api.get(f"/api/v1/replies/{world['jyj_reply'].pk}/download/").status_code == 200
    assert co_api.get(f"/api/v1/replies/{world['jyj_reply'].pk}/").status_code == 404
    assert co_api.get(f"/api/v1/replies/{world['lead_reply'].pk}/download/").status_code == 404
    assert co_api.get("/api/v1/replies/").json()["count"] == 1


def test_the_lead_cannot_review_a_co_handlers_reply(client, world, zjj_head):
    api = APIClient()
    api.force_authenticate(zjj_head)
    response = api.post(f"/api/v1/replies/{world['jyj_reply'].pk}/accept/")
    assert response.status_code == 403  # visible to the lead, but reviewing is the office's
    client.force_login(zjj_head)
    assert client.post(reverse("reply_accept", args=[world["jyj_reply"].pk])).status_code == 404
    world["jyj_reply"].refresh_from_db()
    assert world["jyj_reply"].review_status == SignedReply.Review.PENDING


def test_a_withdrawn_lead_stops_seeing_the_co_handlers_replies_and_the_new_lead_starts(
    clock, netoffice, zjj_head, jyj_head, reference
):
    _, (lead, co) = assigned(netoffice, lead="zjj", co=("jyj",), assigned_on=D(2026, 11, 2))
    co_reply = submit(jyj_head, co, "协办意见")
    fgj_head = make_user("fgj_head", department="fgj", role="department", is_head=True)
    assert co_reply.pk in ids(access.replies_for(zjj_head))

    objection = services.raise_objection(actor=zjj_head, assignment=lead, reason="属发改局职责")
    services.accept_objection(
        actor=netoffice, objection=objection, department=Department.objects.get(code="fgj"), clock="continue"
    )

    assert co_reply.pk not in ids(access.replies_for(zjj_head))
    assert co_reply.pk in ids(access.replies_for(fgj_head))


def test_each_co_handler_keeps_its_own_due_date_and_status(clock, netoffice, zjj_head, jyj_head, jtj_head):
    issue, (lead, co_jyj, co_jtj) = assigned(netoffice, lead="zjj", co=("jyj", "jtj"), assigned_on=D(2026, 11, 2))
    services.acknowledge_assignment(actor=jyj_head, assignment=co_jyj)
    extension = services.request_extension(
        actor=jtj_head, assignment=co_jtj, requested_due_date=D(2026, 11, 23), reason="需要现场勘查"
    )
    services.decide_extension(actor=netoffice, request=extension, approve=True)
    services.accept_reply(actor=netoffice, reply=submit(zjj_head, lead, "主办答复"))

    rows = {a.department.code: (a.status, a.due_date) for a in issue.assignments.select_related("department")}
    assert rows == {
        "zjj": (Assignment.Status.ACCEPTED, D(2026, 11, 16)),
        "jyj": (Assignment.Status.ACKNOWLEDGED, D(2026, 11, 16)),
        "jtj": (Assignment.Status.PENDING, D(2026, 11, 23)),
    }
    issue.refresh_from_db()
    assert issue.status == Issue.Status.ASSIGNED  # the co-handlers have not answered yet

    services.accept_reply(actor=netoffice, reply=submit(jyj_head, co_jyj, "教育局答复"))
    services.accept_reply(actor=netoffice, reply=submit(jtj_head, co_jtj, "交通局答复"))
    issue.refresh_from_db()
    assert issue.status == Issue.Status.REPLIED


def test_a_co_handlers_overdue_mark_does_not_touch_the_others(clock, netoffice, jtj_head):
    from feedback.services.sweeps import sweep_deadlines

    _, (_lead, _co_jyj, co_jtj) = assigned(netoffice, lead="zjj", co=("jyj", "jtj"), assigned_on=D(2026, 11, 2))
    extension = services.request_extension(
        actor=jtj_head, assignment=co_jtj, requested_due_date=D(2026, 11, 23), reason="需要现场勘查"
    )
    services.decide_extension(actor=netoffice, request=extension, approve=True)

    sweep_deadlines(now=datetime.datetime(2026, 11, 18, 9, 30, tzinfo=SHANGHAI))

    overdue = set(Assignment.objects.filter(overdue_at__isnull=False).values_list("department__code", flat=True))
    assert overdue == {"zjj", "jyj"}
