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
import dataclasses
import datetime
import gc
import io
import os
import random
import resource
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
CATEGORIES = [
    "education",
    "health",
    "transport",
    "employment",
    "social_security",
    "housing",
    "environment",
    "rural",
    "business",
    "public_safety",
    "civil_affairs",
    "urban",
    "culture",
    "other",
]
DEPARTMENTS = [
    "jyj",
    "wjj",
    "zjj",
    "jtj",
    "rsj",
    "sthj",
    "nyj",
    "slj",
    "zrj",
    "scj",
    "gaj",
    "mzj",
    "cgj",
    "fgj",
    "gxj",
    "jkz",
    "gsz",
    "zsz",
    "sjz",
    "hqz",
    "smz",
    "ltz",
    "dkz",
]
# docs/api.md "Ledger columns for import_issues" (the parent process does not load Django).
COLUMNS = (
    "ref",
    "channel",
    "received_on",
    "requester",
    "requester_phone",
    "requester_org",
    "category",
    "title",
    "content",
    "departments",
    "deadline_amount",
    "deadline_unit",
    "replied_on",
    "closed_on",
    "satisfaction",
)
SATISFACTION = ["满意"] * 8 + ["基本满意"] * 3 + ["不满意"]
# --clerk: the ledger as a clerk keeps it (docs/api.md "Ledger files clerks keep").
CLERK_HEADER = [
    "序号",
    "诉求编号",
    "来源渠道",
    "受理时间",
    "网民昵称",
    "联系方式",
    "单位名称",
    "类别",
    "诉求标题",
    "具体诉求",
    "责任单位",
    "时限",
    "时限单位",
    "答复日期",
    "办结时间",
    "回访结果",
    "备注",
]
SHORT = {
    "jyj": "教育局",
    "wjj": "卫健局",
    "zjj": "住建局",
    "jtj": "交通运输局",
    "rsj": "人社局",
    "sthj": "生态环境局",
    "nyj": "农业农村局",
    "slj": "水利局",
    "zrj": "自然资源局",
    "scj": "市场监管局",
    "gaj": "公安局",
    "mzj": "民政局",
    "cgj": "城管局",
    "fgj": "发改局",
    "gxj": "工信局",
    "jkz": "江口镇",
    "gsz": "高沙镇",
    "zsz": "竹市镇",
    "sjz": "石江镇",
    "hqz": "黄桥镇",
    "smz": "山门镇",
    "ltz": "醪田镇",
    "dkz": "洞口镇",
}


def clerk_workbook(csv_data: bytes) -> bytes:
    """The same rows as an .xlsx the way clerks keep it: a title block, Chinese header variants, date
    cells, mobiles as numbers, departments by short name joined by 、, extra columns, a 合计 row."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(["2024年政网直通车诉求台账"])
    sheet.append([])
    sheet.append(CLERK_HEADER)
    rows = list(csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))))[1:]

    def day(text: str) -> datetime.datetime | None:
        return datetime.datetime.fromisoformat(text) if text else None

    for n, r in enumerate(rows, start=1):
        sheet.append(
            [
                n,
                r[0],
                "政网",
                day(r[2]),
                r[3],
                int(r[4]) if r[4] else None,
                r[5] or None,
                r[6],
                r[7],
                r[8],
                "、".join(SHORT[c] for c in r[9].split(";")),
                int(r[10]) if r[10] else None,
                "工作日" if r[11] else None,
                day(r[12]),
                day(r[13]),
                r[14] or None,
                None,
            ]
        )
    sheet.append([])
    sheet.append(["合计", f"{len(rows)} 件"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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
        writer.writerow(
            [
                f"ZW2024-{i + 1:05d}",
                "net",
                f"{received:%Y-%m-%d}",
                name,
                phone,
                "",
                rnd.choice(CATEGORIES),
                f"关于第{i + 1}号问题的建议",
                f"网民反映的第{i + 1}号问题，希望有关部门研究解决。" * 3,
                ";".join(departments),
                "15" if explicit else "",
                "working_day" if explicit else "",
                f"{replied:%Y-%m-%d}" if replied else "",
                f"{closed:%Y-%m-%d}" if closed else "",
                rnd.choice(SATISFACTION) if closed else "",
            ]
        )
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


def load() -> str:
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def import_only(path: str) -> None:
    """``--fresh-process``: runs in a process that did nothing but start Django, so that its peak
    RSS is the import's (plus Django's own footprint, printed as "before")."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhitongche.settings")
    django.setup()
    from django.core.management import call_command

    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = io.StringIO()
    started = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    call_command("import_issues", path, stdout=out)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak = after.ru_maxrss / 1024
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    counts = next(line for line in out.getvalue().splitlines() if line.startswith("created:"))
    # The process's CPU time says what the import cost itself on a machine where it waits for a core.
    print(f"RESULT\t{seconds}\t{peak}\t{before}\t{counts}; the process used {cpu:.2f} s of CPU", flush=True)


def fresh_import(path: str) -> tuple[float, float, float, str]:
    """One import of ``path`` in a new process (``import_only``): seconds, peak and starting RSS, counts."""
    done = subprocess.run([sys.executable, __file__, "--import-only", path], check=True, capture_output=True, text=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT\t"))
    _, seconds, peak, before, counts = line.split("\t")
    return float(seconds), float(peak), float(before), counts


def child(path: str, profile: bool, fresh: bool = False) -> None:
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

    if fresh:
        # Each import in its own new process (--fresh-process): the migration and the reference data
        # loaded above stay out of the import's peak RSS.
        print(f"  (import starting in a fresh process; {load()})", flush=True)
        first, peak, before, created = fresh_import(path)
        second, second_peak, _, again = fresh_import(path)
        out = io.StringIO(f"{created}\n{again}\n")
    else:
        # The import first, in this process, so that its peak memory is the process's (the parts
        # measured afterwards read the file again).
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = io.StringIO()
        started = time.perf_counter()
        print(f"  (import starting; {load()})", flush=True)
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
        peak = second_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The parts, and a baseline measured in the same run on the same machine: only reading the
    # file's cells (openpyxl's read-only iteration, or the csv module), no checks, no writes.
    data = Path(path).read_bytes()
    started = time.perf_counter()
    if path.endswith(".xlsx"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        cells = sum(len(row) for row in book.worksheets[0].iter_rows(values_only=True))
        book.close()
    else:
        cells = sum(len(row) for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    table = ledger.read_table(data, path)
    # The first sheet's rows are read as they are iterated (decision 0720): read them all here.
    table = dataclasses.replace(table, rows=list(table.rows))
    reading = time.perf_counter() - started
    started = time.perf_counter()
    checked = ledger.check_table(table)
    checking = time.perf_counter() - started
    assert checked.ok, checked.problems[:5]
    print(f"  baseline:  {baseline:6.2f} s   (reading the {cells:,} cells only, no checks; {load()})")
    print(f"  read:      {reading:6.2f} s   check: {checking:6.2f} s   (parts of the import below)")
    rows = len(checked.rows)

    counts = [line for line in out.getvalue().splitlines() if line.startswith("created:")]
    figures = statistics.summary(
        statistics.cohort(Issue.objects.all(), channel="net", received_from=FIRST, received_to=LAST),
        as_of=datetime.date(2024, 12, 31),
    )
    print(
        f"  import:    {first:6.2f} s   ({counts[0]}; {rows:,} rows, {rows / first:,.0f} rows/s; "
        f"{first / baseline:.1f}× the baseline)"
    )
    where = "its own fresh process" if fresh else "this process, after migrating"
    print(f"  peak memory (RSS): {peak:,.0f} MiB (in {where}; before the import: {before:,.0f} MiB); {load()}")
    print(f"  re-import: {second:6.2f} s   ({counts[1]}; peak RSS {second_peak:,.0f} MiB)")
    print(
        f"  figures:   issues {figures.issues}, requesters {figures.requesters}, replied {figures.replied} "
        f"(reply rate {figures.reply_rate}%), closed {figures.closed} (closure rate {figures.closure_rate}%), "
        f"satisfaction rate {figures.satisfaction_rate}%, assignments {figures.assignments}, "
        f"on time {figures.on_time}, late {figures.late}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows in the ledger (default {ROWS:,})")
    parser.add_argument(
        "--open-share",
        type=float,
        default=0.0,
        help="share of rows not yet answered, imported one by one through register_issue and "
        "assign_issue (default 0: every request was answered, as reported)",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the first import")
    parser.add_argument(
        "--clerk",
        action="store_true",
        help="the ledger as a clerk keeps it: .xlsx with a title block, Chinese headers, date "
        "cells, mobiles as numbers, short names, extra columns and a 合计 row",
    )
    parser.add_argument(
        "--sqlite", action=argparse.BooleanOptionalAction, default=True, help="also on SQLite (default yes)"
    )
    parser.add_argument(
        "--database",
        default="zt_bench_import",
        help="PostgreSQL database to (re)create and drop (default zt_bench_import)",
    )
    parser.add_argument(
        "--fresh-process",
        action="store_true",
        help="run each import in a new process that does nothing else, so that the peak RSS printed "
        "is the import's (default: the process that migrated and loaded the reference data)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--import-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_only:
        import_only(args.import_only)
        return
    if args.child:
        child(args.child, args.profile, args.fresh_process)
        return

    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="zt-bench-import-") as tmp:
        data = generate(args.rows, args.open_share)
        ledger = Path(tmp) / ("ledger.xlsx" if args.clerk else "ledger.csv")
        ledger.write_bytes(clerk_workbook(data) if args.clerk else data)
        print(f"ledger: {args.rows:,} rows, {ledger.name}, {ledger.stat().st_size / 1024:.0f} KiB")
        targets = [("SQLite", f"sqlite:///{tmp}/bench.sqlite3")] if args.sqlite else []
        if urlsplit(url).scheme in ("postgres", "postgresql", "pgsql"):
            targets.append(("PostgreSQL", postgres_url(url, args.database)))
        try:
            for label, database in targets:
                print(f"{label}:", flush=True)
                # As in production: DEBUG off (no query log kept in memory).
                env = {
                    **os.environ,
                    "DATABASE_URL": database,
                    "VAR_DIR": f"{tmp}/var-{label}",
                    "DEBUG": "0",
                    "SECRET_KEY": "bench-only-not-a-secret",
                    "LOG_LEVEL": "WARNING",
                }
                command = [sys.executable, __file__, "--child", str(ledger)]
                command += ["--profile"] if args.profile else []
                command += ["--fresh-process"] if args.fresh_process else []
                subprocess.run(command, env=env, check=True)
        finally:
            if any(label == "PostgreSQL" for label, _ in targets):
                drop_postgres(url, args.database)


if __name__ == "__main__":
    main()
