"""Export benchmark: the issue list's background export job at 100,000 issues (issue 16 goal 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/export_ledger.py [--issues 100000]
        [--runs 1] [--xlsxwriter]

PostgreSQL only. Drops and recreates the database ``zt_bench_export`` (``--database``) on the server
DATABASE_URL points at (the database named in the URL is not touched), migrates it and generates
``--issues`` issues with 1.5 assignments each in SQL, as bench/stats.py does (not timed). Then, in
the same run:

- the **baseline**: PostgreSQL's ``COPY (…) TO STDOUT`` of the same data the workbook holds — the
  issues with their requester and category, and their assignments with their departments — read to
  the end by this process (psycopg's ``copy``), the fastest exact way to get those rows out;
- the **export job**: ``services.run_export`` on a job asked by the county leader with no filter (every
  issue), in a fresh child process so that the peak resident memory it prints (``getrusage``) is the
  job's: reading the rows chunk by chunk, writing the sheet's XML itself into a frame openpyxl writes
  (``export.write_issues_workbook``), and the progress updates the job page shows;
- with ``--xlsxwriter``: the same job writing through XlsxWriter's constant_memory mode instead
  (bench/xlsxwriter_export.py, the maintained library measured against the hand-written writer),
  each run right after the portal's own (decision 0662).

Prints the times, their ratio, the CPU time of the job's process, its peak memory, the file's size
and rows (counted in the sheet's XML), and the load average before and after (the machine is shared).
Targets (issue 16 goal 4): 100,000 rows in ≤ 15 s with ≤ 250 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgbench_setup import bench_url, recreate_database, setup_django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE_SQL = (
    """COPY (SELECT i.id, i.ref, i.channel, i.received_on, r.name, c.name, i.nature, i.title, i.status,
                   i.closed_on, i.satisfaction
            FROM feedback_issue i JOIN feedback_requester r ON r.id = i.requester_id
                 JOIN feedback_category c ON c.id = i.category_id
            ORDER BY i.received_on DESC, i.id DESC) TO STDOUT""",
    """COPY (SELECT a.issue_id, a.role, d.name, a.due_date, a.replied_on
            FROM feedback_assignment a JOIN feedback_department d ON d.id = a.department_id
            ORDER BY a.issue_id, a.due_date, a.id) TO STDOUT""",
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--issues", type=int, default=100_000, help="issues to generate (default 100,000)")
    p.add_argument("--database", default="zt_bench_export", help="database to (re)create (default zt_bench_export)")
    p.add_argument("--reuse", action="store_true", help="keep an existing bench database with its rows")
    p.add_argument("--runs", type=int, default=1, help="export jobs to time, each in a fresh process (default 1)")
    p.add_argument("--xlsxwriter", action="store_true", help="also time the job writing with XlsxWriter")
    p.add_argument("--job", action="store_true", help=argparse.SUPPRESS)  # the child: run one job
    p.add_argument("--writer", default="", help=argparse.SUPPRESS)  # the child: "xlsxwriter" or the portal's
    return p.parse_args()


def load() -> str:
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def run_job(writer: str) -> None:
    """The child process: one export job over every issue, timed; prints seconds, peak RSS and the file."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from feedback import services
    from feedback.models import ExportJob

    if writer == "xlsxwriter":  # put where the job looks its writer up
        import xlsxwriter_export

        services.export_jobs.write_issues_workbook = xlsxwriter_export.write_issues_workbook

    leader = get_user_model().objects.get(username="leader")
    job = ExportJob.objects.create(user=leader, params={})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    services.run_export(job_id=job.pk)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    path = Path(settings.MEDIA_ROOT) / job.file
    print(f"JOB {seconds:.3f} {cpu:.3f} {before} {peak} {job.total} {path}")


def count_rows(path: str) -> int:
    with zipfile.ZipFile(path) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
        return sum(len(re.findall(rb"<row ", chunk)) for chunk in iter(lambda: sheet.read(1 << 20), b""))


def main() -> None:
    args = parse_args()
    url, maintenance = bench_url(args.database, "bench/export_ledger.py")
    if args.job:
        setup_django(url)
        run_job(args.writer)
        return
    fresh = recreate_database(maintenance, args.database, args.reuse)
    setup_django(url)
    import stats
    from django.db import connection

    if fresh:
        print("populating (as bench/stats.py):")
        stats.populate(args.issues)
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM feedback_issue), (SELECT count(*) FROM feedback_assignment)")
        issues, assignments = cursor.fetchone()
    print(f"{issues:,} issues, {assignments:,} assignments; {load()}")

    # The baseline, measured twice (the first warms the cache the job then also enjoys); the faster counts.
    raw = connection.cursor().connection
    copies = []
    for _ in range(2):
        start, size = time.perf_counter(), 0
        for sql in BASELINE_SQL:
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for block in copy:
                    size += len(block)
        copies.append(time.perf_counter() - start)
    baseline = min(copies)
    print(f"baseline: COPY … TO STDOUT of the same rows: {baseline:.2f} s ({size / 2**20:.1f} MiB of text); {load()}")

    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"]}
    writers = [("own sheet XML", "")] + ([("XlsxWriter", "xlsxwriter")] if args.xlsxwriter else [])
    for run in range(1, args.runs + 1):
        for label, writer in writers:
            out = subprocess.run(
                [sys.executable, __file__, "--job", "--database", args.database, "--writer", writer],
                env={**env, "DATABASE_URL": maintenance},
                capture_output=True,
                text=True,
                check=False,
            )
            line = next((x for x in out.stdout.splitlines() if x.startswith("JOB ")), None)
            if line is None:
                sys.exit(f"the export job failed:\n{out.stdout}\n{out.stderr}")
            _, seconds, cpu, before, peak, total, path = line.split(" ", 6)
            rows = count_rows(path) - 1
            print(
                f"export job {run}, {label}: {float(seconds):.2f} s = {float(seconds) / baseline:.1f}× the COPY "
                f"baseline (the job's process used {float(cpu):.2f} s of CPU); "
                f"peak RSS {int(peak) / 1024:.0f} MiB (the process before the job: {int(before) / 1024:.0f} MiB); "
                f"{rows:,} rows (job total {int(total):,}), {os.path.getsize(path) / 2**20:.1f} MiB .xlsx; {load()}"
            )
            assert rows == issues == int(total), (rows, issues, total)
    print("targets (issue 16 goal 4): ≤ 15 s and ≤ 250 MB for 100,000 rows")


if __name__ == "__main__":
    main()
