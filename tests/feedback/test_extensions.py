"""延期: asked before the due date, within the policy's limit, decided by the channel office."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from feedback import services
from feedback.errors import ConcurrentChange, IllegalTransition, InvalidInput, NotPermitted
from feedback.models import ExtensionRequest
from tests.factories import assigned

pytestmark = pytest.mark.django_db
D = datetime.date
NOV_2 = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock():
    with time_machine.travel(NOV_2, tick=False) as traveller:
        yield traveller


@pytest.fixture
def net_assignment(clock, netoffice):
    # 政网: 10 working days from Mon 2026-11-02 → Mon 11-16; extension up to 10 more working days → 11-30.
    _, (a,) = assigned(netoffice, assigned_on=D(2026, 11, 2))
    assert a.due_date == D(2026, 11, 16)
    return a


def test_an_approved_extension_moves_the_due_date_and_keeps_the_original(net_assignment, netoffice, zjj_head):
    request = services.request_extension(
        actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 27), reason="需现场测量人流量"
    )
    services.decide_extension(actor=netoffice, request=request, approve=True)
    net_assignment.refresh_from_db()
    assert net_assignment.due_date == D(2026, 11, 27)
    assert net_assignment.original_due_date == D(2026, 11, 16)
    assert net_assignment.deadline_version == 2
    assert net_assignment.history.filter(action="extension_decided").count() == 1


def test_an_extension_beyond_the_policy_limit_is_refused_with_the_limit(net_assignment, zjj_head):
    with pytest.raises(InvalidInput, match="最晚可延至 2026-11-30"):
        services.request_extension(
            actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 12, 1), reason="复杂"
        )
    assert not ExtensionRequest.objects.exists()


def test_an_extension_asked_after_the_due_date_is_refused(net_assignment, zjj_head):
    later = datetime.datetime(2026, 11, 17, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(later, tick=False), pytest.raises(InvalidInput, match="已超过办理期限"):
        services.request_extension(
            actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 20), reason="来不及"
        )


def test_extension_requests_need_a_reason_a_later_date_and_only_one_pending(net_assignment, zjj_head):
    with pytest.raises(InvalidInput, match="理由"):
        services.request_extension(
            actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 20), reason=" "
        )
    with pytest.raises(InvalidInput, match="必须晚于"):
        services.request_extension(
            actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 16), reason="x"
        )
    services.request_extension(
        actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 20), reason="x"
    )
    with pytest.raises(ConcurrentChange):
        services.request_extension(
            actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 23), reason="y"
        )


def test_only_the_department_asks_and_only_the_office_decides(
    net_assignment, netoffice, ezoneoffice, jyj_head, zjj_head, leader
):
    with pytest.raises(NotPermitted):
        services.request_extension(
            actor=jyj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 20), reason="x"
        )
    request = services.request_extension(
        actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 20), reason="x"
    )
    for outsider in (zjj_head, ezoneoffice, leader):
        with pytest.raises(NotPermitted):
            services.decide_extension(actor=outsider, request=request, approve=True)
    with pytest.raises(InvalidInput, match="理由"):
        services.decide_extension(actor=netoffice, request=request, approve=False)
    services.decide_extension(actor=netoffice, request=request, approve=False, note="理由不充分")
    with pytest.raises(IllegalTransition):
        services.decide_extension(actor=netoffice, request=request, approve=True)
    net_assignment.refresh_from_db()
    assert net_assignment.due_date == D(2026, 11, 16)


def test_a_petition_may_be_extended_once_by_at_most_thirty_days(clock, petitionoffice, hqz_head):
    # 政民: 60 calendar days from 2026-11-02 → 2027-01-01 is New Year's Day (provisional year) → 01-04.
    _, (a,) = assigned(petitionoffice, channel="citizen", lead="hqz", assigned_on=D(2026, 11, 2))
    assert (a.due_date, a.provisional) == (D(2027, 1, 4), True)
    assert services.extension_limit(a) == D(2027, 2, 3)  # 30 calendar days after the original due date
    first = services.request_extension(
        actor=hqz_head, assignment=a, requested_due_date=a.due_date + datetime.timedelta(days=10), reason="需调查取证"
    )
    services.decide_extension(actor=petitionoffice, request=first, approve=True)
    a.refresh_from_db()
    with pytest.raises(InvalidInput, match="只能延期一次"):
        services.request_extension(
            actor=hqz_head,
            assignment=a,
            requested_due_date=a.due_date + datetime.timedelta(days=5),
            reason="还需要时间",
        )


def test_extensions_through_the_pages(client, net_assignment, netoffice, zjj_head):
    client.force_login(zjj_head)
    page = client.get(reverse("issue_detail", args=[net_assignment.issue_id])).content.decode()
    assert "申请延期" in page
    response = client.post(
        reverse("extension_request", args=[net_assignment.pk]),
        {"requested_due_date": "2026-12-15", "reason": "复杂"},
        follow=True,
    )
    assert "最晚可延至 2026-11-30" in response.content.decode()
    client.post(
        reverse("extension_request", args=[net_assignment.pk]),
        {"requested_due_date": "2026-11-25", "reason": "需现场测量"},
    )
    request = ExtensionRequest.objects.get()
    assert client.post(reverse("extension_decide", args=[request.pk, "approve"])).status_code == 302
    request.refresh_from_db()
    assert request.status == "pending"  # a department cannot approve its own request
    client.force_login(netoffice)
    client.post(reverse("extension_decide", args=[request.pk, "approve"]), {"note": ""})
    net_assignment.refresh_from_db()
    assert net_assignment.due_date == D(2026, 11, 25)
    page = client.get(reverse("issue_detail", args=[net_assignment.issue_id])).content.decode()
    assert "原定期限 2026-11-16" in page


def test_extensions_through_the_api(client, net_assignment, netoffice, zjj_head, jyj_head):
    client.force_login(jyj_head)
    url = f"/api/v1/assignments/{net_assignment.pk}/extensions/"
    assert client.post(url, {"requested_due_date": "2026-11-20", "reason": "x"}).status_code == 404
    client.force_login(zjj_head)
    bad = client.post(url, {"requested_due_date": "2026-12-20", "reason": "x"})
    assert bad.status_code == 400 and "最晚可延至" in bad.json()["requested_due_date"][0]
    created = client.post(url, {"requested_due_date": "2026-11-20", "reason": "需现场测量"})
    assert created.status_code == 201 and created.json()["status"] == "pending"
    ext_id = created.json()["id"]
    assert client.post(f"/api/v1/extensions/{ext_id}/approve/", {}).status_code == 403
    client.force_login(netoffice)
    rejected = client.post(f"/api/v1/extensions/{ext_id}/reject/", {})
    assert rejected.status_code == 400
    approved = client.post(f"/api/v1/extensions/{ext_id}/approve/", {})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    detail = client.get(f"/api/v1/assignments/{net_assignment.pk}/").json()
    assert detail["due_date"] == "2026-11-20" and detail["original_due_date"] == "2026-11-16"


def test_an_extension_left_pending_cannot_be_approved_once_the_reply_is_accepted(net_assignment, netoffice, zjj_head):
    from tests.conftest import reply_pdf

    request = services.request_extension(
        actor=zjj_head, assignment=net_assignment, requested_due_date=D(2026, 11, 20), reason="需现场测量"
    )
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=net_assignment,
        file=reply_pdf(),
        signer_name="王",
        signer_title="局长",
        signed_on=D(2026, 11, 2),
        result="resolved",
        summary="已解决",
    )
    services.accept_reply(actor=netoffice, reply=reply)
    with pytest.raises(IllegalTransition, match="无需再延期"):
        services.decide_extension(actor=netoffice, request=request, approve=True)
    net_assignment.refresh_from_db()
    assert net_assignment.due_date == D(2026, 11, 16)
