"""The administrators' status page: database, broker, worker, scheduler, calendar coverage.

Every check is bounded in time (about 2 s each) and catches its own failure, so the page renders
when Redis, the worker or beat is down: a red line is the answer, never a 500 or a hung request.

- worker: ``inspect().ping()`` over the broker, asked only when the broker answered, returning at
  the first reply (``limit=1``; without it the broadcast always waits out its 2 s timeout, and the
  page took 3 s). It proves a worker is consuming right now, which a heartbeat written by a task
  would only prove for the past (and the default LocMem cache is per process, so the web server
  could not read a worker's cache entry anyway).
- scheduler: beat's own schedule file (``CELERY_BEAT_SCHEDULE_FILENAME``), which the persistent
  scheduler writes back at least every few minutes while it runs. Nothing needs changing in the
  tasks; it assumes beat runs on this host, as README's run command starts it.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .access import Role, scope_of
from .calendar_notice import WARN_FROM_MONTH
from .models import CalendarYear

TIMEOUT = 2.0  # seconds, for each check that goes over the network
BEAT_STALE_AFTER = 15 * 60  # seconds: beat writes its schedule back every ≤ 5 min while it runs


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error: the page reports it
        return Check("数据库", False, f"无法查询：{type(exc).__name__}")
    return Check("数据库", True, f"正常（{connection.vendor}）")


def check_broker() -> Check:
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {})
    try:
        with Connection(url, transport_options=options, connect_timeout=TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=TIMEOUT)
    except Exception as exc:  # connection refused, DNS, timeout: all mean "down"
        return Check("消息队列", False, f"无法连接（{conn_label(url)}）：{type(exc).__name__}")
    return Check("消息队列", True, f"正常（{conn_label(url)}）")


def conn_label(url: str) -> str:
    # Never show a password that may be in the URL.
    return url.split("://", 1)[0] + "://…" if "@" in url else url


def check_worker(broker_ok: bool) -> Check:
    if not broker_ok:
        return Check("后台任务进程", False, "消息队列不可用，无法询问")
    from zhitongche.celery import app

    try:
        replies = app.control.inspect(timeout=TIMEOUT, limit=1).ping() or {}
    except Exception as exc:
        return Check("后台任务进程", False, f"询问失败：{type(exc).__name__}")
    if not replies:
        return Check("后台任务进程", False, f"{TIMEOUT:.0f}秒内没有进程应答")
    return Check("后台任务进程", True, f"正常（{', '.join(sorted(replies))} 应答）")


def beat_files() -> list[Path]:
    base = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    # dbm may add a suffix (.db, .dat/.dir/.bak) to the shelve's name.
    return [p for p in (base, *(base.with_name(base.name + s) for s in (".db", ".dat", ".dir"))) if p.exists()]


def check_scheduler(now: float | None = None) -> Check:
    now = now or time.time()
    files = beat_files()
    if not files:
        return Check("定时调度（beat）", False, "没有找到调度记录，调度进程可能从未运行")
    age = now - max(p.stat().st_mtime for p in files)
    last = timezone.localtime(datetime.datetime.fromtimestamp(now - age, tz=datetime.UTC))
    if age > BEAT_STALE_AFTER:
        return Check("定时调度（beat）", False, f"最后活动于{last:%Y-%m-%d %H:%M}，已超过{BEAT_STALE_AFTER // 60}分钟")
    return Check("定时调度（beat）", True, f"最后活动于{last:%Y-%m-%d %H:%M}")


def check_calendar(today: datetime.date | None = None) -> Check:
    today = today or timezone.localdate()
    try:
        years = sorted(CalendarYear.objects.values_list("year", flat=True))
    except Exception as exc:
        return Check("工作日历", False, f"无法读取：{type(exc).__name__}")
    loaded = f"已载入{years[0]}–{years[-1]}年" if years else "未载入任何年份"
    missing = [y for y in (today.year, today.year + 1) if y not in years]
    if today.year in missing:
        return Check("工作日历", False, f"{loaded}；缺少今年（{today.year}年），期限按周一至周五暂算")
    if today.year + 1 in missing:
        if today.month >= WARN_FROM_MONTH:
            return Check("工作日历", False, f"{loaded}；缺少明年（{today.year + 1}年），请载入国务院节假日安排")
        return Check("工作日历", True, f"{loaded}；明年（{today.year + 1}年）尚未公布")
    return Check("工作日历", True, loaded)


def run_checks() -> list[Check]:
    database = check_database()
    broker = check_broker()
    return [database, broker, check_worker(broker.ok), check_scheduler(), check_calendar()]


def status_page(request: HttpRequest) -> HttpResponse:
    from zhitongche import statusjson  # JSON for monitoring systems, and what to do about a red line

    if statusjson.wants_json(request):
        return statusjson.status_json(request)
    if scope_of(request.user).role != Role.ADMIN:
        raise Http404("未找到该页面。")
    checks = run_checks()
    return render(request, "feedback/status.html", {
        "checks": checks, "rows": [(c, statusjson.what_to_do(c)) for c in checks], "all_ok": all(c.ok for c in checks),
        "checked_at": timezone.localtime(),
    })
