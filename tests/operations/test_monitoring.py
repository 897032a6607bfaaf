"""Monitoring (docs/monitoring.md): /status/ as JSON, /metrics, request ids, JSON logs, the proxy."""

from __future__ import annotations

import datetime
import json
import logging
import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from feedback.models import DeadlineStep
from feedback.views import status
from tests.factories import assigned
from zhitongche import requestid
from zhitongche.logjson import JsonFormatter
from zhitongche.proxy import TrustedProxyMiddleware

pytestmark = pytest.mark.django_db
ELSEWHERE = {"REMOTE_ADDR": "10.20.30.40"}


@pytest.fixture
def quick_checks(settings):
    # The in-memory broker answers at once; no worker does (the worker check waits its 2 s).
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_status_as_json_for_an_administrator(admin_user, quick_checks):
    client = Client()
    client.force_login(admin_user)

    response = client.get(reverse("status"), {"format": "json"})

    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "worker", "scheduler", "calendar"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False  # nobody consumes memory://
    assert "zhitongche-worker" in body["checks"]["worker"]["what_to_do"]
    assert body["ok"] is False
    assert response.status_code == 503  # a plain HTTP monitor alerts without reading the body


def test_status_json_needs_the_monitoring_token_from_elsewhere(settings, leader, quick_checks):
    settings.METRICS_TOKEN = "s3cret-token-for-monitoring"
    anonymous = Client(**ELSEWHERE).get("/status/", HTTP_ACCEPT="application/json")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")

    not_admin = Client(**ELSEWHERE)
    not_admin.force_login(leader)
    assert not_admin.get("/status/?format=json").status_code == 401

    monitor = Client(**ELSEWHERE).get("/status/?format=json", HTTP_AUTHORIZATION="Bearer s3cret-token-for-monitoring")
    assert monitor.status_code in (200, 503)
    assert "database" in monitor.json()["checks"]


def test_the_html_status_page_says_what_to_do_about_a_missing_calendar_year(admin_user, quick_checks):
    client = Client()
    client.force_login(admin_user)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            status,
            "check_calendar",
            lambda: status.Check("工作日历", False, "缺少明年（2027年），请载入国务院节假日安排"),
        )
        html = client.get(reverse("status")).content.decode()
    assert "载入国务院节假日安排 中载入该年通知" in html


def test_metrics_count_requests_and_read_the_deadline_backlog(netoffice, zjj_head):
    assigned(netoffice, lead="zjj", assigned_on=timezone.localdate() - datetime.timedelta(days=40))
    due = DeadlineStep.objects.filter(taken_at=None, scheduled_for__lte=timezone.now()).count()
    assert due > 0
    client = Client()
    client.get(reverse("login"))

    response = client.get("/metrics")

    assert response.status_code == 200
    text = response.content.decode()
    assert metric(text, "ztc_deadline_steps_due_untaken") == due
    assert metric(text, "ztc_deadline_steps_unannounced") == 0
    assert metric(text, "ztc_media_free_bytes") > 0
    assert re.search(r'^ztc_http_requests_total\{method="GET",status="200",view="login"\} [1-9]', text, re.M)
    assert "ztc_http_request_duration_seconds_bucket" in text


def test_metrics_report_when_the_sweep_last_finished(reference):
    from feedback.tasks import sweep_deadlines

    before = timezone.now().timestamp()
    sweep_deadlines.apply()  # run here; task_success is sent as by a worker

    text = Client().get("/metrics").content.decode()
    assert metric(text, "ztc_last_sweep_timestamp_seconds") >= before - 1


@pytest.mark.redis
def test_metrics_read_the_celery_queue_length(settings, reference):
    import redis

    settings.CELERY_TASK_DEFAULT_QUEUE = "zhitongche-metrics-test"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("zhitongche-metrics-test")
    client.rpush("zhitongche-metrics-test", b"a", b"b", b"c")
    try:
        text = Client().get("/metrics").content.decode()
    finally:
        client.delete("zhitongche-metrics-test")
    assert metric(text, "ztc_celery_queue_length") == 3


def test_metrics_are_refused_from_elsewhere_without_the_token(settings, db):
    assert Client(**ELSEWHERE).get("/metrics").status_code == 401
    settings.METRICS_TOKEN = "s3cret-token-for-monitoring"
    assert Client().get("/metrics").status_code == 401  # with a token set, loopback needs it too
    ok = Client(**ELSEWHERE).get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-monitoring")
    assert ok.status_code == 200


def test_every_response_carries_a_request_id_and_keeps_a_valid_incoming_one(db, settings):
    own = Client().get(reverse("login"))
    assert re.fullmatch(r"[0-9a-f]{32}", own["X-Request-ID"])

    # From a client that is not a trusted proxy, an incoming id is never believed.
    settings.TRUSTED_PROXIES = []
    direct = Client().get(reverse("login"), HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    assert direct["X-Request-ID"] != "0123456789abcdef0123456789abcdef"

    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address: as nginx would send it
    passed = Client().get(reverse("login"), HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")
    assert passed["X-Request-ID"] == "0123456789abcdef0123456789abcdef"

    forged = Client().get(reverse("login"), HTTP_X_REQUEST_ID="x\nFAKE LOG LINE")
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])


def test_the_404_and_500_pages_show_the_request_id(settings, admin_user):
    settings.DEBUG = False
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the ids come from nginx
    client = Client(raise_request_exception=False)
    missing = client.get("/no-such-page/", HTTP_X_REQUEST_ID="rid-404-0000000001")
    assert missing.status_code == 404
    assert "rid-404-0000000001" in missing.content.decode()

    client.force_login(admin_user)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(status, "run_checks", lambda: 1 / 0)
        broken = client.get(reverse("status"), HTTP_X_REQUEST_ID="rid-500-0000000001")
    assert broken.status_code == 500
    assert "rid-500-0000000001" in broken.content.decode()
    assert broken["X-Request-ID"] == "rid-500-0000000001"


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("feedback", logging.WARNING, __file__, 1, "退回 %s", ("回复函",), None)
    token = requestid._current.set("rid-log-000000001")
    try:
        requestid.RequestIdFilter().filter(record)
    finally:
        requestid._current.reset(token)

    line = json.loads(JsonFormatter().format(record))

    assert line["request_id"] == "rid-log-000000001"
    assert line["message"] == "退回 回复函"
    assert line["level"] == "WARNING"


def test_the_client_address_is_taken_from_a_trusted_proxy_only(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    seen = {}
    middleware = TrustedProxyMiddleware(lambda request: seen.setdefault("addr", request.META["REMOTE_ADDR"]))

    middleware(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.7"))
    assert seen.pop("addr") == "203.0.113.7"

    middleware(RequestFactory().get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_REAL_IP="203.0.113.7"))
    assert seen.pop("addr") == "198.51.100.9"  # not from the proxy: the header is ignored

    middleware(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="not an address"))
    assert seen.pop("addr") == "127.0.0.1"
