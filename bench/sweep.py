"""Sweep benchmark: 1,000,000 open assignments in PostgreSQL, 1% of them due.

    .venv/bin/python bench/sweep.py            # DATABASE_URL=postgres://… (see bench/README.md)

Creates a fresh database (``zt_bench`` on the server DATABASE_URL points at), migrates it,
bulk-generates the rows in SQL — each open assignment with its ladder as pending DeadlineStep
rows, as ``services.schedule_steps`` writes them — prints the query plans, then times in the
same run, alternately:

- the sweep's take pass, ``feedback.services.sweeps.take_due_steps``: marks the 10,000 due steps taken
  and their assignments overdue, committing every batch;
- the sweep's announce pass that follows it, ``feedback.services.sweeps.announce_steps``: a history row
  and two notifications per step taken;
- one set-based ``UPDATE feedback_assignment SET overdue_at = … WHERE <open and past its due
  date>`` doing the same marking and nothing else (the issue's yardstick).

Between runs the state is put back — the due steps pending again, the history and notification
tables truncated (this database holds no others), the overdue marks cleared — and vacuumed, so
each run starts from the same state. Prints the median times and their ratios.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgbench_setup import bench_url, recreate_database, setup_django, step

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SH = ZoneInfo("Asia/Shanghai")
# The moment the sweep runs: Tuesday 2026-11-17 08:00. Due rows were assigned on Friday 11-13 with
# one working day, so they fell due at the end of Monday 11-16: "overdue" (11-17 00:00) is their
# only step that has come; the chase follows at 09:00, after this moment.
NOW = datetime.datetime(2026, 11, 17, 8, 0, tzinfo=SH)
DUE_ASSIGNED, DUE_DATE = datetime.date(2026, 11, 13), datetime.date(2026, 11, 16)
OVERDUE_AT = datetime.datetime(2026, 11, 17, 0, 0, tzinfo=SH)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="open assignments (default 1,000,000)")
    p.add_argument("--due-share", type=float, default=0.01, help="share of them due (default 0.01)")
    p.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    p.add_argument("--database", default="zt_bench", help="database to (re)create (default zt_bench)")
    p.add_argument("--batch", type=int, default=2000, help="steps per transaction (default 2,000, as the sweep)")
    p.add_argument("--reuse", action="store_true", help="keep an existing bench database with the rows")
    return p.parse_args()


def populate(rows: int, due_share: float) -> int:
    """Reference data, two people per department, and ``rows`` open assignments (one issue each)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from feedback.access import GROUP_NAMES, Role
    from feedback.models import Category, Department, Membership, Requester
    from feedback.services.reference import load_reference_data

    with step("migrate"):
        call_command("migrate", verbosity=0)
    with step("reference data and users"):
        load_reference_data()
        users = get_user_model().objects
        for dept in Department.objects.all():
            for role in ("head", "staff"):
                user = users.create_user(f"{dept.code}_{role}", email=f"{role}@{dept.code}.example")
                Membership.objects.create(user=user, department=dept, is_head=role == "head")
                user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.OFFICE if dept.channel else Role.DEPARTMENT]))
        leader = users.create_user("leader", email="leader@county.example")
        leader.groups.add(Group.objects.get(name=GROUP_NAMES[Role.LEADER]))
        requester = Requester.objects.create(name="山村支教亮亮老师")
        category = Category.objects.filter(parent__isnull=False).first() or Category.objects.first()
    due = round(rows * due_share)
    params = {
        "n": rows,
        "due": due,
        "category": category.pk,
        "requester": requester.pk,
        "now": NOW,
        "due_assigned": DUE_ASSIGNED,
        "due_date": DUE_DATE,
        "overdue_at": OVERDUE_AT,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # Generation only: no row triggers (the statistics rollup's dirty-key marks would cost one
        # upsert per generated row; the rollup plays no part in the sweep). The timed runs keep them.
        cursor.execute("SET session_replication_role = replica")
        with step(f"{rows:,} issues"):
            cursor.execute(
                """
                INSERT INTO feedback_issue (ref, channel, nature, category_id, requester_id, title, content,
                    received_on, onsite_answer, status, satisfaction, follow_up_comment, created_at, updated_at)
                SELECT 'B' || lpad(g::text, 7, '0'), (ARRAY['net', 'enterprise', 'citizen'])[1 + g %% 3],
                       'suggestion', %(category)s, %(requester)s, '诉求 ' || g, '诉求内容 ' || g,
                       CASE WHEN g <= %(due)s THEN %(due_assigned)s ELSE DATE '2026-11-02' + (g %% 14) END,
                       '', 'assigned', '', '', %(now)s, %(now)s
                FROM generate_series(1, %(n)s) AS g""",
                params,
            )
        # Rows 1..due were assigned on Friday 11-13 with one working day: due Monday 11-16, their
        # overdue step came at 11-17 00:00 and is the only one due. The others are due at least
        # three weeks after they were received, every step ahead; half of them already had their
        # 50% reminder (taken and announced), the other half wait for it within the next weeks.
        with step(f"{rows:,} assignments ({due:,} due)"):
            cursor.execute(
                """
                WITH depts AS (SELECT array_agg(id ORDER BY id) AS ids FROM feedback_department
                               WHERE kind <> 'office')
                INSERT INTO feedback_assignment (issue_id, department_id, role, status, assigned_on,
                    deadline_amount, deadline_unit, due_date, original_due_date, provisional, deadline_version,
                    created_at, received_on)
                SELECT i.id, depts.ids[1 + n %% array_length(depts.ids, 1)], 'lead',
                       (ARRAY['pending', 'acknowledged'])[1 + n %% 2], i.received_on,
                       CASE WHEN n <= %(due)s THEN 1 ELSE 15 END, 'working_day',
                       CASE WHEN n <= %(due)s THEN %(due_date)s ELSE i.received_on + 21 END,
                       CASE WHEN n <= %(due)s THEN %(due_date)s ELSE i.received_on + 21 END,
                       false, 1, %(now)s, i.received_on
                FROM (SELECT id, received_on, row_number() OVER (ORDER BY id) AS n FROM feedback_issue) AS i,
                     depts""",
                params,
            )
        with step("their ladders as deadline steps"):
            cursor.execute(
                """
                INSERT INTO feedback_deadlinestep (assignment_id, step, deadline_version, due_date, scheduled_for,
                                                   taken_at, announced_at)
                SELECT a.id, s.step, 1, a.due_date, s.at,
                       CASE WHEN s.step = 'remind_50' AND a.id %% 2 = 1 THEN s.at END,
                       CASE WHEN s.step = 'remind_50' AND a.id %% 2 = 1 THEN s.at END
                FROM feedback_assignment a
                CROSS JOIN LATERAL (VALUES
                    ('remind_50', CASE WHEN a.id %% 2 = 1 THEN %(now)s - interval '2 days'
                                       ELSE %(now)s + (a.id %% 40000) * interval '1 minute' + interval '1 hour' END),
                    ('overdue', (a.due_date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'),
                    ('chase', (a.due_date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '9 hours'),
                    ('supervise', (a.due_date + 8)::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '9 hours'),
                    ('bulletin', (date_trunc('month', a.due_date + 8) + interval '1 month')::timestamp
                                 AT TIME ZONE 'Asia/Shanghai')) AS s(step, at)
                WHERE a.deadline_amount <> 1 OR s.step <> 'remind_50'""",
                params,
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        with step("vacuum analyze"):
            cursor.execute("VACUUM ANALYZE")
    return due


def explain(sql: str, params: list[object], analyze: bool = True) -> str:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    outcome = action()
    return time.perf_counter() - start, outcome


# The yardstick: mark every open assignment whose due date has passed, in one statement.
MARK_ALL = (
    "UPDATE feedback_assignment SET overdue_at = %s WHERE status IN ('pending', 'acknowledged', 'submitted', "
    "'returned') AND due_date < %s AND overdue_at IS NULL"
)


def set_based_update() -> int:
    from django.db import connection

    with connection.cursor() as cursor:  # autocommit: the statement commits on its own
        cursor.execute(MARK_ALL, [NOW, NOW.date()])
        return cursor.rowcount


def reset() -> None:
    """Back to the populated state: only the due rows (deadline_amount = 1) and their overdue steps
    were changed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE feedback_historyentry, feedback_notification")
        cursor.execute(
            "UPDATE feedback_deadlinestep SET taken_at = NULL, announced_at = NULL "
            "WHERE step = 'overdue' AND taken_at IS NOT NULL"
        )
        cursor.execute("UPDATE feedback_assignment SET overdue_at = NULL WHERE overdue_at IS NOT NULL")
        for table in ("feedback_assignment", "feedback_deadlinestep", "feedback_historyentry", "feedback_notification"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    args = parse_args()
    url, maintenance = bench_url(args.database, "bench/sweep.py")
    fresh = recreate_database(maintenance, args.database, args.reuse)
    setup_django(url)
    from django.db import connection

    from feedback.services import due_steps_sql
    from feedback.services.sweeps import announce_steps, take_due_steps

    version = connection.cursor().connection.info.server_version
    print(f"database {args.database} on {urlsplit(url).hostname}; PostgreSQL {version}")
    if fresh:
        print("populating:")
        populate(args.rows, args.due_share)
    else:
        print("reusing the existing rows")
    reset()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM feedback_deadlinestep WHERE taken_at IS NULL AND scheduled_for <= %s", [NOW]
        )
        due = cursor.fetchone()[0]
        cursor.execute(
            "SELECT (SELECT count(*) FROM feedback_assignment), count(*), count(*) - count(taken_at) "
            "FROM feedback_deadlinestep"
        )
        total, steps, pending = cursor.fetchone()
    print(
        f"{total:,} open assignments; {steps:,} deadline steps, {pending:,} pending; "
        f"{due:,} due at {NOW:%Y-%m-%d %H:%M %Z}\n"
    )

    print("query plan of the sweep's select (first batch):")
    plan = explain(*due_steps_sql(NOW, args.batch))
    print("  " + plan.replace("\n", "\n  "))
    uses_index = "deadlinestep_pending_idx" in plan and "Seq Scan" not in plan
    verdict = "reads only the partial index deadlinestep_pending_idx" if uses_index else "NOT THE PARTIAL INDEX"
    print(f"  → {verdict}\n")

    print("query plan of the single UPDATE:")
    print("  " + explain(MARK_ALL, [NOW, NOW.date()], analyze=False).replace("\n", "\n  ") + "\n")

    takes: list[float] = []
    announces: list[float] = []
    updates: list[float] = []
    for run in range(1, args.runs + 1):
        seconds, result = timed(lambda: take_due_steps(NOW, batch=args.batch))
        assert result.examined == due and result.steps == {"overdue": due}, result
        takes.append(seconds)
        seconds, count = timed(lambda: announce_steps(NOW, batch=args.batch))
        assert count == due, count
        announces.append(seconds)
        reset()
        seconds, count = timed(set_based_update)
        assert count == due, count
        updates.append(seconds)
        reset()
        print(
            f"run {run}: take {takes[-1]:7.3f} s   announce {announces[-1]:7.3f} s   "
            f"single UPDATE {updates[-1]:7.3f} s",
            flush=True,
        )

    take, announce, update = (statistics.median(x) for x in (takes, announces, updates))
    print(f"\nmedian of {args.runs} runs, {due:,} due steps among {steps:,} (batches of {args.batch:,}):")
    print(f"  sweep, take pass (mark)           {take:7.3f} s  ({due / take:,.0f} rows/s)")
    print(
        f"  sweep, announce pass              {announce:7.3f} s  ({due / announce:,.0f} steps/s: history and "
        "two notifications each)"
    )
    print(f"  single set-based UPDATE           {update:7.3f} s")
    print(f"  ratio take / UPDATE               {take / update:7.1f}x  (target ≤ 3x)")
    print(f"  ratio whole sweep / UPDATE        {(take + announce) / update:7.1f}x  (target ≤ 10x)")


if __name__ == "__main__":
    main()
