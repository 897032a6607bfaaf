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
import hmac
import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from feedback.access import Role, scope_of
from feedback.calendar_notice import WARN_FROM_MONTH
from feedback.models import CalendarYear

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
    try:
        replies = current_app.control.inspect(timeout=TIMEOUT, limit=1).ping() or {}
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
    if wants_json(request):  # monitoring systems (docs/monitoring.md)
        return status_json(request)
    if scope_of(request.user).role != Role.ADMIN:
        raise Http404("未找到该页面。")
    checks = run_checks()
    return render(
        request,
        "feedback/status.html",
        {
            "checks": checks,
            "rows": [(c, what_to_do(c)) for c in checks],
            "all_ok": all(c.ok for c in checks),
            "checked_at": timezone.localtime(),
        },
    )


# --- the same checks as JSON for monitoring systems ---------------------------------------------
# ``/status/`` for monitoring systems (``?format=json`` or ``Accept: application/json``), and what
# an administrator should do about each red line (shown on the HTML page too).
#
# The checks are feedback.views.status's, unchanged. The answer is 200 when every check passes and 503
# otherwise, so a plain HTTP check (Zabbix, Nagios, Uptime Kuma) alerts without parsing the body.
# A monitoring system has no session: it sends ``Authorization: Bearer $METRICS_TOKEN`` (or asks
# from the machine itself when no token is set); an administrator's session works too.


def monitor_allowed(request: HttpRequest) -> bool:
    """A monitoring system has no session: ``Authorization: Bearer $METRICS_TOKEN`` when a token is
    set, otherwise only the local machine (Prometheus on the web host, or nginx refuses /metrics)."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


# The status page's check names (feedback.views.status) and the key each has in the JSON answer.
KEYS = {
    "数据库": "database",
    "消息队列": "broker",
    "后台任务进程": "worker",
    "定时调度（beat）": "scheduler",
    "工作日历": "calendar",
}

WHAT_TO_DO = {
    "database": "检查 PostgreSQL 是否运行（systemctl status postgresql）以及 DATABASE_URL 是否正确。",
    "broker": "检查 Redis 是否运行（systemctl status redis-server）以及 REDIS_URL 是否正确；"
    "恢复后提醒和催办会在下一次巡检时自动补上。",
    "worker": "启动或重启后台任务进程：systemctl restart zhitongche-worker（日志：journalctl -u zhitongche-worker）。",
    "scheduler": "在且只在一台机器上启动定时调度：systemctl restart zhitongche-beat"
    "（日志：journalctl -u zhitongche-beat）。",
    "calendar": "在 系统管理 → 工作日历年份 → 载入国务院节假日安排 中载入该年通知（操作说明见 docs/operations.md"
    "「每年更新节假日安排」）；载入后未办结的期限会自动重算。",
}


def key_of(check: Check) -> str:
    return KEYS.get(check.name, check.name)


def what_to_do(check: Check) -> str:
    return "" if check.ok else WHAT_TO_DO.get(key_of(check), "")


def wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get("Accept", "")


def status_json(request: HttpRequest) -> JsonResponse:
    user = request.user
    if not (monitor_allowed(request) or (user.is_authenticated and scope_of(user).role == Role.ADMIN)):
        response = JsonResponse({"detail": "需要管理员登录或监控令牌。"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="status"'
        return response
    checks = run_checks()
    ok = all(c.ok for c in checks)
    return JsonResponse(
        {
            "ok": ok,
            "checked_at": timezone.localtime().isoformat(timespec="seconds"),
            "checks": {
                key_of(c): {"ok": c.ok, "name": c.name, "detail": c.detail, "what_to_do": what_to_do(c)} for c in checks
            },
        },
        status=200 if ok else 503,
        json_dumps_params={"ensure_ascii": False},
    )
