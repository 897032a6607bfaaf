"""Sweep benchmark: 1,000,000 open assignments in PostgreSQL, 1% of them due.

    .venv/bin/python bench/sweep.py            # DATABASE_URL=postgres://… (see bench/README.md)

Creates a fresh database (``zt_bench`` on the server DATABASE_URL points at), migrates it,
bulk-generates the rows in SQL, prints the query plan of the sweep's select, then times in
the same run, alternately:

- the real sweep, ``feedback.sweeps.sweep_deadlines`` (marks the 10,000 due rows overdue,
  records their DeadlineStep and history rows and notifies the departments), and
- one set-based ``UPDATE feedback_assignment SET overdue_at = … WHERE next_check_at <= …``
  doing the same marking and nothing else.

Both commit their work, as in production (the sweep one transaction per batch of 500; the
deferred foreign-key checks of its inserts run at each commit). Between runs the state is
put back — the sweep's DeadlineStep, history and notification rows truncated (this database
holds no others), the due rows' next step and overdue mark restored — and vacuumed, so each
run starts from the same state. Prints the median times and their ratio.
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
    from feedback.reference import load_reference_data

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
    params = {"n": rows, "due": due, "category": category.pk, "requester": requester.pk, "now": NOW,
              "due_assigned": DUE_ASSIGNED, "due_date": DUE_DATE, "overdue_at": OVERDUE_AT}
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        with step(f"{rows:,} issues"):
            cursor.execute("""
                INSERT INTO feedback_issue (ref, channel, nature, category_id, requester_id, title, content,
                    received_on, onsite_answer, status, satisfaction, follow_up_comment, created_at, updated_at)
                SELECT 'B' || lpad(g::text, 7, '0'), (ARRAY['net', 'enterprise', 'citizen'])[1 + g %% 3],
                       'suggestion', %(category)s, %(requester)s, '诉求 ' || g, '诉求内容 ' || g,
                       CASE WHEN g <= %(due)s THEN %(due_assigned)s ELSE DATE '2026-11-02' + (g %% 14) END,
                       '', 'assigned', '', '', %(now)s, %(now)s
                FROM generate_series(1, %(n)s) AS g""", params)
        # Rows 1..due fall due (overdue is their next step, at 11-17 00:00); about half the others
        # have a later step (a reminder within the next weeks), the rest have taken every step
        # (NULL) — all of them open.
        with step(f"{rows:,} assignments ({due:,} due)"):
            cursor.execute("""
                WITH depts AS (SELECT array_agg(id ORDER BY id) AS ids FROM feedback_department
                               WHERE kind <> 'office')
                INSERT INTO feedback_assignment (issue_id, department_id, role, status, assigned_on,
                    deadline_amount, deadline_unit, due_date, original_due_date, provisional, deadline_version,
                    next_step, next_check_at, created_at)
                SELECT i.id, depts.ids[1 + n %% array_length(depts.ids, 1)], 'lead',
                       (ARRAY['pending', 'acknowledged'])[1 + n %% 2], i.received_on,
                       CASE WHEN n <= %(due)s THEN 1 ELSE 10 END, 'working_day',
                       CASE WHEN n <= %(due)s THEN %(due_date)s ELSE i.received_on + 14 END,
                       CASE WHEN n <= %(due)s THEN %(due_date)s ELSE i.received_on + 14 END,
                       false, 1,
                       CASE WHEN n <= %(due)s THEN 'overdue' WHEN n %% 2 = 0 THEN 'remind_50' ELSE '' END,
                       CASE WHEN n <= %(due)s THEN %(overdue_at)s
                            WHEN n %% 2 = 0 THEN %(now)s + (n %% 40000) * interval '1 minute' + interval '1 hour'
                       END,
                       %(now)s
                FROM (SELECT id, received_on, row_number() OVER (ORDER BY id) AS n FROM feedback_issue) AS i,
                     depts""", params)
        with step("vacuum analyze"):
            cursor.execute("VACUUM ANALYZE")
    return due


def explain_sweep() -> str:
    from django.db import connection, transaction

    from feedback.sweeps import due_assignments

    with transaction.atomic():
        query, params = due_assignments(NOW)[:500].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    outcome = action()
    return time.perf_counter() - start, outcome


def set_based_update() -> int:
    from django.db import connection

    with connection.cursor() as cursor:  # autocommit: the statement commits on its own
        cursor.execute("UPDATE feedback_assignment SET overdue_at = %s WHERE next_check_at <= %s", [NOW, NOW])
        return cursor.rowcount


def set_based_sweep() -> int:
    """For reference, not used by the portal: the sweep's writes for these rows (step, history,
    notifications, next step, overdue mark) as one SQL statement — what the writes alone cost,
    with nothing computed in Python. It can only be written for this data, whose one due step
    and next step are known in advance; the real sweep computes them from the calendar."""
    from django.db import connection

    chase = datetime.datetime(2026, 11, 17, 9, 0, tzinfo=SH)
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH due AS (SELECT id, issue_id, department_id, deadline_version, due_date FROM feedback_assignment
                         WHERE next_check_at <= %(now)s FOR NO KEY UPDATE),
            step AS (INSERT INTO feedback_deadlinestep (assignment_id, step, deadline_version, due_date,
                                                       scheduled_for, taken_at)
                     SELECT id, 'overdue', deadline_version, due_date, %(overdue_at)s, %(now)s FROM due
                     ON CONFLICT DO NOTHING RETURNING assignment_id),
            claimed AS (SELECT due.*, i.ref, i.title, to_char(due.due_date, 'YYYY"年"MM"月"DD"日"') AS due_text
                        FROM due JOIN step ON step.assignment_id = due.id JOIN feedback_issue i ON i.id = due.issue_id),
            history AS (INSERT INTO feedback_historyentry (issue_id, assignment_id, at, action, from_status,
                                                          to_status, note)
                        SELECT issue_id, id, now(), 'deadline_overdue', '', '', '超期：办理期限 ' || due_text
                        FROM claimed),
            notes AS (INSERT INTO feedback_notification (recipient_id, issue_id, assignment_id, kind,
                                                         deadline_version, title, body, created_at)
                      SELECT m.user_id, c.issue_id, c.id, 'overdue', c.deadline_version, '超期：' || c.title,
                             c.ref || '“' || c.title || '”已超过办理期限（' || c.due_text || '），请立即办理。', now()
                      FROM claimed c JOIN feedback_membership m ON m.department_id = c.department_id
                      ON CONFLICT DO NOTHING)
            UPDATE feedback_assignment a SET overdue_at = %(now)s, next_step = 'chase', next_check_at = %(chase)s
            FROM claimed WHERE a.id = claimed.id""", {"now": NOW, "overdue_at": OVERDUE_AT, "chase": chase})
        return cursor.rowcount


def reset() -> None:
    """Back to the populated state: only the due rows (deadline_amount = 1) were changed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE feedback_deadlinestep, feedback_historyentry, feedback_notification")
        cursor.execute("UPDATE feedback_assignment SET next_step = 'overdue', next_check_at = %s, overdue_at = NULL "
                       "WHERE deadline_amount = 1", [OVERDUE_AT])
        for table in ("feedback_assignment", "feedback_deadlinestep", "feedback_historyentry",
                      "feedback_notification"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    args = parse_args()
    url, maintenance = bench_url(args.database, "bench/sweep.py")
    fresh = recreate_database(maintenance, args.database, args.reuse)
    setup_django(url)
    from django.db import connection

    from feedback.sweeps import sweep_deadlines

    version = connection.cursor().connection.info.server_version
    print(f"database {args.database} on {urlsplit(url).hostname}; PostgreSQL {version}")
    if fresh:
        print("populating:")
        due = populate(args.rows, args.due_share)
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM feedback_assignment WHERE next_check_at <= %s", [NOW])
            due = cursor.fetchone()[0]
        print("reusing the existing rows")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(next_check_at) FROM feedback_assignment")
        total, with_step = cursor.fetchone()
    print(f"{total:,} open assignments; {with_step:,} with a next step; {due:,} due at {NOW:%Y-%m-%d %H:%M %Z}\n")

    print("query plan of the sweep's select (first batch):")
    plan = explain_sweep()
    print("  " + plan.replace("\n", "\n  "))
    uses_index = "assignment_next_check_idx" in plan and "Seq Scan on feedback_assignment" not in plan
    verdict = "reads only the partial index assignment_next_check_idx" if uses_index else "NOT THE PARTIAL INDEX"
    print(f"  → {verdict}\n")

    print("query plan of the single UPDATE:")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN UPDATE feedback_assignment SET overdue_at = %s WHERE next_check_at <= %s", [NOW, NOW])
        print("  " + "\n  ".join(row[0] for row in cursor.fetchall()) + "\n")

    reset()
    sweeps: list[float] = []
    updates: list[float] = []
    floors: list[float] = []
    for run in range(1, args.runs + 1):
        seconds, result = timed(lambda: sweep_deadlines(now=NOW))
        assert result.examined == due and result.steps == {"overdue": due}, result
        sweeps.append(seconds)
        reset()
        seconds, count = timed(set_based_update)
        assert count == due, count
        updates.append(seconds)
        reset()
        seconds, count = timed(set_based_sweep)
        assert count == due, count
        floors.append(seconds)
        reset()
        print(f"run {run}: sweep {sweeps[-1]:7.3f} s   single UPDATE {updates[-1]:7.3f} s   "
              f"same writes in one SQL statement {floors[-1]:7.3f} s", flush=True)

    sweep, update, floor = (statistics.median(x) for x in (sweeps, updates, floors))
    print(f"\nmedian of {args.runs} runs, {due:,} due rows among {total:,}:")
    print(f"  sweep_deadlines                   {sweep:7.3f} s  ({due / sweep:,.0f} rows/s, "
          f"{sweep / (due / 500) * 1000:.0f} ms per batch of 500)")
    print(f"  single set-based UPDATE           {update:7.3f} s")
    print(f"  same writes in one SQL statement  {floor:7.3f} s  (reference: {floor / update:.1f}x the UPDATE)")
    print(f"  ratio sweep / UPDATE              {sweep / update:7.1f}x  (target ≤ 3x)")


if __name__ == "__main__":
    main()
