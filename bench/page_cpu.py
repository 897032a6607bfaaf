"""The CPU a page costs: Python in this process and PostgreSQL's backend, per request (issue 16, goal 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/page_cpu.py --database dash_bench --reuse [--loads 100] [--rounds 3]

PostgreSQL only; bench/dashboard.py's database (``dash_bench``: 1,000,000 issues and the demo accounts).
Wall-clock times on a shared 2-core machine move by ±30 % from one run to the next; CPU time moves less,
and it is what limits the throughput under load (bench/load.py: two cores give 2,000 ms of CPU a second).
For each page — an issue page and the inbox (a department head), the ledger (a channel office), the
dashboard with its figures kept and the summary API for an empty period (the county leader) — it loads
the page ``--loads`` times through Django's test client and reads this process's CPU time
(``time.process_time``) and the CPU time of the PostgreSQL backend serving its connection (from /proc),
each divided by the loads.

The baseline, in the same run: the same pages with ``DATABASE_PREPARED_STATEMENTS=0`` (parameters quoted
into each statement's text by psycopg, nothing prepared: Django's default), alternately with the
portal's setting (decision 0790), each in a fresh process, ``--rounds`` times; it prints every round and
the medians with their ratios.

``--user-read`` measures instead the session's user read (``PortalBackend.get_user``: the user, its
membership and department, its role groups and the bell's count in one statement) as it is now — its
statement compiled once per process (``feedback.security.auth.SESSION_USER``, decision 0810) — against the
same queryset built and compiled for every read, as Django does: process CPU per read, 500 reads, five
rounds alternately.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dashboard_setup import add_database_args, load_average, prepare

SETTINGS = {"baseline: nothing prepared": "0", "prepared (decision 0790)": "1"}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(p)
    p.add_argument("--loads", type=int, default=100, help="loads of each page per round (default 100)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the two settings, alternately (default 3)")
    p.add_argument(
        "--user-read", action="store_true", help="compare the session user's read, compiled once or built each time"
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


def measure(loads: int) -> dict[str, list[float]]:
    """In this process: {page: [Python ms, PostgreSQL ms]} per load."""
    import stats
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from feedback import access

    users = get_user_model().objects
    head, leader, office = (users.get(username=n) for n in ("cgj_head", "leader", "netoffice"))

    def client(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    as_head, as_leader, as_office = client(head), client(leader), client(office)
    own = access.assignments_for(head).order_by("-id").values_list("issue_id", flat=True).first()
    empty = "received_from=2001-01-01&received_to=2001-01-01&as_of=" + stats.TODAY.isoformat()
    pages = {
        "issue page (department head)": (as_head, f"/issues/{own}/"),
        "inbox (department head)": (as_head, "/inbox/"),
        "ledger, 25 rows (office)": (as_office, "/issues/"),
        "dashboard, figures kept (leader)": (as_leader, f"/dashboard/?as_of={stats.TODAY.isoformat()}"),
        "summary API, empty period (leader)": (as_leader, f"/api/v1/stats/summary/?{empty}"),
    }

    def backend_seconds() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    out = {}
    for name, (c, path) in pages.items():
        for _ in range(8):  # warm: templates compiled, statements prepared (after five runs)
            assert c.get(path).status_code == 200, (name, path)
        python, backend = time.process_time(), backend_seconds()
        for _ in range(loads):
            c.get(path)
        out[name] = [
            (time.process_time() - python) * 1000 / loads,
            (backend_seconds() - backend) * 1000 / loads,
        ]
    return out


def user_read() -> None:
    from django.contrib.auth import get_user_model

    from feedback.access import role_group_flags
    from feedback.context_processors import unread_annotation
    from feedback.security.auth import PortalBackend

    leader = get_user_model().objects.get(username="leader").pk
    backend = PortalBackend()

    def built_each_time() -> object:
        manager = get_user_model()._default_manager
        return (
            manager.select_related("membership__department")
            .annotate(**role_group_flags(), **unread_annotation())
            .get(pk=leader)
        )

    def cpu(read, reads: int = 500) -> float:
        start = time.process_time()
        for _ in range(reads):
            read()
        return (time.process_time() - start) * 1000 / reads

    ways = {
        "built for every request (baseline)": built_each_time,
        "compiled once (SESSION_USER)": lambda: backend.get_user(leader),
    }
    for read in ways.values():
        cpu(read, 50)
    got: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(5):
        for name, read in ways.items():
            got[name].append(cpu(read))
    for name, values in got.items():
        print(
            f"{name}: {statistics.median(values):.2f} ms CPU per read (rounds: {', '.join(f'{v:.2f}' for v in values)})"
        )
    base, new = (statistics.median(v) for v in got.values())
    print(f"compiled once / built each time: {new / base:.2f}")


def main() -> None:
    args = parse_args()
    if args.user_read:
        prepare(args, "bench/page_cpu.py")
        user_read()
        return
    if args.child:
        prepare(args, "bench/page_cpu.py")
        print(json.dumps(measure(args.loads)))
        return
    url = prepare(args, "bench/page_cpu.py")
    before = load_average()
    rounds: dict[str, list[dict[str, list[float]]]] = {label: [] for label in SETTINGS}
    for n in range(args.rounds):
        for label, switch in SETTINGS.items():
            env = dict(os.environ, DATABASE_PREPARED_STATEMENTS=switch, DEBUG="0", SECRET_KEY="bench-only")
            env.update(ALLOWED_HOSTS="testserver", OTP_REQUIRED_ROLES="none", LOG_LEVEL="WARNING")
            env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
            argv = [sys.executable, __file__, "--child", "--reuse", "--database", args.database]
            done = subprocess.run(
                [*argv, "--loads", str(args.loads)], env=env, capture_output=True, text=True, check=True
            )
            got = json.loads(done.stdout.strip().splitlines()[-1])
            rounds[label].append(got)
            print(f"round {n + 1}, {label}: " + " | ".join(f"{k} {v[0]:.1f} + {v[1]:.1f}" for k, v in got.items()))
    print(f"\nload average before / after: {before} → {load_average()}  (2 cores, shared); database {url}")
    print(f"\nCPU per request, ms (Python in this process + PostgreSQL's backend), median of {args.rounds} rounds")
    base, new = rounds.values()
    print("| page | baseline: Python + PostgreSQL | prepared: Python + PostgreSQL | prepared / baseline (sum) |")
    print("|---|---|---|---|")
    for page in base[0]:
        b = [statistics.median(r[page][i] for r in base) for i in (0, 1)]
        p = [statistics.median(r[page][i] for r in new) for i in (0, 1)]
        print(
            f"| {page} | {b[0]:.1f} + {b[1]:.1f} = {sum(b):.1f} | {p[0]:.1f} + {p[1]:.1f} = {sum(p):.1f} | "
            f"{sum(p) / sum(b):.2f} |"
        )


if __name__ == "__main__":
    main()
