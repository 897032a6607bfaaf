"""50 logged-in users at once against gunicorn + PostgreSQL + Redis at a million issues.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/load.py [--reuse] [--users 50] [--seconds 60]

PostgreSQL only. The database is bench/dashboard.py's (``dash_bench``: bench/stats.py's generator,
1,000,000 issues, and the demo accounts); ``--reuse`` keeps it. The portal runs under gunicorn as in
production (DEBUG off, ``--workers`` sync workers, default 2 × cores + 1), sessions and caches in Redis
when REDIS_URL is set.

Each simulated user is one logged-in account with its own session and keeps one request in flight
(a closed loop, no think time: the figure is the most the server gives, not a guess of clerks' pace;
``--think S`` gives each user an exponential pause of mean S seconds between requests). In a closed loop
users = throughput × mean response time (Little's law): 50 users without pause and a p95 of 300 ms need
~170 req/s or more, so the two targets are read together through the CPU each request costs, which the
script prints with the most req/s the cores can give at that cost.
The mix, by role (``--users`` split as below, accounts taken in turn from the demo accounts):

| users | accounts | requests, with weights |
|---|---|---|
| 20 % | channel offices (netoffice, …) | ledger ``/issues/`` 3, an issue page 3, dashboard 1, summary API 1 |
| 50 % | department heads and staff | inbox ``/inbox/`` 4, one of their issues 4, assignments API 1 |
| 30 % | county leaders (``leader``) | dashboard 3, summary API 2, department table API 1, an issue page 1 |

Issue pages are drawn from the issues each account may open (its channel's, or its department's
assignments'). Every response must be 200; anything else, or a timeout, is an error. It prints, over the
timed window (after ``--warmup`` seconds): requests per second, p50/p95/p99, errors, per kind of page,
the load average, and the CPU per request: gunicorn's processes and PostgreSQL's, from /proc, divided by
the requests served (PostgreSQL's backends read ten times a second, so those that end during the run
count too: dashboard_setup.PostgresCpu), and the load generator's own. The yardstick, measured in the
same run against the same server: the same users asking for a static file (``/static/css/…``, served by
WhiteNoise inside Django) — the ceiling of any page on this machine with this server and this client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dashboard_setup import (
    PostgresCpu,
    Server,
    add_database_args,
    cpu_seconds,
    load_average,
    prepare,
    session_cookie,
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_args(p)
    p.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    p.add_argument("--seconds", type=float, default=60, help="timed window (default 60 s)")
    p.add_argument("--warmup", type=float, default=10, help="untimed start (default 10 s)")
    p.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    p.add_argument("--timeout", type=float, default=30, help="a request slower than this is an error")
    p.add_argument("--skip-floor", action="store_true", help="do not run the static-file yardstick")
    p.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="each user's mean pause between requests, seconds (exponential; default 0: a closed loop)",
    )
    return p.parse_args()


@dataclass
class User:
    username: str
    role: str
    cookie: str = ""
    issues: list[int] = field(default_factory=list)

    def next_request(self, rnd: random.Random) -> tuple[str, str]:
        issue = f"/issues/{rnd.choice(self.issues)}/" if self.issues else "/issues/"
        mixes = {
            "office": [
                ("ledger", "/issues/", 3),
                ("issue", issue, 3),
                ("dashboard", "/dashboard/", 1),
                ("api_summary", "/api/v1/stats/summary/", 1),
            ],
            "department": [
                ("inbox", "/inbox/", 4),
                ("issue", issue, 4),
                ("api_assignments", "/api/v1/assignments/", 1),
            ],
            "leader": [
                ("dashboard", "/dashboard/", 3),
                ("api_summary", "/api/v1/stats/summary/", 2),
                ("api_departments", "/api/v1/stats/departments/", 1),
                ("issue", issue, 1),
            ],
        }[self.role]
        kind, path, _ = rnd.choices(mixes, weights=[w for *_, w in mixes])[0]
        return kind, path


def users_for(n: int) -> list[User]:
    """``n`` users in the proportions above, each with the issues it may open."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from feedback import access
    from feedback.models import Issue

    User_ = get_user_model()
    offices = ["netoffice", "ezoneoffice", "petitionoffice"]
    departments = list(
        User_.objects.filter(Q(username__endswith="_head") | Q(username__endswith="_staff"))
        .order_by("username")
        .values_list("username", flat=True)
    )
    n_office, n_leader = round(n * 0.2), round(n * 0.3)
    chosen = (
        [User(offices[i % len(offices)], "office") for i in range(n_office)]
        + [User("leader", "leader") for _ in range(n_leader)]
        + [User(departments[i * 7 % len(departments)], "department") for i in range(n - n_office - n_leader)]
    )
    rnd = random.Random(16)
    last = Issue.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    samples: dict[str, list[int]] = {}
    for u in chosen:
        if u.username not in samples:
            account = User_.objects.get(username=u.username)
            if u.role == "department":
                # Issues of its own assignments, anywhere in the five years.
                mine = access.assignments_for(account).order_by("?").values_list("issue_id", flat=True)
            else:
                # Ids drawn over the whole range, kept when the account may open them.
                drawn = rnd.sample(range(1, last + 1), min(last, 200))
                mine = access.issues_for(account).filter(pk__in=drawn).values_list("pk", flat=True)
            samples[u.username] = sorted(mine[:20])
        u.issues = samples[u.username]
        u.cookie = session_cookie(u.username)
    return chosen


async def get(host: str, port: int, path: str, cookie: str, timeout: float) -> tuple[int, int]:
    """One GET on a fresh connection (gunicorn's sync workers close it after each response)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}\r\n"
            "Accept-Language: zh-hans\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        data = await asyncio.wait_for(reader.read(-1), timeout)
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, len(data)


async def run_users(
    users: list[User],
    base: str,
    seconds: float,
    warmup: float,
    timeout: float,
    static: str | None,
    think: float = 0.0,
) -> tuple[list[tuple[str, float, int]], float]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    samples: list[tuple[str, float, int]] = []
    start = time.monotonic()
    timed_from, stop = start + warmup, start + warmup + seconds

    async def one(i: int, user: User) -> None:
        rnd = random.Random(i)
        while True:
            now = time.monotonic()
            if now >= stop:
                return
            kind, path = ("static", static) if static else user.next_request(rnd)
            t0 = time.perf_counter()
            try:
                status, _ = await get(host, port, path, user.cookie, timeout)
            except (TimeoutError, OSError, IndexError, ValueError):
                status = 0
            elapsed = (time.perf_counter() - t0) * 1000
            if time.monotonic() <= stop and now >= timed_from:
                samples.append((kind, elapsed, status))
            if think > 0:
                await asyncio.sleep(rnd.expovariate(1 / think))

    await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    return samples, seconds


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else float("nan")


@dataclass
class Measured:
    samples: list[tuple[str, float, int]]  # (kind, ms, status) of the timed window
    seconds: float  # the timed window
    wall: float  # the whole run, warm-up included: the window the CPU was read over
    cpu: float  # gunicorn's processes, seconds
    pg: float  # PostgreSQL's processes, seconds (dashboard_setup.PostgresCpu)
    load: tuple[str, str]
    client: float = 0.0  # this process (the users' client), seconds

    @property
    def rps(self) -> float:
        return len(self.samples) / self.seconds

    def p(self, q: float) -> float:
        return pct([s[1] for s in self.samples], q)

    def cpu_ms_per_request(self) -> tuple[float, float]:
        # The requests of the whole CPU window (warm-up included), at the timed rate.
        served = self.rps * self.wall
        return (self.cpu / served * 1000, self.pg / served * 1000) if served else (float("nan"), float("nan"))

    def client_ms_per_request(self) -> float:
        served = self.rps * self.wall
        return self.client / served * 1000 if served else float("nan")


def measure(server: Server, users: list[User], args: argparse.Namespace, static: str | None = None) -> Measured:
    pids = server.pids()
    cpu0, load0, own0 = cpu_seconds(pids), load_average(), time.process_time()
    t0 = time.monotonic()
    with PostgresCpu() as pg:
        samples, seconds = asyncio.run(
            run_users(
                users, server.base, args.seconds, args.warmup, args.timeout, static, 0.0 if static else args.think
            )
        )
    wall = time.monotonic() - t0
    own = time.process_time() - own0  # this process: the users' client and the PostgreSQL sampler
    return Measured(samples, seconds, wall, cpu_seconds(pids) - cpu0, pg.seconds, (load0, load_average()), own)


def report(title: str, m: Measured, target_p95: float = 300, target_rps: float = 100) -> None:
    errors = sum(1 for s in m.samples if s[2] != 200)
    print(f"\n{title}")
    print(f"load average before / after: {m.load[0]} → {m.load[1]}  (2 cores, shared)")
    print("| kind | requests | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    for kind in sorted({s[0] for s in m.samples}):
        mine = [s for s in m.samples if s[0] == kind]
        t = [s[1] for s in mine]
        bad = sum(1 for s in mine if s[2] != 200)
        print(f"| {kind} | {len(mine):,} | {pct(t, 50):.0f} | {pct(t, 95):.0f} | {pct(t, 99):.0f} | {bad} |")
    print(f"| **all** | {len(m.samples):,} | **{m.p(50):.0f}** | **{m.p(95):.0f}** | {m.p(99):.0f} | **{errors}** |")
    rps_ok = "met" if m.rps >= target_rps else "NOT met"
    p95_ok = "met" if m.p(95) <= target_p95 else "NOT met"
    print(
        f"throughput {m.rps:.1f} req/s (target ≥ {target_rps:.0f}: {rps_ok}); "
        f"p95 {m.p(95):.0f} ms (target ≤ {target_p95:.0f}: {p95_ok}); errors {errors}"
    )
    web, db = m.cpu_ms_per_request()
    cores = os.cpu_count() or 1
    print(
        f"CPU per request: gunicorn {web:.1f} ms + PostgreSQL {db:.1f} ms = {web + db:.1f} ms "
        f"({cores} cores give {cores * 1000:,} ms of CPU per second: at this cost they serve at most "
        f"{cores * 1000 / (web + db):.0f} req/s; {target_rps:.0f} req/s needs ≤ {cores * 1000 / target_rps:.0f} ms)"
    )
    print(f"the load generator itself (this process) used {m.client_ms_per_request():.1f} ms of CPU per request")
    bad_kinds = sorted({(s[0], s[2]) for s in m.samples if s[2] != 200})
    if bad_kinds:
        print("errors by kind and status:", bad_kinds)


def main() -> None:
    args = parse_args()
    url = prepare(args, "bench/load.py")
    users = users_for(args.users)
    print(
        f"{len(users)} users: "
        + ", ".join(f"{sum(1 for u in users if u.role == r)} {r}" for r in ("office", "department", "leader"))
    )
    server = Server(url, args.port, workers=args.workers)
    server.start()
    try:
        mixed = measure(server, users, args)
        pause = f", a mean pause of {args.think:g} s between a user's requests" if args.think else ", no pause"
        report(f"{len(users)} users, the mix ({args.seconds:.0f} s timed after {args.warmup:.0f} s{pause})", mixed)
        if not args.think:
            # Little's law for a closed loop: users = throughput × mean response time.
            print(
                f"(a closed loop of {len(users)} users without pause: a mean response of 300 ms means "
                f"{len(users) / 0.3:.0f} req/s; --think gives each user a pause, as people take)"
            )
        if not args.skip_floor:
            floor = measure(server, users, args, static="/static/css/portal.css")
            report(f"yardstick: the same {len(users)} users fetching one static file (WhiteNoise)", floor)
            if mixed.samples and floor.samples:
                print(
                    f"\nratio mix / static file: throughput {floor.rps / mixed.rps:.1f}× lower, "
                    f"p95 {mixed.p(95) / floor.p(95):.1f}× higher"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
