"""Statistics benchmark: the summary, department and month endpoints against hand-written SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/stats.py [--issues 200000]

PostgreSQL only. Drops and recreates the database ``zt_bench_stats`` (``--database``) on the
server DATABASE_URL points at (the database named in the URL is not touched), migrates it and
generates in SQL (``INSERT … SELECT generate_series``, the rollup's triggers off) ``--issues`` issues
over the five years before 2026-11-28 with 1.5 assignments each (every other issue is co-handled):
most replied, some late, some open and overdue, 5% extended, most replied issues closed and rated.
Then it builds the statistics rollup with ``manage.py rebuild_stats_rollup`` (timed; with
``--reuse`` the same command checks the existing rollup and corrects nothing).

Then, for each period (all five years; the last twelve months; one quarter of one channel),
it times alternately, ``--runs`` times each:

- the endpoint through Django's test client (URL routing, authentication as the county leader,
  parameter validation, ``feedback.figures.statistics``, serialisation to JSON),
- the ``feedback.figures.statistics`` function alone, and
- hand-written SQL computing the same figures: one statement over the issue and assignment tables
  (a materialised CTE over the cohort; for the summary and the months two ways of counting the
  replied issues), and one reading the rollup tables as the endpoint does (month rows, daily rows
  at the ends of the period, the open assignments not yet due taken off); each checked to give the
  same numbers as the endpoint,

and prints the medians and the ratio endpoint / fastest SQL. It also times each endpoint on an empty
period (a day in 2001, before any issue): the request's fixed cost — routing, session authentication,
the user's scope, parameter validation, two near-empty queries, JSON — which no SQL has to pay, and
prints the ratio net of it, (endpoint − empty period) / SQL, and the floor of any authenticated
request: one refused at parameter validation (400). ``--reuse`` keeps an existing database;
``--warm`` calls each timed thing once, untimed, just before timing it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgbench_setup import bench_url, recreate_database, setup_django, step

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = datetime.date(2026, 11, 28)
DAYS = 5 * 365 + 1  # five years of receipts, up to TODAY


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--issues",
        type=int,
        default=200_000,
        help="issues to generate (default 200,000; assignments are 1.5 times as many)",
    )
    p.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    p.add_argument("--database", default="zt_bench_stats", help="database to (re)create (default zt_bench_stats)")
    p.add_argument("--reuse", action="store_true", help="keep an existing bench database with its rows")
    p.add_argument("--explain", action="store_true", help="print the query plans of the endpoint's queries")
    p.add_argument(
        "--warm",
        action="store_true",
        help="call each timed thing once, untimed, just before timing it (without it the endpoint is timed"
        " right after the previous run's full-scan candidates, with cold caches)",
    )
    p.add_argument(
        "--endpoints",
        default="summary,departments,months",
        help="comma-separated endpoints to time (default all three: summary,departments,months)",
    )
    return p.parse_args()


def populate(issues: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from feedback.access import GROUP_NAMES, Role
    from feedback.services.reference import load_reference_data

    with step("migrate"):
        call_command("migrate", verbosity=0)
    with step("reference data and the leader"):
        load_reference_data()
        leader = get_user_model().objects.create_user("leader", email="leader@county.example")
        leader.groups.add(Group.objects.get(name=GROUP_NAMES[Role.LEADER]))
    params = {
        "n": issues,
        "requesters": max(1, issues // 3),
        "days": DAYS,
        "first": TODAY - datetime.timedelta(DAYS - 1),
        "today": TODAY,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # Generated rows skip the rollup's dirty-key triggers (migration 0008): the rollup is
        # rebuilt from scratch afterwards, as after a restore (manage.py rebuild_stats_rollup).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SELECT setseed(0.20261128)")
        with step(f"{params['requesters']:,} requesters"):
            cursor.execute(
                """
                INSERT INTO feedback_requester (kind, name, phone, organization, created_at)
                SELECT 'person', '群众' || g, '', '', now() FROM generate_series(1, %(requesters)s) AS g""",
                params,
            )
        with step(f"{issues:,} issues"):
            cursor.execute(
                """
                WITH cats AS (SELECT array_agg(id ORDER BY id) AS ids FROM feedback_category),
                     req AS (SELECT min(id) AS first FROM feedback_requester)
                INSERT INTO feedback_issue (ref, channel, nature, category_id, requester_id, title, content,
                    received_on, onsite_answer, status, satisfaction, follow_up_comment, created_at, updated_at)
                SELECT 'S' || lpad(g::text, 8, '0'), (ARRAY['net', 'enterprise', 'citizen'])[1 + g %% 3],
                       'suggestion', cats.ids[1 + floor(random() * array_length(cats.ids, 1))::int],
                       req.first + (g::bigint * 7919) %% %(requesters)s, '诉求 ' || g, '诉求内容 ' || g,
                       %(first)s::date + floor(random() * %(days)s)::int, '', 'assigned', '', '', now(), now()
                FROM generate_series(1, %(n)s) AS g, cats, req""",
                params,
            )
        # A lead for every issue, a co-handler for every other one. Due 14 days after assignment
        # (5% extended by 10 days). Replies: 92% of the assignments older than a month, half of
        # the recent ones, within 1–25 days (so some late); the others are open.
        with step(f"{issues + issues // 2:,} assignments"):
            cursor.execute(
                """
                WITH depts AS (SELECT array_agg(id ORDER BY kind, sort_order) AS ids FROM feedback_department
                               WHERE kind <> 'office'),
                pairs AS (
                    SELECT i.id AS issue_id, i.received_on, depts.ids[1 + (i.id * 31) %% array_length(depts.ids, 1)]
                           AS department_id, 'lead' AS role FROM feedback_issue i, depts
                    UNION ALL
                    SELECT i.id, i.received_on,
                           depts.ids[1 + (i.id * 31 + 1 + i.id %% 5) %% array_length(depts.ids, 1)],
                           'co' FROM feedback_issue i, depts WHERE i.id %% 2 = 0),
                drawn AS (
                    SELECT p.*, random() AS r, 1 + floor(random() * 25)::int AS reply_days, random() < 0.05 AS extended
                    FROM pairs p),
                shaped AS (
                    SELECT d.*, d.received_on + 14 AS original_due,
                           d.received_on + 14 + CASE WHEN d.extended THEN 10 ELSE 0 END AS due,
                           CASE WHEN d.received_on + d.reply_days <= %(today)s
                                 AND d.r < CASE WHEN d.received_on < %(today)s - 30 THEN 0.92 ELSE 0.5 END
                                THEN d.received_on + d.reply_days END AS replied
                    FROM drawn d)
                INSERT INTO feedback_assignment (issue_id, department_id, role, status, assigned_on, deadline_amount,
                    deadline_unit, due_date, original_due_date, provisional, deadline_version, replied_on,
                    created_at, received_on)
                SELECT issue_id, department_id, role, CASE WHEN replied IS NULL THEN 'acknowledged' ELSE 'accepted' END,
                       received_on, 14, 'calendar_day', due, original_due, false, 1, replied, now(), received_on
                FROM shaped""",
                params,
            )
        # Fully replied issues: replied, 80% of them followed up and closed a few days later.
        with step("issue states, follow-ups and closures"):
            cursor.execute(
                """
                WITH done AS (SELECT issue_id, max(replied_on) AS last FROM feedback_assignment GROUP BY issue_id
                              HAVING bool_and(replied_on IS NOT NULL)),
                drawn AS (SELECT done.*, random() AS r, random() AS s FROM done)
                UPDATE feedback_issue i SET
                    status = CASE WHEN d.r < 0.8 THEN 'closed' ELSE 'replied' END,
                    closed_on = CASE WHEN d.r < 0.8 THEN LEAST(d.last + 3, %(today)s) END,
                    followed_up_on = CASE WHEN d.r < 0.8 THEN LEAST(d.last + 2, %(today)s) END,
                    satisfaction = CASE WHEN d.r >= 0.8 THEN '' WHEN d.s < 0.60 THEN 'satisfied'
                                        WHEN d.s < 0.85 THEN 'basically' WHEN d.s < 0.93 THEN 'dissatisfied'
                                        ELSE 'unreachable' END
                FROM drawn d WHERE d.issue_id = i.id""",
                params,
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        with step("vacuum analyze"):
            cursor.execute("VACUUM ANALYZE")


def rebuild_rollup() -> None:
    """``manage.py rebuild_stats_rollup``, timed (on a database it has already summed, it only checks)."""
    from django.core.management import call_command
    from django.db import connection

    with step("rollup rebuild (rebuild_stats_rollup)"):
        call_command("rebuild_stats_rollup")
    with connection.cursor() as cursor, step("vacuum analyze of the rollup"):
        for table in (
            "statsrollup",
            "statsmonthrollup",
            "statsdepartmentrollup",
            "statsdepartmentmonthrollup",
            "statschanneldepartmentrollup",
            "statschanneldepartmentmonthrollup",
            "statsopendue",
            "statsmonthrequesters",
            "statsrequesterset",
        ):
            cursor.execute(f"VACUUM ANALYZE feedback_{table}")
        cursor.execute(
            "SELECT (SELECT count(*) FROM feedback_statsrollup), (SELECT count(*) FROM"
            " feedback_statsmonthrollup), (SELECT count(*) FROM feedback_statsdepartmentrollup),"
            " (SELECT count(*) FROM feedback_statsdepartmentmonthrollup),"
            " (SELECT count(*) FROM feedback_statsopendue)"
        )
        day, month, dept_day, dept_month, open_due = cursor.fetchone()
    print(
        f"  rollup rows: {day:,} per day, {month:,} per month; per department {dept_day:,} per day, "
        f"{dept_month:,} per month; {open_due:,} open-assignment due dates"
    )


# --- the yardstick: hand-written SQL, one statement per endpoint -----------------------------------


def cohort_sql(period: dict[str, str], alias: str = "") -> tuple[str, dict[str, object]]:
    where, params = (
        [f"{alias}received_on BETWEEN %(from)s AND %(to)s"],
        {"from": period["received_from"], "to": period["received_to"]},
    )
    if period.get("channel"):
        where.append(f"{alias}channel = %(channel)s")
        params["channel"] = period["channel"]
    return " AND ".join(where), params


ASSIGNMENT_COLUMNS = """
    count(*) AS assignments,
    count(*) FILTER (WHERE a.replied_on <= %(as_of)s) AS assignments_replied,
    count(*) FILTER (WHERE a.replied_on <= %(as_of)s AND a.replied_on <= a.due_date) AS on_time,
    count(*) FILTER (WHERE a.replied_on <= %(as_of)s AND a.replied_on > a.due_date) AS late,
    count(*) FILTER (WHERE (a.replied_on IS NULL OR a.replied_on > %(as_of)s) AND a.due_date < %(as_of)s)
        AS overdue_open,
    count(*) FILTER (WHERE a.replied_on <= %(as_of)s AND a.replied_on <= a.original_due_date) AS on_time_original,
    count(*) FILTER (WHERE a.replied_on <= %(as_of)s AND a.replied_on > a.original_due_date) AS late_original,
    count(*) FILTER (WHERE (a.replied_on IS NULL OR a.replied_on > %(as_of)s) AND a.original_due_date < %(as_of)s)
        AS overdue_open_original"""
ISSUE_COLUMNS = """
    count(*) AS issues,
    count(*) FILTER (WHERE closed_on <= %(as_of)s) AS closed,
    count(*) FILTER (WHERE satisfaction <> '') AS followed_up,
    count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically', 'dissatisfied')) AS rated,
    count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically')) AS satisfied,
    count(*) FILTER (WHERE satisfaction = 'dissatisfied') AS dissatisfied,
    count(*) FILTER (WHERE satisfaction = 'unreachable') AS unreachable"""


def raw_summary(period: dict[str, str], as_of: datetime.date) -> dict[str, int]:
    from django.db import connection

    where, params = cohort_sql(period)
    params.update(as_of=as_of, end=as_of + datetime.timedelta(days=1))
    sql = f"""
        WITH c AS MATERIALIZED (SELECT id, requester_id, closed_on, satisfaction FROM feedback_issue WHERE {where}),
        ia AS (SELECT {ISSUE_COLUMNS}, count(DISTINCT requester_id) AS requesters FROM c),
        per_issue AS (SELECT a.issue_id, bool_and(a.replied_on IS NOT NULL AND a.replied_on <= %(as_of)s) AS done,
                             {ASSIGNMENT_COLUMNS}
                      FROM feedback_assignment a JOIN c ON c.id = a.issue_id WHERE a.status <> 'withdrawn'
                      GROUP BY a.issue_id),
        aa AS (SELECT count(*) FILTER (WHERE done) AS replied, sum(assignments) AS assignments,
                      sum(assignments_replied) AS assignments_replied, sum(on_time) AS on_time, sum(late) AS late,
                      sum(overdue_open) AS overdue_open, sum(on_time_original) AS on_time_original,
                      sum(late_original) AS late_original, sum(overdue_open_original) AS overdue_open_original
               FROM per_issue),
        h AS (SELECT count(*) AS rehandled FROM c WHERE EXISTS (
                SELECT 1 FROM feedback_historyentry h WHERE h.issue_id = c.id AND h.action = 'reopen'
                AND h.at < (%(end)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'))
        SELECT * FROM ia, aa, h"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return {n: int(v or 0) for n, v in zip(names, cursor.fetchone(), strict=True)}


def raw_summary_distinct(period: dict[str, str], as_of: datetime.date) -> dict[str, int]:
    """The same figures, the replied issues counted as distinct issues with an assignment minus
    distinct issues with one unreplied (no GROUP BY issue)."""
    from django.db import connection

    where, params = cohort_sql(period)
    params.update(as_of=as_of, end=as_of + datetime.timedelta(days=1))
    sql = f"""
        WITH c AS MATERIALIZED (SELECT id, requester_id, closed_on, satisfaction FROM feedback_issue WHERE {where}),
        ia AS (SELECT {ISSUE_COLUMNS}, count(DISTINCT requester_id) AS requesters FROM c),
        aa AS (SELECT count(DISTINCT a.issue_id) - count(DISTINCT a.issue_id) FILTER (
                          WHERE a.replied_on IS NULL OR a.replied_on > %(as_of)s) AS replied, {ASSIGNMENT_COLUMNS}
               FROM feedback_assignment a JOIN c ON c.id = a.issue_id WHERE a.status <> 'withdrawn'),
        h AS (SELECT count(*) AS rehandled FROM c WHERE EXISTS (
                SELECT 1 FROM feedback_historyentry h WHERE h.issue_id = c.id AND h.action = 'reopen'
                AND h.at < (%(end)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'))
        SELECT * FROM ia, aa, h"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return {n: int(v or 0) for n, v in zip(names, cursor.fetchone(), strict=True)}


def raw_months_distinct(period: dict[str, str], as_of: datetime.date) -> list[dict[str, object]]:
    from django.db import connection

    where, params = cohort_sql(period)
    params["as_of"] = as_of
    sql = f"""
        WITH c AS MATERIALIZED (SELECT id, date_trunc('month', received_on)::date AS month, closed_on, satisfaction,
                                       requester_id FROM feedback_issue WHERE {where}),
        im AS (SELECT month, {ISSUE_COLUMNS}, count(DISTINCT requester_id) AS requesters FROM c GROUP BY month),
        am AS (SELECT c.month, count(DISTINCT a.issue_id) - count(DISTINCT a.issue_id) FILTER (
                          WHERE a.replied_on IS NULL OR a.replied_on > %(as_of)s) AS replied, {ASSIGNMENT_COLUMNS}
               FROM feedback_assignment a JOIN c ON c.id = a.issue_id WHERE a.status <> 'withdrawn' GROUP BY c.month)
        SELECT im.*, am.replied, am.assignments, am.on_time, am.late, am.overdue_open,
               to_char(im.month, 'YYYY-MM') AS month
        FROM im LEFT JOIN am USING (month) ORDER BY im.month"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


def raw_departments(period: dict[str, str], as_of: datetime.date) -> list[dict[str, object]]:
    from django.db import connection

    where, params = cohort_sql(period, "i.")
    params["as_of"] = as_of
    sql = f"""
        SELECT d.code AS department, d.name, d.kind, {ASSIGNMENT_COLUMNS}
        FROM feedback_assignment a JOIN feedback_issue i ON i.id = a.issue_id
             JOIN feedback_department d ON d.id = a.department_id
        WHERE {where} AND a.status <> 'withdrawn'
        GROUP BY d.id ORDER BY d.kind, d.sort_order, d.code"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def raw_months(period: dict[str, str], as_of: datetime.date) -> list[dict[str, object]]:
    from django.db import connection

    where, params = cohort_sql(period)
    params["as_of"] = as_of
    sql = f"""
        WITH c AS MATERIALIZED (SELECT id, date_trunc('month', received_on)::date AS month, closed_on, satisfaction,
                                       requester_id FROM feedback_issue WHERE {where}),
        im AS (SELECT month, {ISSUE_COLUMNS}, count(DISTINCT requester_id) AS requesters FROM c GROUP BY month),
        per_issue AS (SELECT c.month, bool_and(a.replied_on IS NOT NULL AND a.replied_on <= %(as_of)s) AS done,
                             {ASSIGNMENT_COLUMNS}
                      FROM feedback_assignment a JOIN c ON c.id = a.issue_id WHERE a.status <> 'withdrawn'
                      GROUP BY c.month, a.issue_id),
        am AS (SELECT month, count(*) FILTER (WHERE done) AS replied, sum(assignments) AS assignments,
                      sum(on_time) AS on_time, sum(late) AS late, sum(overdue_open) AS overdue_open
               FROM per_issue GROUP BY month)
        SELECT im.*, am.replied, am.assignments, am.on_time, am.late, am.overdue_open,
               to_char(im.month, 'YYYY-MM') AS month  -- last: it replaces im.month in the row's dict
        FROM im LEFT JOIN am USING (month) ORDER BY im.month"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


# --- the yardstick reading the rollup: the same tables as the endpoint, hand-written for this data ------
#
# Valid when no key of the period is read live at as_of (nothing marked, every reply and closure on or
# before as_of): main() checks it. The whole months come from the month rows, the days at the ends of
# the period from the daily rows; the open assignments not yet due are taken off the overdue ones.

COUNTS = (
    "issues",
    "closed",
    "followed_up",
    "rated",
    "satisfied",
    "dissatisfied",
    "unreachable",
    "rehandled",
    "assigned_issues",
    "replied",
    "assignments",
    "assignments_replied",
    "on_time",
    "late",
    "overdue_open",
    "on_time_original",
    "late_original",
    "overdue_open_original",
)
OWN = (
    "assignments",
    "assignments_replied",
    "on_time",
    "late",
    "overdue_open",
    "on_time_original",
    "late_original",
    "overdue_open_original",
)


def rollup_params(period: dict[str, str], as_of: datetime.date) -> tuple[str, dict[str, object]]:
    start, end = (datetime.date.fromisoformat(period[k]) for k in ("received_from", "received_to"))
    first = start if start.day == 1 else (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    after_end = end + datetime.timedelta(days=1)
    last = (after_end.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    if first > last:  # no whole month: every day from the daily rows
        first = last = datetime.date(9999, 1, 1)
    month_end = (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    channel = "AND channel = %(channel)s" if period.get("channel") else ""
    return channel, {
        "from": start,
        "to": end,
        "m_first": first,
        "m_last": last,
        "m_end": month_end,
        "as_of": as_of,
        "channel": period.get("channel", ""),
    }


def _rollup_rows(
    columns: str, day: str, month: str, channel: str, month_key: str = "month", day_key: str = "received_on"
) -> str:
    return f"""
        SELECT {month_key} AS m, {columns} FROM {month} WHERE month BETWEEN %(m_first)s AND %(m_last)s {channel}
        UNION ALL
        SELECT {day_key}, {columns} FROM {day} WHERE received_on BETWEEN %(from)s AND %(to)s {channel}
            AND (received_on < %(m_first)s OR received_on >= %(m_end)s)"""


NOT_YET_DUE = """SUM(assignments) AS n, SUM(assignments) FILTER (WHERE original_due_date >= %(as_of)s) AS n_original
    FROM feedback_statsopendue WHERE due_date >= %(as_of)s AND received_on BETWEEN %(from)s AND %(to)s"""


def _minus_not_yet_due(alias: str) -> str:
    return ", ".join(
        f"{alias}.{c} - COALESCE(o.n, 0) AS {c}"
        if c == "overdue_open"
        else f"{alias}.{c} - COALESCE(o.n_original, 0) AS {c}"
        if c == "overdue_open_original"
        else f"{alias}.{c}"
        for c in COUNTS
    )


def raw_summary_rollup(period: dict[str, str], as_of: datetime.date) -> dict[str, int]:
    from django.db import connection

    channel, params = rollup_params(period, as_of)
    where, cohort_params = cohort_sql(period)
    params.update(cohort_params)
    sql = f"""
        WITH r AS ({_rollup_rows(", ".join(COUNTS), "feedback_statsrollup", "feedback_statsmonthrollup", channel)}),
        s AS (SELECT {", ".join(f"SUM({c}) AS {c}" for c in COUNTS)} FROM r),
        o AS (SELECT {NOT_YET_DUE} {channel}),
        q AS (SELECT count(*) AS requesters FROM (
                SELECT requester_id FROM feedback_issue WHERE {where} GROUP BY requester_id) x)
        SELECT {_minus_not_yet_due("s")}, q.requesters FROM s, o, q"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return {n: int(v or 0) for n, v in zip(names, cursor.fetchone(), strict=True)}


# --- the independent limit for the summary: pre-added sums and PostgreSQL's own bit strings ------------------

BENCH_SUMS = ("bench_day_sums", "bench_month_sums")
# The same bit strings at the portal's coarser level (decision 0740): per (year, channel) as well, and
# each span also for every channel (''), so that a whole year is one string and a cohort of every
# channel reads one string per span.
BITS_YEARS = "bench_requester_bits_years"


def build_limit_tables(periods: dict[str, dict[str, str]]) -> None:
    """What the fastest exact SQL found for the summary reads (issue 16), built here apart from the
    portal's code: the rollup's sums pre-added over categories per (day, channel) and (month,
    channel), and the requesters of each (month, channel) and of each (day, channel) at the
    periods' ends as PostgreSQL bit strings of one length (bit ``n`` = the n-th requester id), for
    ``bit_count(bit_or(…))``. Not timed: like the rollup, they exist before the request."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table, source, key in (
            ("bench_day_sums", "feedback_statsrollup", "received_on"),
            ("bench_month_sums", "feedback_statsmonthrollup", "month"),
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TABLE {table} AS SELECT {key}, channel, {', '.join(f'SUM({c})::int AS {c}' for c in COUNTS)}"
                f" FROM {source} GROUP BY {key}, channel"
            )
            cursor.execute(f"CREATE UNIQUE INDEX ON {table} ({key}, channel)")
        cursor.execute("SELECT min(id), max(id) FROM feedback_requester")
        first, last = cursor.fetchone()
        size = (last - first + 8) // 8
        days: set[datetime.date] = set()
        for period in periods.values():
            _, p = rollup_params(period, TODAY)
            day = p["from"]
            while day <= p["to"]:
                if day < p["m_first"] or day >= p["m_end"]:
                    days.add(day)
                day += datetime.timedelta(days=1)
        cursor.execute(
            "SELECT date_trunc('month', received_on)::date, received_on, channel, requester_id FROM feedback_issue"
        )
        sets: dict[tuple[str, datetime.date, str], bytearray] = {}
        coarser: dict[tuple[str, datetime.date, str], bytearray] = {}
        for month, day, channel, requester in cursor.fetchall():
            n = requester - first
            keys = [("month", month, channel)] + ([("day", day, channel)] if day in days else [])
            # The coarser level (BITS_YEARS): per year too, and each also for every channel ('').
            coarse = [*keys, ("year", month.replace(month=1), channel)]
            for key in keys:
                bits = sets.setdefault(key, bytearray(size))
                bits[n >> 3] |= 0x80 >> (n & 7)
            for span, start, c in coarse:
                for key in ((span, start, c), (span, start, "")):
                    bits = coarser.setdefault(key, bytearray(size))
                    bits[n >> 3] |= 0x80 >> (n & 7)
        for table, rows in (("bench_requester_bits", sets), (BITS_YEARS, coarser)):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TABLE {table} (span text, first date, channel text, bits varbit)")
            cursor.executemany(
                f"INSERT INTO {table} VALUES (%s, %s, %s, ('x' || %s)::varbit)",
                [(span, day, channel, bits.hex()) for (span, day, channel), bits in rows.items()],
            )
            cursor.execute(f"CREATE INDEX ON {table} (span, first, channel)")
            cursor.execute(f"VACUUM ANALYZE {table}")
        for table in BENCH_SUMS:
            cursor.execute(f"VACUUM ANALYZE {table}")


def raw_summary_bits(period: dict[str, str], as_of: datetime.date) -> dict[str, int]:
    """The limit: the pre-added sums of the whole months and of the other days, the open assignments
    not yet due taken off, and the distinct requesters as ``bit_count(bit_or(…))`` of their bit strings."""
    from django.db import connection

    channel, params = rollup_params(period, as_of)
    sql = f"""
        WITH r AS ({_rollup_rows(", ".join(COUNTS), "bench_day_sums", "bench_month_sums", channel)}),
        s AS (SELECT {", ".join(f"SUM({c}) AS {c}" for c in COUNTS)} FROM r),
        o AS (SELECT {NOT_YET_DUE} {channel}),
        q AS (SELECT bit_count(bit_or(bits)) AS requesters FROM bench_requester_bits
              WHERE ((span = 'month' AND first BETWEEN %(m_first)s AND %(m_last)s)
                     OR (span = 'day' AND first BETWEEN %(from)s AND %(to)s
                         AND (first < %(m_first)s OR first >= %(m_end)s))) {channel})
        SELECT {_minus_not_yet_due("s")}, q.requesters FROM s, o, q"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return {n: int(v or 0) for n, v in zip(names, cursor.fetchone(), strict=True)}


def raw_summary_bits_years(period: dict[str, str], as_of: datetime.date) -> dict[str, int]:
    """The limit at the coarser level: as ``raw_summary_bits``, but the whole years' requesters from
    one bit string per year, and the channel's strings or, for every channel, the strings of ''."""
    from django.db import connection

    channel, params = rollup_params(period, as_of)
    first, last = params["m_first"], params["m_last"]
    params["y_first"] = datetime.date(first.year + (first.month != 1), 1, 1)
    params["y_end"] = datetime.date(last.year + (last.month == 12), 1, 1)  # the first day after the whole years
    params["bits_channel"] = period.get("channel", "")
    sql = f"""
        WITH r AS ({_rollup_rows(", ".join(COUNTS), "bench_day_sums", "bench_month_sums", channel)}),
        s AS (SELECT {", ".join(f"SUM({c}) AS {c}" for c in COUNTS)} FROM r),
        o AS (SELECT {NOT_YET_DUE} {channel}),
        q AS (SELECT bit_count(bit_or(bits)) AS requesters FROM {BITS_YEARS}
              WHERE channel = %(bits_channel)s
                AND ((span = 'year' AND first >= %(y_first)s AND first < %(y_end)s)
                     OR (span = 'month' AND first BETWEEN %(m_first)s AND %(m_last)s
                         AND (first < %(y_first)s OR first >= %(y_end)s))
                     OR (span = 'day' AND first BETWEEN %(from)s AND %(to)s
                         AND (first < %(m_first)s OR first >= %(m_end)s))))
        SELECT {_minus_not_yet_due("s")}, q.requesters FROM s, o, q"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return {n: int(v or 0) for n, v in zip(names, cursor.fetchone(), strict=True)}


def raw_departments_rollup(period: dict[str, str], as_of: datetime.date) -> list[dict[str, object]]:
    from django.db import connection

    channel, params = rollup_params(period, as_of)
    own = ", ".join(f"own_{c}" for c in OWN)
    sql = f"""
        WITH r AS ({
        _rollup_rows(
            f"department_id, {own}", "feedback_statsdepartmentrollup", "feedback_statsdepartmentmonthrollup", channel
        )
    }),
        a AS (SELECT department_id, {", ".join(f"SUM(own_{c}) AS {c}" for c in OWN)} FROM r GROUP BY department_id),
        o AS (SELECT department_id, {NOT_YET_DUE} {channel} GROUP BY department_id)
        SELECT d.code AS department, d.name, d.kind, a.assignments, a.assignments_replied AS replied, a.on_time,
               a.late, a.overdue_open - COALESCE(o.n, 0) AS overdue_open, a.on_time_original, a.late_original,
               a.overdue_open_original - COALESCE(o.n_original, 0) AS overdue_open_original
        FROM a JOIN feedback_department d ON d.id = a.department_id LEFT JOIN o USING (department_id)
        ORDER BY d.kind, d.sort_order, d.code"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def raw_months_rollup(period: dict[str, str], as_of: datetime.date) -> list[dict[str, object]]:
    from django.db import connection

    channel, params = rollup_params(period, as_of)
    where, cohort_params = cohort_sql(period)
    params.update(cohort_params)
    month = "date_trunc('month', received_on)::date"
    sql = f"""
        WITH r AS ({
        _rollup_rows(", ".join(COUNTS), "feedback_statsrollup", "feedback_statsmonthrollup", channel, day_key=month)
    }),
        im AS (SELECT m, {", ".join(f"SUM({c}) AS {c}" for c in COUNTS)} FROM r GROUP BY m),
        o AS (SELECT {month} AS m, {NOT_YET_DUE} {channel} GROUP BY 1),
        q AS (SELECT month AS m, requesters FROM feedback_statsmonthrequesters
              WHERE month BETWEEN %(m_first)s AND %(m_last)s AND channel = %(channel)s AND category_id = 0
              UNION ALL
              SELECT m, count(*) FROM (SELECT requester_id, {month} AS m FROM feedback_issue WHERE {where}
                  AND (received_on < %(m_first)s OR received_on >= %(m_end)s) GROUP BY 1, 2) x GROUP BY m)
        SELECT {_minus_not_yet_due("im")}, q.requesters, to_char(im.m, 'YYYY-MM') AS month
        FROM im LEFT JOIN o USING (m) LEFT JOIN q USING (m) ORDER BY im.m"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- the run ---------------------------------------------------------------------------------------


WARM = False  # --warm


def timed(action) -> tuple[float, object]:
    if WARM:
        action()
    start = time.perf_counter()
    outcome = action()
    return time.perf_counter() - start, outcome


def check_same(endpoint: str, api: object, raw: object) -> None:
    """The endpoint and the SQL must agree on every figure they both compute."""
    if endpoint == "summary":
        pairs = [(api, raw)]
    else:
        if len(api) != len(raw):
            raise AssertionError(f"{endpoint}: {len(api)} rows from the API, {len(raw)} from SQL")
        pairs = list(zip(api, raw, strict=True))
    for a, r in pairs:
        for key, value in r.items():
            if (
                key in a
                and key not in ("kind", "name")
                and not isinstance(a[key], float | type(None))
                and a[key] != (int(value) if isinstance(value, int | float) else value)
            ):
                raise AssertionError(f"{endpoint}: {key} is {a[key]} from the API, {value} from SQL")


def explain(period: dict[str, str], as_of: datetime.date) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feedback.figures import statistics
    from feedback.models import Issue

    issues = statistics.cohort(
        Issue.objects.all(),
        channel=period.get("channel", ""),
        received_from=datetime.date.fromisoformat(period["received_from"]),
        received_to=datetime.date.fromisoformat(period["received_to"]),
    )
    with CaptureQueriesContext(connection) as ctx:
        statistics.summary(issues, as_of=as_of)
    for query in ctx.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + query["sql"])
            print("  " + "\n  ".join(row[0] for row in cursor.fetchall()) + "\n")


def main() -> None:
    global WARM
    args = parse_args()
    WARM = args.warm
    url, maintenance = bench_url(args.database, "bench/stats.py")
    fresh = recreate_database(maintenance, args.database, args.reuse)
    setup_django(url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    version = connection.cursor().connection.info.server_version
    print(f"database {args.database} on {urlsplit(url).hostname}; PostgreSQL {version}")
    if fresh:
        print("populating:")
        populate(args.issues)
    else:
        from django.core.management import call_command

        with step("migrate (a reused database gets the migrations added since it was generated)"):
            call_command("migrate", verbosity=0)
    rebuild_rollup()
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM feedback_issue), (SELECT count(*) FROM feedback_assignment)")
        n_issues, n_assignments = cursor.fetchone()
    print(
        f"{n_issues:,} issues, {n_assignments:,} assignments, received "
        f"{TODAY - datetime.timedelta(DAYS - 1)} … {TODAY}\n"
    )

    client = Client()
    leader = get_user_model().objects.get(username="leader")
    client.force_login(leader)
    # A leader has passed the second factor (feedback.security.otp) in a real session: so here.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=leader, name="bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    as_of = TODAY
    periods = {
        "five years": {"received_from": str(TODAY - datetime.timedelta(DAYS - 1)), "received_to": str(TODAY)},
        "last 12 months": {"received_from": str(TODAY - datetime.timedelta(364)), "received_to": str(TODAY)},
        "one quarter, 政网": {"received_from": "2026-07-01", "received_to": "2026-09-30", "channel": "net"},
    }
    # Each endpoint's hand-written candidates; the fastest in this run is the yardstick.
    endpoints = {
        "summary": (raw_summary, raw_summary_distinct, raw_summary_rollup, raw_summary_bits, raw_summary_bits_years),
        "departments": (raw_departments, raw_departments_rollup),
        "months": (raw_months, raw_months_distinct, raw_months_rollup),
    }
    with step("the limit's tables (sums over categories, requester bit strings)"):
        build_limit_tables(periods)
    results: list[tuple[str, str, float, float, float, float, float]] = []
    empty = urlencode({"received_from": "2001-01-01", "received_to": "2001-01-01", "as_of": str(TODAY)})
    from feedback.figures import rollup
    from feedback.figures import statistics as figures
    from feedback.models import Issue

    functions = {"summary": figures.summary, "departments": figures.by_department, "months": figures.by_month}
    from django.conf import settings

    # Computed on every request, as the limit is; the figures kept between writes (decision 0770) are
    # timed apart, after each endpoint's runs ("kept").
    settings.STATS_CACHE_SECONDS = 0
    for label, period in periods.items():
        window = {
            "channel": period.get("channel", ""),
            "received_from": datetime.date.fromisoformat(period["received_from"]),
            "received_to": datetime.date.fromisoformat(period["received_to"]),
        }
        live = rollup.live_keys(rollup.Cohort(**window), as_of)
        if live:  # the hand-written rollup SQL assumes none (the endpoint computes them live)
            sys.exit(f"{label}: {len(live)} keys are read live at {as_of}; the rollup SQL would be wrong")
        if args.explain:
            print(f"plans of the summary's queries, {label}:")
            explain(period, as_of)
        for endpoint, candidates in endpoints.items():
            if endpoint not in args.endpoints.split(","):
                continue
            query = urlencode({**period, "as_of": str(as_of)})
            url_ = f"/api/v1/stats/{endpoint}/?{query}"
            function = functions[endpoint]
            api_times: list[float] = []
            fixed_times: list[float] = []
            function_times: list[float] = []
            sql_times: dict[str, list[float]] = {raw.__name__: [] for raw in candidates}
            for _ in range(args.runs):
                seconds, response = timed(lambda u=url_: client.get(u))
                assert response.status_code == 200, response.content[:500]
                api_times.append(seconds)
                seconds, nothing = timed(lambda e=endpoint: client.get(f"/api/v1/stats/{e}/?{empty}"))
                assert nothing.status_code == 200 and (
                    json.loads(nothing.content) in ([], {}) or json.loads(nothing.content)["issues"] == 0
                )
                fixed_times.append(seconds)
                seconds, _rows = timed(
                    lambda f=function, w=window: f(figures.cohort(Issue.objects.all(), **w), as_of=as_of)
                )
                function_times.append(seconds)
                for raw in candidates:
                    seconds, rows = timed(lambda r=raw, p=period: r(p, as_of))
                    sql_times[raw.__name__].append(seconds)
                    check_same(endpoint, json.loads(response.content), rows)
            settings.STATS_CACHE_SECONDS = 3600
            computed = json.loads(client.get(url_).content)  # computed once, and kept
            kept_times = []
            for _ in range(args.runs):
                seconds, response = timed(lambda u=url_: client.get(u))
                assert json.loads(response.content) == computed
                kept_times.append(seconds)
            settings.STATS_CACHE_SECONDS = 0
            kept = statistics.median(kept_times)
            api, function_time = statistics.median(api_times), statistics.median(function_times)
            fixed = statistics.median(fixed_times)
            _best, sql = min(((name, statistics.median(t)) for name, t in sql_times.items()), key=lambda x: x[1])
            if len(candidates) > 1:
                print("  " + ", ".join(f"{name} {statistics.median(t) * 1000:.1f} ms" for name, t in sql_times.items()))
            results.append((label, endpoint, api, fixed, function_time, sql, kept))
            print(
                f"{label:18} {endpoint:12} endpoint {api * 1000:8.1f} ms   empty period {fixed * 1000:5.1f} ms"
                f"   statistics.py {function_time * 1000:8.1f} ms   SQL {sql * 1000:8.1f} ms"
                f"   ratio {api / sql:4.2f}   endpoint, figures kept {kept * 1000:6.1f} ms",
                flush=True,
            )

    refused = []
    for _ in range(20):  # the floor of any authenticated request here: session, user, DRF, a 400 in JSON
        seconds, response = timed(lambda: client.get("/api/v1/stats/summary/?channel=unknown"))
        assert response.status_code == 400
        refused.append(seconds)
    print(
        f"\nan authenticated request refused at parameter validation (session, user, 400 in JSON): "
        f"{statistics.median(refused) * 1000:.1f} ms (median of 20)"
    )
    print(
        f"medians of {args.runs} runs, {n_issues:,} issues / {n_assignments:,} assignments, as_of {as_of} "
        "(endpoint = Django test client, leader, JSON; empty = the same endpoint for a period with no issue; "
        "function = feedback.figures.statistics alone; SQL = the fastest hand-written statement; all computed "
        "(STATS_CACHE_SECONDS=0); kept = the endpoint again with its figures kept since its last computation, "
        "as between two writes, decision 0770):"
    )
    print(
        f"  {'period':18} {'endpoint':12} {'endpoint ms':>12} {'empty ms':>9} {'function ms':>12} {'SQL ms':>9}"
        f" {'ratio':>6} {'net ratio':>10} {'function/SQL':>13} {'kept ms':>8}"
    )
    for label, endpoint, api, fixed, function_time, sql, kept in results:
        print(
            f"  {label:18} {endpoint:12} {api * 1000:12.1f} {fixed * 1000:9.1f} {function_time * 1000:12.1f}"
            f" {sql * 1000:9.1f} {api / sql:6.2f} {(api - fixed) / sql:10.2f} {function_time / sql:13.2f}"
            f" {kept * 1000:8.1f}"
        )


if __name__ == "__main__":
    main()
