"""``/status/`` for monitoring systems (``?format=json`` or ``Accept: application/json``), and what
an administrator should do about each red line (shown on the HTML page too).

The checks are feedback.status's, unchanged. The answer is 200 when every check passes and 503
otherwise, so a plain HTTP check (Zabbix, Nagios, Uptime Kuma) alerts without parsing the body.
A monitoring system has no session: it sends ``Authorization: Bearer $METRICS_TOKEN`` (or asks
from the machine itself when no token is set); an administrator's session works too.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from feedback.access import Role, scope_of
from feedback.status import Check, run_checks

from .metrics import monitor_allowed

# The status page's check names (feedback.status) and the key each has in the JSON answer.
KEYS = {"数据库": "database", "消息队列": "broker", "后台任务进程": "worker", "定时调度（beat）": "scheduler",
        "工作日历": "calendar"}

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
    return JsonResponse({
        "ok": ok,
        "checked_at": timezone.localtime().isoformat(timespec="seconds"),
        "checks": {key_of(c): {"ok": c.ok, "name": c.name, "detail": c.detail, "what_to_do": what_to_do(c)}
                   for c in checks},
    }, status=200 if ok else 503, json_dumps_params={"ensure_ascii": False})
