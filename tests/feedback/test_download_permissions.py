"""Who may fetch which file or document (issue 5, "download permission is tested for every role").

One net issue, led by 县住建局 (zjj) with 县交通运输局 (jtj) co-handling, overdue, with a reply scan
from each. Every role × endpoint × object answers exactly as POLICY says. POLICY is kept here, in
code, as the plan's §3.4 asks: a role or endpoint without an entry fails the test, so a new endpoint
forces a decision. Out of scope is 404 (never 403); an anonymous browser is sent to the login page.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.access import Role
from tests.conftest import make_user, reply_pdf
from tests.factories import assigned

pytestmark = pytest.mark.django_db

ROLES = [
    "netoffice",  # the office of the issue's channel (政网)
    "ezoneoffice",  # another channel's office
    "petitionoffice",  # another channel's office
    "lead_head",  # 县住建局, head
    "lead_staff",  # 县住建局, staff
    "co_member",  # 县交通运输局, co-handling
    "unrelated",  # 县教育局, not on the issue
    "leader",
    "admin",
    "anonymous",
]

ENDPOINTS = {
    # name: (URL of the lead's object, URL of the co-handler's object)
    "reply_download": lambda w: (
        reverse("reply_download", args=[w["lead_reply"]]),
        reverse("reply_download", args=[w["co_reply"]]),
    ),
    "api_reply_download": lambda w: (
        f"/api/v1/replies/{w['lead_reply']}/download/",
        f"/api/v1/replies/{w['co_reply']}/download/",
    ),
    "reply_preview": lambda w: (
        reverse("reply_preview", args=[w["lead_reply"]]),
        reverse("reply_preview", args=[w["co_reply"]]),
    ),
    "reply_template_docx": lambda w: (
        reverse("assignment_reply_template", args=[w["lead"]]),
        reverse("assignment_reply_template", args=[w["co"]]),
    ),
    "assignment_slip": lambda w: (
        reverse("assignment_slip", args=[w["lead"]]),
        reverse("assignment_slip", args=[w["co"]]),
    ),
    "chase_notice": lambda w: (
        reverse("assignment_chase_notice", args=[w["lead"]]),
        reverse("assignment_chase_notice", args=[w["co"]]),
    ),
}

# Endpoints that answer with a file rather than a portal page.
FILES = ("reply_download", "api_reply_download", "reply_preview", "reply_template_docx")

OK, HIDDEN, LOGIN = 200, 404, 302
API_ANONYMOUS = 401  # token authentication comes first: 401 with "WWW-Authenticate: Token"

# (status for the lead's object, status for the co-handler's object). The cells marked "lead sees
# co-handlers' replies" hold since access.replies_for lets a lead department's members see the
# co-handlers' replies (协办单位的回复汇总到主办单位); before that change they were 404.
POLICY: dict[tuple[str, str], tuple[int, int]] = {
    # --- the reply scan, HTML download ---
    ("reply_download", "netoffice"): (OK, OK),
    ("reply_download", "ezoneoffice"): (HIDDEN, HIDDEN),
    ("reply_download", "petitionoffice"): (HIDDEN, HIDDEN),
    ("reply_download", "lead_head"): (OK, OK),  # co: lead sees co-handlers' replies (access.replies_for)
    ("reply_download", "lead_staff"): (OK, OK),  # co: lead sees co-handlers' replies (access.replies_for)
    ("reply_download", "co_member"): (HIDDEN, OK),
    ("reply_download", "unrelated"): (HIDDEN, HIDDEN),
    ("reply_download", "leader"): (OK, OK),
    ("reply_download", "admin"): (OK, OK),
    ("reply_download", "anonymous"): (LOGIN, LOGIN),
    # --- the reply scan, API download ---
    ("api_reply_download", "netoffice"): (OK, OK),
    ("api_reply_download", "ezoneoffice"): (HIDDEN, HIDDEN),
    ("api_reply_download", "petitionoffice"): (HIDDEN, HIDDEN),
    ("api_reply_download", "lead_head"): (OK, OK),  # co: lead sees co-handlers' replies (access.replies_for)
    ("api_reply_download", "lead_staff"): (OK, OK),  # co: lead sees co-handlers' replies (access.replies_for)
    ("api_reply_download", "co_member"): (HIDDEN, OK),
    ("api_reply_download", "unrelated"): (HIDDEN, HIDDEN),
    ("api_reply_download", "leader"): (OK, OK),
    ("api_reply_download", "admin"): (OK, OK),
    ("api_reply_download", "anonymous"): (API_ANONYMOUS, API_ANONYMOUS),
    # --- first-page preview of the reply scan: same scope as the download ---
    ("reply_preview", "netoffice"): (OK, OK),
    ("reply_preview", "ezoneoffice"): (HIDDEN, HIDDEN),
    ("reply_preview", "petitionoffice"): (HIDDEN, HIDDEN),
    ("reply_preview", "lead_head"): (OK, OK),  # co: lead sees co-handlers' replies (access.replies_for)
    ("reply_preview", "lead_staff"): (OK, OK),  # co: lead sees co-handlers' replies (access.replies_for)
    ("reply_preview", "co_member"): (HIDDEN, OK),
    ("reply_preview", "unrelated"): (HIDDEN, HIDDEN),
    ("reply_preview", "leader"): (OK, OK),
    ("reply_preview", "admin"): (OK, OK),
    ("reply_preview", "anonymous"): (LOGIN, LOGIN),
    # --- 回复函 template (DOCX): whoever sees the assignment (access.assignments_for) ---
    ("reply_template_docx", "netoffice"): (OK, OK),
    ("reply_template_docx", "ezoneoffice"): (HIDDEN, HIDDEN),
    ("reply_template_docx", "petitionoffice"): (HIDDEN, HIDDEN),
    ("reply_template_docx", "lead_head"): (OK, HIDDEN),
    ("reply_template_docx", "lead_staff"): (OK, HIDDEN),
    ("reply_template_docx", "co_member"): (HIDDEN, OK),
    ("reply_template_docx", "unrelated"): (HIDDEN, HIDDEN),
    ("reply_template_docx", "leader"): (OK, OK),
    ("reply_template_docx", "admin"): (OK, OK),
    ("reply_template_docx", "anonymous"): (LOGIN, LOGIN),
    # --- 交办单 ---
    ("assignment_slip", "netoffice"): (OK, OK),
    ("assignment_slip", "ezoneoffice"): (HIDDEN, HIDDEN),
    ("assignment_slip", "petitionoffice"): (HIDDEN, HIDDEN),
    ("assignment_slip", "lead_head"): (OK, HIDDEN),
    ("assignment_slip", "lead_staff"): (OK, HIDDEN),
    ("assignment_slip", "co_member"): (HIDDEN, OK),
    ("assignment_slip", "unrelated"): (HIDDEN, HIDDEN),
    ("assignment_slip", "leader"): (OK, OK),
    ("assignment_slip", "admin"): (OK, OK),
    ("assignment_slip", "anonymous"): (LOGIN, LOGIN),
    # --- 催办通知书 (both assignments are overdue) ---
    ("chase_notice", "netoffice"): (OK, OK),
    ("chase_notice", "ezoneoffice"): (HIDDEN, HIDDEN),
    ("chase_notice", "petitionoffice"): (HIDDEN, HIDDEN),
    ("chase_notice", "lead_head"): (OK, HIDDEN),
    ("chase_notice", "lead_staff"): (OK, HIDDEN),
    ("chase_notice", "co_member"): (HIDDEN, OK),
    ("chase_notice", "unrelated"): (HIDDEN, HIDDEN),
    ("chase_notice", "leader"): (OK, OK),
    ("chase_notice", "admin"): (OK, OK),
    ("chase_notice", "anonymous"): (LOGIN, LOGIN),
}


@pytest.fixture
def world(netoffice, ezoneoffice, petitionoffice, zjj_head, zjj_staff, jyj_head, leader, admin_user):
    co_member = make_user("jtj_staff", department="jtj", role=Role.DEPARTMENT)
    _issue, (lead, co) = assigned(
        netoffice, lead="zjj", co=("jtj",), assigned_on=timezone.localdate() - datetime.timedelta(days=40)
    )
    signed = {
        "signer_name": "王建国",
        "signer_title": "局长",
        "signed_on": timezone.localdate(),
        "result": "explained",
        "summary": "已答复。",
    }
    lead_reply = services.submit_reply(actor=zjj_head, assignment=lead, file=reply_pdf(), **signed)
    co_reply = services.submit_reply(actor=co_member, assignment=co, file=reply_pdf("协办意见.pdf"), **signed)
    # Previews are rendered by a worker (issue 15); render them now so every role meets a finished one.
    from feedback.tasks import render_reply_preview

    render_reply_preview(lead_reply.pk)
    render_reply_preview(co_reply.pk)
    return {
        "users": {
            "netoffice": netoffice,
            "ezoneoffice": ezoneoffice,
            "petitionoffice": petitionoffice,
            "lead_head": zjj_head,
            "lead_staff": zjj_staff,
            "co_member": co_member,
            "unrelated": jyj_head,
            "leader": leader,
            "admin": admin_user,
            "anonymous": None,
        },
        "lead": lead.pk,
        "co": co.pk,
        "lead_reply": lead_reply.pk,
        "co_reply": co_reply.pk,
    }


def test_policy_has_exactly_one_entry_per_endpoint_and_role():
    expected = set(itertools.product(ENDPOINTS, ROLES))
    assert set(POLICY) - expected == set(), "entries for unknown endpoints or roles"
    # (a missing entry also fails test_every_role_gets_exactly_what_the_policy_says, with a KeyError)
    assert expected - set(POLICY) == set(), "endpoints or roles without a decision"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_exactly_what_the_policy_says(world, role):
    client = Client()
    if world["users"][role] is not None:
        client.force_login(world["users"][role])

    actual, expected = {}, {}
    for endpoint, urls in ENDPOINTS.items():
        wanted = POLICY[(endpoint, role)]  # KeyError: a new endpoint or role needs a decision here
        for target, url, status in zip(("lead", "co"), urls(world), wanted, strict=True):
            response = client.get(url)
            actual[(endpoint, target)] = response.status_code
            expected[(endpoint, target)] = status
            if response.status_code == OK and endpoint in FILES:
                assert response["X-Content-Type-Options"] == "nosniff", url
            if response.status_code == LOGIN:
                assert response.url.startswith(reverse("login")), url

    assert actual == expected


def test_the_preview_has_the_same_scope_as_the_download():
    for role in ROLES:
        assert POLICY[("reply_preview", role)] == POLICY[("reply_download", role)], role


def test_files_and_documents_are_never_cached_by_shared_caches(world):
    client = Client()
    client.force_login(world["users"]["netoffice"])
    for endpoint in FILES:
        for url in ENDPOINTS[endpoint](world):
            response = client.get(url)
            assert response["Cache-Control"].startswith("private"), (endpoint, response["Cache-Control"])
            if endpoint != "reply_preview":
                assert response["Content-Disposition"].startswith("attachment"), endpoint
