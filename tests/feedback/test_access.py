"""Who sees what: scoped querysets for every role; out of scope answers 404 in every view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback import access
from feedback.access import Role
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(netoffice, ezoneoffice, zjj_head, jyj_head):
    """A 政网 issue handled by 住建局, and a 政企 issue handled by 教育局 with 住建局 co-handling."""
    net_issue, (net_a,) = assigned(netoffice, lead="zjj", channel="net")
    ent_issue, (ent_lead, ent_co) = assigned(
        ezoneoffice, lead="jyj", co=("zjj",), channel="enterprise", title="园区通勤公交"
    )
    return {"net": net_issue, "net_a": net_a, "ent": ent_issue, "ent_lead": ent_lead, "ent_co": ent_co}


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_roles_are_read_from_groups_and_departments(netoffice, zjj_staff, leader, admin_user):
    assert access.scope_of(netoffice).role == Role.OFFICE
    assert access.scope_of(netoffice).channel == "net"
    assert access.scope_of(zjj_staff).role == Role.DEPARTMENT
    assert access.scope_of(leader).role == Role.LEADER
    assert access.scope_of(admin_user).role == Role.ADMIN
    assert access.scope_of(make_user("nobody")).role == Role.NONE


def test_a_channel_office_sees_only_its_channel(world, netoffice, ezoneoffice):
    assert ids(access.issues_for(netoffice)) == {world["net"].pk}
    assert ids(access.issues_for(ezoneoffice)) == {world["ent"].pk}
    assert ids(access.assignments_for(ezoneoffice)) == {world["ent_lead"].pk, world["ent_co"].pk}


def test_a_department_sees_its_assignments_and_their_issues(world, zjj_head, jyj_head):
    assert ids(access.issues_for(zjj_head)) == {world["net"].pk, world["ent"].pk}
    assert ids(access.assignments_for(zjj_head)) == {world["net_a"].pk, world["ent_co"].pk}
    assert ids(access.issues_for(jyj_head)) == {world["ent"].pk}
    assert ids(access.assignments_for(jyj_head)) == {world["ent_lead"].pk}


def test_leader_and_admin_see_everything_and_a_user_without_role_nothing(world, leader, admin_user):
    for user in (leader, admin_user):
        assert ids(access.issues_for(user)) == {world["net"].pk, world["ent"].pk}
        assert access.assignments_for(user).count() == 3
    nobody = make_user("nobody")
    assert not access.issues_for(nobody).exists()
    assert not access.assignments_for(nobody).exists()


def test_a_retired_department_loses_its_access(world, zjj_head):
    from feedback.models import Department

    Department.objects.filter(code="zjj").update(active=False)
    zjj_head.refresh_from_db()
    assert not access.issues_for(zjj_head).exists()


@pytest.mark.parametrize(
    "username, visible",
    [
        ("netoffice", {"net"}),
        ("ezoneoffice", {"ent"}),
        ("zjj_head", {"net", "ent"}),
        ("jyj_head", {"ent"}),
        ("leader", {"net", "ent"}),
        ("admin", {"net", "ent"}),
    ],
)
def test_issue_pages_answer_404_out_of_scope(client, world, leader, admin_user, username, visible):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    for key in ("net", "ent"):
        response = client.get(reverse("issue_detail", args=[world[key].pk]))
        assert response.status_code == (200 if key in visible else 404), (username, key)
    listing = client.get(reverse("issue_list")).content.decode()
    for key in ("net", "ent"):
        assert (world[key].ref in listing) == (key in visible), (username, key)


def test_another_departments_assignment_is_404_for_acknowledge_and_reply(client, world, jyj_head):
    client.force_login(jyj_head)
    net_a = world["net_a"]
    assert client.post(reverse("assignment_acknowledge", args=[net_a.pk])).status_code == 404
    assert client.get(reverse("reply_upload", args=[net_a.pk])).status_code == 404
    response = client.post(
        reverse("reply_upload", args=[net_a.pk]),
        {
            "file": reply_pdf(),
            "signer_name": "x",
            "signer_title": "x",
            "signed_on": "2026-01-01",
            "result": "resolved",
            "summary": "x",
        },
    )
    assert response.status_code == 404
    net_a.refresh_from_db()
    assert net_a.status == "pending" and not net_a.replies.exists()


def test_reply_files_download_only_within_scope(client, world, netoffice, ezoneoffice, zjj_head, jyj_head, leader):
    from feedback import services

    reply = services.submit_reply(
        actor=zjj_head,
        assignment=world["net_a"],
        file=reply_pdf(),
        signer_name="王",
        signer_title="局长",
        signed_on=world["net_a"].assigned_on,
        result="resolved",
        summary="已解决",
    )
    url = reverse("reply_download", args=[reply.pk])
    for user, status in ((netoffice, 200), (zjj_head, 200), (leader, 200), (ezoneoffice, 404), (jyj_head, 404)):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == status, user
        if status == 200:
            assert response["Content-Disposition"].startswith("attachment")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_the_leader_is_read_only(client, world, leader):
    client.force_login(leader)
    assert client.get(reverse("issue_create")).status_code == 404
    response = client.post(reverse("issue_assign", args=[world["net"].pk]), {"lead": 1})
    assert response.status_code == 404
    response = client.post(reverse("assignment_acknowledge", args=[world["net_a"].pk]), follow=True)
    world["net_a"].refresh_from_db()
    assert world["net_a"].status == "pending"
    assert "只有承办单位" in response.content.decode()


def test_a_department_cannot_review_or_close(client, world, zjj_head):
    client.force_login(zjj_head)
    for name in ("issue_assign", "issue_follow_up", "issue_follow_up_skipped", "issue_close", "issue_reopen"):
        assert client.post(reverse(name, args=[world["net"].pk]), {"reason": "x"}).status_code == 404, name
