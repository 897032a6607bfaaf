"""deploy/nginx/zhitongche.conf in front of gunicorn (deploy/gunicorn.conf.py), both for real.

Reply files leave through nginx's internal location only after the portal's permission check
(X-Accel-Redirect); a body over the limit is answered 413 by nginx without gunicorn seeing the
request; static files come from nginx; logins are rate-limited; unknown hosts are refused.
"""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from feedback import services
from feedback.access import Role
from tests.conftest import make_user, reply_pdf
from tests.deploy.conftest import Stack
from tests.factories import assigned

pytestmark = [pytest.mark.postgres, pytest.mark.deploy]


def session_cookie(user: object) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def world(transactional_db: None) -> dict[str, object]:
    from feedback.services.reference import load_reference_data

    load_reference_data()
    netoffice = make_user("netoffice", department="wxb", role=Role.OFFICE)
    zjj_head = make_user("zjj_head", department="zjj", role=Role.DEPARTMENT, is_head=True)
    jyj_head = make_user("jyj_head", department="jyj", role=Role.DEPARTMENT, is_head=True)
    _issue, (lead,) = assigned(netoffice, lead="zjj", assigned_on=timezone.localdate() - datetime.timedelta(days=3))
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=lead,
        file=reply_pdf("住建局回复函.pdf"),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )
    return {"reply": reply, "assignment": lead, "zjj_head": zjj_head, "jyj_head": jyj_head}


def test_a_permitted_download_is_checked_by_the_portal_and_sent_by_nginx(stack: Stack, world):
    reply = world["reply"]
    url = f"/replies/{reply.pk}/download/"
    response = stack.curl(url, cookie=session_cookie(world["zjj_head"]))

    assert response.status == 200
    assert hashlib.sha256(response.body).hexdigest() == reply.sha256
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")
    assert "filename*=utf-8''" in response.headers["content-disposition"]  # 住建局回复函.pdf
    # Only nginx's internal location adds this header: the bytes came from nginx, not gunicorn.
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "x-accel-redirect" not in response.headers  # nginx consumes it
    assert stack.gunicorn_saw(f"GET {url}")  # ... after the portal's permission check


def test_a_refused_download_is_404_and_the_files_cannot_be_reached_directly(stack: Stack, world):
    reply = world["reply"]
    url = f"/replies/{reply.pk}/download/"

    other_department = stack.curl(url, cookie=session_cookie(world["jyj_head"]))
    assert other_department.status == 404
    assert b"%PDF" not in other_department.body

    anonymous = stack.curl(url)
    assert anonymous.status == 302
    assert anonymous.headers["location"].startswith("/accounts/login/")

    for direct in (
        f"/protected/{reply.file.name}",
        f"/media/{reply.file.name}",
        f"/media-not-served/{reply.file.name}",
    ):
        answer = stack.curl(direct, cookie=session_cookie(world["zjj_head"]))
        assert answer.status == 404, direct
        assert b"%PDF" not in answer.body, direct


def test_an_upload_over_the_limit_is_413_before_gunicorn_reads_it(stack: Stack, world):
    token = Token.objects.create(user=world["zjj_head"]).key
    big = stack.tmp / "26MiB.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (26 * 1024 * 1024))
    url = f"/api/v1/assignments/{world['assignment'].pk}/replies/"

    response = stack.curl(
        url,
        "-H",
        f"Authorization: Token {token}",
        "-F",
        f"file=@{big};type=application/pdf",
        "-F",
        "signer_name=王建国",
        "-F",
        "signer_title=局长",
        "-F",
        "result=explained",
        "-F",
        f"signed_on={timezone.localdate():%Y-%m-%d}",
        "-F",
        "summary=已答复。",
    )

    assert response.status == 413
    assert not stack.gunicorn_saw(url), "the oversized request reached gunicorn"
    assert f'"POST {url} HTTP/' in stack.nginx_access_log.read_text()


def test_static_files_are_served_by_nginx_with_an_expiry(stack: Stack):
    response = stack.curl("/static/css/portal.css")

    assert response.status == 200
    assert response.body == (stack.var / "static/css/portal.css").read_bytes()
    assert response.headers["content-type"].startswith("text/css")
    assert "public" in response.headers["cache-control"]
    assert "expires" in response.headers
    assert not stack.gunicorn_saw("/static/css/portal.css")


def test_logins_beyond_the_burst_are_refused_with_429(stack: Stack):
    # Run on its own address bucket: 10 a minute with a burst of 5 means at most 6 get through
    # in a quick run, and every one after that is 429 without reaching the portal.
    statuses = [stack.curl("/accounts/login/").status for _ in range(12)]

    assert statuses[0] == 200
    assert 429 in statuses
    assert statuses.count(200) <= 7, statuses


def test_plain_http_redirects_and_unknown_hosts_are_refused(stack: Stack):
    redirect = stack.curl("/issues/", scheme="http")
    assert redirect.status == 301
    assert redirect.headers["location"] == "https://ztc.example.gov.cn/issues/"

    unknown = stack.curl("/", host="evil.example")
    assert unknown.status == 0  # no TLS handshake for a name the site does not serve


def test_one_request_id_in_nginx_gunicorn_and_the_portal(stack: Stack, transactional_db):
    response = stack.curl("/no-such-page/")

    assert response.status == 404
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32  # nginx's $request_id, passed on and answered by the portal
    assert request_id.encode() in response.body  # shown on the error page
    assert f"rid={request_id}" in stack.nginx_access_log.read_text()
    assert stack.gunicorn_saw(f"rid={request_id}")
    access = [
        json.loads(line)
        for line in stack.gunicorn_log.read_text().splitlines()
        if line.startswith("{") and request_id in line
    ]
    assert access and access[0]["logger"] == "gunicorn.access"


def test_the_api_without_credentials_answers_401_with_a_challenge(stack: Stack, transactional_db):
    response = stack.curl("/api/v1/assignments/")

    assert response.status == 401
    assert response.headers["www-authenticate"] == "Token"


def test_metrics_from_gunicorn_add_up_every_worker_and_nginx_hides_them(stack: Stack, transactional_db):
    import re
    import urllib.request

    for _ in range(8):  # spread over gunicorn's two workers
        assert stack.curl("/no-such-page/").status == 404

    with urllib.request.urlopen(f"http://127.0.0.1:{stack.gunicorn_port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    counts = [float(v) for v in re.findall(r'^ztc_http_requests_total\{[^}]*status="404"[^}]*\} (\S+)$', text, re.M)]
    assert sum(counts) >= 8  # multi-process mode: whichever worker answers the scrape sees them all
    assert "ztc_deadline_steps_due_untaken" in text

    outside = stack.curl("/metrics")
    assert outside.status == 404
    assert b"ztc_" not in outside.body
