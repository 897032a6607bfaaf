"""Where a page's time goes, per demo role: ms in all, SQL ms, statements, and the top functions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/profile_pages.py --database dash_bench --reuse [--runs 5] [--top 12]

PostgreSQL only. The database is bench/dashboard.py's and bench/load.py's (bench/stats.py's generator and
the demo accounts; ``--issues 200000 --database pages_bench`` makes a smaller one to iterate on). Each page
is asked through Django's test client in this process (no HTTP server, DEBUG off, the middleware, context
processors and templates all run), logged in as the account bench/load.py sends there: a channel office
(``netoffice``) on the ledger (台账: its first page of 25 rows, and its 待审核 work list) and an issue
page; a department head on the inbox and one of its issues; the county leader on the dashboard (default
and 近12个月, on the generated data's last day) and an issue page.

For each page, over ``--runs`` loads after one warm-up: the median time in ms, the SQL time within it
(the sum of the statements' own times, from a cursor wrapper), the number of statements, then one more
load under cProfile: its top functions by own time (``--top``), and with ``--sql`` the statements
themselves. Sessions and caches are Django's in-process defaults unless REDIS_URL is set (as under
gunicorn in bench/load.py); the fixed cost of a request — session, user, scope, context processors —
is in every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics as stats_
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_setup import add_database_args, load_average, prepare


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(p)
    p.add_argument("--runs", type=int, default=5, help="timed loads of each page (default 5)")
    p.add_argument("--top", type=int, default=12, help="functions listed per page (default 12)")
    p.add_argument("--sql", action="store_true", help="also list each page's statements")
    p.add_argument("--only", default="", help="comma-separated page names to run (default all)")
    return p.parse_args()


@dataclass
class SqlLog:
    """Every statement run, with its own time: a ``connection.execute_wrapper``."""

    entries: list[tuple[str, float]] = field(default_factory=list)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.entries.append((sql, (time.perf_counter() - start) * 1000))


@dataclass
class Page:
    name: str
    username: str
    path: str
    settings: dict[str, Any] = field(default_factory=dict)  # overridden while this page is loaded
    ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    profile: str = ""
    sql: list[tuple[str, float]] = field(default_factory=list)


def pages() -> list[Page]:
    import stats  # bench/stats.py: the generated data's last day
    from django.contrib.auth import get_user_model

    from feedback import access
    from feedback.figures.hot import button_periods as _periods
    from feedback.models import Assignment

    User = get_user_model()
    head = User.objects.filter(username__endswith="_head").order_by("username").first()
    assert head is not None, "no department head: the demo accounts are missing"
    office = User.objects.get(username="netoffice")
    leader = User.objects.get(username="leader")
    own = access.assignments_for(head).order_by("-issue_id").values_list("issue_id", flat=True).first()
    channel_issue = access.issues_for(office).order_by("-pk").values_list("pk", flat=True).first()
    # The leader on an issue with a co-handler, when there is one: the page's most work.
    busy = (
        Assignment.objects.filter(role=Assignment.Role.CO)
        .order_by("-issue_id")
        .values_list("issue_id", flat=True)
        .first()
    ) or channel_issue
    today = stats.TODAY
    _, start, end = next(p for p in _periods(today) if p[0] == "近12个月")  # the page's own button
    year = {"received_from": start.isoformat(), "received_to": end.isoformat(), "as_of": today.isoformat()}
    return [
        Page("ledger (25 rows)", office.username, "/issues/"),
        Page("ledger 待审核", office.username, "/issues/?awaiting_review=1"),
        Page("issue (office)", office.username, f"/issues/{channel_issue}/"),
        Page("inbox", head.username, "/inbox/"),
        Page("inbox 已超期", head.username, "/inbox/?tab=overdue"),
        Page("issue (department)", head.username, f"/issues/{own}/"),
        Page("dashboard default", leader.username, f"/dashboard/?as_of={today.isoformat()}"),
        # The first load of a period (or after HOT_TOPICS_CACHE_SECONDS): the hot topics clustered again.
        Page(
            "dashboard default, topics not kept",
            leader.username,
            f"/dashboard/?as_of={today.isoformat()}",
            {"HOT_TOPICS_CACHE_SECONDS": 0},
        ),
        # The first load after a write (decision 0770): the figures computed, the hot topics kept.
        Page(
            "dashboard default, figures computed",
            leader.username,
            f"/dashboard/?as_of={today.isoformat()}",
            {"STATS_CACHE_SECONDS": 0},
        ),
        Page("dashboard 近12个月", leader.username, "/dashboard/?" + urlencode(year)),
        Page(
            "dashboard 近12个月, figures computed",
            leader.username,
            "/dashboard/?" + urlencode(year),
            {"STATS_CACHE_SECONDS": 0},
        ),
        Page("issue (leader)", leader.username, f"/issues/{busy}/"),
    ]


def load(client: Any, path: str) -> tuple[float, SqlLog]:
    from django.db import connection

    log = SqlLog()
    with connection.execute_wrapper(log):
        start = time.perf_counter()
        response = client.get(path)
        ms = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        sys.exit(f"{path}: HTTP {response.status_code}")
    return ms, log


def profiled(client: Any, path: str, top: int) -> str:
    """One load under cProfile: the top functions by own time, then the project's own by cumulative time
    (which view, selector or template tag the time is spent under)."""
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(path)
    profiler.disable()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
    parts = []
    for order, restrict in (
        ("tottime", ()),
        ("cumtime", (r"^(?!.*site-packages).*/(feedback|zhitongche|channels_\w+)/",)),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restrict, top)
        lines = out.getvalue().splitlines()
        # From the column header on: ncalls tottime percall cumtime percall filename:lineno(function)
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        title = "by own time" if order == "tottime" else "the project's code by cumulative time"
        parts.append(f"-- {title}")
        parts += [line.replace(root, "").replace(sys.prefix + "/lib/", "") for line in lines[start:] if line]
    return "\n".join(parts)


def measure(client: Any, page: Page, args: argparse.Namespace) -> None:
    load(client, page.path)  # warm-up: imports, templates, the connection (and the cache, where kept)
    # Each page's loads follow each other, as one user clicking.
    for _ in range(args.runs):
        ms, log = load(client, page.path)
        page.ms.append(ms)
        page.sql_ms.append(sum(t for _, t in log.entries))
        page.statements.append(len(log.entries))
        page.sql = log.entries
    page.profile = profiled(client, page.path, args.top)


def main() -> None:
    args = parse_args()
    prepare(args, "bench/profile_pages.py")
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings

    User = get_user_model()
    chosen = [p for p in pages() if not args.only or any(o.strip() in p.name for o in args.only.split(","))]
    clients: dict[str, Client] = {}
    for page in chosen:
        if page.username not in clients:
            clients[page.username] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            clients[page.username].force_login(User.objects.get(username=page.username))
    print(f"load average before: {load_average()} (2 cores, shared)")
    for page in chosen:
        with override_settings(**page.settings):
            measure(clients[page.username], page, args)
    print(f"load average after: {load_average()}")
    print(f"\nmedian of {args.runs} loads per page, in-process (Django's test client), ms")
    print("| page | account | ms | SQL ms | statements | Python ms (ms − SQL ms) |")
    print("|---|---|---|---|---|---|")
    for page in chosen:
        ms, sql = stats_.median(page.ms), stats_.median(page.sql_ms)
        print(
            f"| {page.name} | {page.username} | {ms:.1f} | {sql:.1f} | {stats_.median(page.statements):.0f} | "
            f"{ms - sql:.1f} |"
        )
    for page in chosen:
        print(f"\n## {page.name} — {page.path} as {page.username}: top {args.top} functions")
        print(page.profile)
        if args.sql:
            print(f"\nstatements of the last load ({len(page.sql)}):")
            for sql, ms in page.sql:
                print(f"  {ms:7.1f} ms  {sql[:220]}")


if __name__ == "__main__":
    main()
