"""Ledger import benchmark: a 1,545-row 政网 ledger (January–August 2024, the reported figures).

    .venv/bin/python bench/import_ledger.py                  # SQLite (and PostgreSQL if DATABASE_URL is set)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/import_ledger.py

Generates the ledger as a CSV file (273 netizens, 1,545 requests, every one answered in writing,
most closed and rated, one to three departments each), then for each database times
``manage.py import_issues`` on it — the real command, all rows checked, then written in one
transaction through ``services.import_ledger`` — and a second import of the same file (nothing new).
Each database is fresh: SQLite in a temporary directory; on PostgreSQL the database
``zt_bench_import`` is dropped and recreated on the server DATABASE_URL points at (the database
named in the URL is not touched). Migrating and loading the reference data are not timed. Anything
the import queues (notification emails) goes to a throwaway filesystem broker in the temp directory.

Prints the times and the figures of the imported cohort from ``feedback.figures.statistics`` (the numbers
the statistics API returns), which must read 1,545 issues, 273 requesters, reply rate 100%.
Target (issue 7): under 10 seconds on this machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS, REQUESTERS = 1545, 273
FIRST, LAST = datetime.date(2024, 1, 2), datetime.date(2024, 8, 28)
CATEGORIES = ["education", "health", "transport", "employment", "social_security", "housing", "environment",
              "rural", "business", "public_safety", "civil_affairs", "urban", "culture", "other"]
DEPARTMENTS = ["jyj", "wjj", "zjj", "jtj", "rsj", "sthj", "nyj", "slj", "zrj", "scj", "gaj", "mzj", "cgj", "fgj",
               "gxj", "jkz", "gsz", "zsz", "sjz", "hqz", "smz", "ltz", "dkz"]
# CONTRACT.md "Ledger columns for import_issues" (the parent process does not load Django).
COLUMNS = ("ref", "channel", "received_on", "requester", "requester_phone", "requester_org", "category", "title",
           "content", "departments", "deadline_amount", "deadline_unit", "replied_on", "closed_on", "satisfaction")
SATISFACTION = ["满意"] * 8 + ["基本满意"] * 3 + ["不满意"]


def generate(rows: int, open_share: float = 0.0, seed: int = 2024) -> bytes:
    rnd = random.Random(seed)
    people = []
    for n in range(REQUESTERS):  # netizens known by their handles; about a third left a phone number
        phone = f"13{rnd.randint(100_000_000, 999_999_999)}" if n % 3 == 0 else ""
        people.append((f"网友{n:03d}号", phone))
    span = (LAST - FIRST).days
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for i in range(rows):
        name, phone = people[i % REQUESTERS] if i < REQUESTERS else rnd.choice(people)
        received = FIRST + datetime.timedelta(days=rnd.randint(0, span))
        replied = received + datetime.timedelta(days=rnd.randint(2, 20))
        closed = replied + datetime.timedelta(days=rnd.randint(0, 10)) if rnd.random() < 0.9 else None
        if rnd.random() < open_share:  # not answered yet: registered and assigned the normal way
            replied = closed = None
        departments = rnd.sample(DEPARTMENTS, rnd.choice([1, 1, 1, 2, 2, 3]))
        explicit = rnd.random() < 0.2
        writer.writerow([
            f"ZW2024-{i + 1:05d}", "net", f"{received:%Y-%m-%d}", name, phone, "", rnd.choice(CATEGORIES),
            f"关于第{i + 1}号问题的建议", f"网民反映的第{i + 1}号问题，希望有关部门研究解决。" * 3,
            ";".join(departments), "15" if explicit else "", "working_day" if explicit else "",
            f"{replied:%Y-%m-%d}" if replied else "", f"{closed:%Y-%m-%d}" if closed else "",
            rnd.choice(SATISFACTION) if closed else "",
        ])
    return out.getvalue().encode("utf-8-sig")


def postgres_url(url: str, name: str) -> str:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres(url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child(path: str, profile: bool) -> None:
    """Runs in a fresh process whose DATABASE_URL and VAR_DIR point at the bench database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhitongche.settings")
    django.setup()
    from django.core.management import call_command

    from feedback.figures import statistics
    from feedback.ledger import parse as ledger
    from feedback.models import Issue
    from feedback.services.reference import load_reference_data

    assert ledger.COLUMNS == COLUMNS

    call_command("migrate", verbosity=0)
    load_reference_data()

    out = io.StringIO()
    started = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(call_command, "import_issues", path, stdout=out)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    else:
        call_command("import_issues", path, stdout=out)
    first = time.perf_counter() - started
    started = time.perf_counter()
    call_command("import_issues", path, stdout=out)
    second = time.perf_counter() - started
    counts = [line for line in out.getvalue().splitlines() if line.startswith("created:")]
    figures = statistics.summary(statistics.cohort(Issue.objects.all(), channel="net", received_from=FIRST,
                                                   received_to=LAST), as_of=datetime.date(2024, 12, 31))
    print(f"  import:    {first:6.2f} s   ({counts[0]})")
    print(f"  re-import: {second:6.2f} s   ({counts[1]})")
    print(f"  figures:   issues {figures.issues}, requesters {figures.requesters}, replied {figures.replied} "
          f"(reply rate {figures.reply_rate}%), closed {figures.closed} (closure rate {figures.closure_rate}%), "
          f"satisfaction rate {figures.satisfaction_rate}%, assignments {figures.assignments}, "
          f"on time {figures.on_time}, late {figures.late}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows in the ledger (default {ROWS:,})")
    parser.add_argument("--open-share", type=float, default=0.0,
                        help="share of rows not yet answered, imported one by one through register_issue and "
                             "assign_issue (default 0: every request was answered, as reported)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the first import")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile)
        return

    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="zt-bench-import-") as tmp:
        ledger = Path(tmp) / "ledger.csv"
        ledger.write_bytes(generate(args.rows, args.open_share))
        print(f"ledger: {args.rows:,} rows, {ledger.stat().st_size / 1024:.0f} KiB")
        targets = [("SQLite", f"sqlite:///{tmp}/bench.sqlite3")]
        if urlsplit(url).scheme in ("postgres", "postgresql", "pgsql"):
            targets.append(("PostgreSQL", postgres_url(url, "zt_bench_import")))
        try:
            for label, database in targets:
                print(f"{label}:", flush=True)
                # As in production: DEBUG off (no query log kept in memory).
                env = {**os.environ, "DATABASE_URL": database, "VAR_DIR": f"{tmp}/var-{label}", "DEBUG": "0",
                       "SECRET_KEY": "bench-only-not-a-secret", "LOG_LEVEL": "WARNING"}
                command = [sys.executable, __file__, "--child", str(ledger)] + (["--profile"] if args.profile else [])
                subprocess.run(command, env=env, check=True)
        finally:
            if len(targets) > 1:
                drop_postgres(url, "zt_bench_import")


if __name__ == "__main__":
    main()
