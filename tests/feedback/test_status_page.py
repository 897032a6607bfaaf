"""The administrators' status page: each part green or red, and it renders with the broker down."""

from __future__ import annotations

import datetime
import os
import time

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import CalendarYear
from feedback.views import status

pytestmark = pytest.mark.django_db


def test_status_page_is_for_administrators_only(client: Client, leader: object, netoffice: object) -> None:
    assert client.get(reverse("status")).status_code in (302, 404)
    for user in (leader, netoffice):
        client.force_login(user)
        assert client.get(reverse("status")).status_code == 404


def test_status_page_lists_every_part_in_chinese(client: Client, admin_user: object) -> None:
    client.force_login(admin_user)
    response = client.get(reverse("status"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("数据库", "消息队列", "后台任务进程", "定时调度（beat）", "工作日历"):
        assert name in html


def test_status_page_renders_quickly_with_the_broker_down(client: Client, admin_user: object, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    client.force_login(admin_user)
    started = time.monotonic()
    response = client.get(reverse("status"))
    assert response.status_code == 200
    assert time.monotonic() - started < 10
    checks = {c.name: c for c in response.context["checks"]}
    assert checks["数据库"].ok
    assert not checks["消息队列"].ok and not checks["后台任务进程"].ok
    assert "有异常" in response.content.decode()


def test_no_worker_answering_is_red(settings) -> None:
    settings.CELERY_BROKER_URL = "memory://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert status.check_broker().ok
    assert not status.check_worker(broker_ok=True).ok


def test_scheduler_is_green_only_while_beat_keeps_writing_its_schedule(tmp_path, settings) -> None:
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "celerybeat-schedule")
    assert not status.check_scheduler().ok
    path = tmp_path / "celerybeat-schedule.db"
    path.write_bytes(b"x")
    assert status.check_scheduler().ok
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert not status.check_scheduler().ok


def test_calendar_coverage_warns_from_november_when_next_year_is_missing(reference: None) -> None:
    CalendarYear.objects.filter(year__gte=2027).delete()
    assert status.check_calendar(datetime.date(2026, 6, 1)).ok
    november = status.check_calendar(datetime.date(2026, 11, 2))
    assert not november.ok and "2027" in november.detail
    assert not status.check_calendar(datetime.date(2030, 3, 1)).ok  # this year itself missing
