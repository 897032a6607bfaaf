"""Real Celery worker and beat against Redis and PostgreSQL enforce the deadline ladder exactly once.

(a) beat sends the sweep every second; reminders, overdue marks and escalations that have come
    due are taken once each and mailed once each;
(b) the worker is killed with SIGKILL in the middle of a sweep (every due step taken, some batches
    of announcements committed, one in flight), restarted, and the next sweeps leave every due step
    recorded, announced and notified exactly once.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from feedback.deadlines import add_working_days, ladder
from feedback.models import Assignment, DeadlineStep, HistoryEntry, Notification
from feedback.services import LADDER_SPAN, step_moment
from feedback.workcalendar import load_calendar
from tests.conftest import make_user
from tests.factories import assigned
from tests.integration.test_celery_worker import mailed_titles, sent_mails, wait_for
from zhitongche.celery import app as celery_app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the worker and beat processes need a database they can share: run on PostgreSQL")
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


class Celery:
    """Worker and beat processes on a queue of their own, so a developer's worker cannot steal
    the tasks; beat sends the sweep every second (SWEEP_INTERVAL_SECONDS) and keeps its schedule
    file in the test's tmp_path."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.mail_dir = tmp_path / "mail"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_QUEUE": self.queue,
            "DEBUG": "1",
            "SWEEP_INTERVAL_SECONDS": "1",
            "DJANGO_SETTINGS_MODULE": "zhitongche.settings",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"{args[0]}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "zhitongche", *args, "-l", "warning"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(proc)
        return proc

    def worker(self) -> subprocess.Popen:
        return self.start(
            "worker", "-Q", self.queue, "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle"
        )

    def beat(self) -> subprocess.Popen:
        return self.start("beat", "-s", str(self.tmp / "celerybeat-schedule"), "--pidfile", str(self.tmp / "beat.pid"))

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.forget_queue()

    def forget_queue(self) -> None:
        """Leave nothing in Redis: the killed worker's unacknowledged message would otherwise be
        restored, an hour later, into a queue nobody reads."""
        import json

        import redis

        client = redis.Redis.from_url(self.env["REDIS_URL"])
        for tag, raw in client.hscan_iter("unacked"):
            if json.loads(raw)[2] == self.queue:
                client.zrem("unacked_index", tag)
                client.hdel("unacked", tag)
        client.delete(*client.scan_iter(match=f"*{self.queue}*"), self.queue)


@pytest.fixture
def celery(tmp_path):
    processes = Celery(tmp_path)
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = processes.queue  # what this process publishes goes there too
    yield processes
    celery_app.conf.task_default_queue = previous
    processes.stop()


def due_steps(a: Assignment, now: datetime.datetime) -> list[str]:
    """The steps of the assignment's ladder whose moment has come (computed like the service)."""
    calendar = load_calendar(a.assigned_on, a.due_date + LADDER_SPAN)
    return [s.step for s in ladder(a.assigned_on, a.due_date, calendar) if step_moment(s) <= now]


def recorded_steps(rows: list[Assignment]) -> Counter[tuple[int, str]]:
    """The steps taken."""
    return Counter(
        DeadlineStep.objects.filter(assignment__in=rows, taken_at__isnull=False).values_list("assignment_id", "step")
    )


def announced_steps(rows: list[Assignment]) -> int:
    return DeadlineStep.objects.filter(assignment__in=rows, announced_at__isnull=False).count()


def expected_steps(rows: list[Assignment]) -> Counter[tuple[int, str]]:
    now = timezone.now()
    return Counter((a.pk, step) for a in rows for step in due_steps(a, now))


def recipients_per_step(step: str) -> int:
    # Every test department has two members; supervision also goes to the leader and 网信办.
    return 4 if step == "supervise" else 2


def assert_each_due_step_once(rows: list[Assignment]) -> None:
    expected = expected_steps(rows)
    assert recorded_steps(rows) == expected
    ladder_kinds = {step for _, step in expected}
    notes = Counter(
        Notification.objects.filter(assignment__in=rows, kind__in=ladder_kinds).values_list(
            "recipient_id", "assignment_id", "kind"
        )
    )
    assert set(notes.values()) == {1}, "a notification was stored twice"
    # Reminders overtaken by a later step in the same sweep are recorded but not sent.
    sent = [
        (i, action.removeprefix("deadline_"))
        for i, action, note in HistoryEntry.objects.filter(
            assignment__in=rows, action__startswith="deadline_"
        ).values_list("assignment_id", "action", "note")
        if "未发送" not in note
    ]
    assert sum(notes.values()) == sum(recipients_per_step(step) for _, step in sent)
    history = Counter(
        HistoryEntry.objects.filter(assignment__in=rows, action__startswith="deadline_").values_list(
            "assignment_id", "action"
        )
    )
    assert history == Counter({(i, f"deadline_{step}"): 1 for i, step in expected})


def reminder_only_start(now: datetime.datetime) -> datetime.date:
    """An assignment date for which a reminder has come but the due date has not (with margin)."""
    day = timezone.localdate(now)
    for back in range(3, 30):
        start = day - datetime.timedelta(days=back)
        calendar = load_calendar(start, start + datetime.timedelta(days=120))
        steps = ladder(start, add_working_days(start, 10, calendar), calendar)
        moments = {s.step: step_moment(s) for s in steps}
        recent = now - datetime.timedelta(minutes=5)
        later = [m for m in moments.values() if m > recent]
        if moments["remind_50"] < recent and later and min(later) > now + datetime.timedelta(minutes=10):
            return start
    raise AssertionError("no assignment date with only a reminder due")


def test_worker_and_beat_take_each_due_step_once_and_mail_it_once(
    reference, netoffice, zjj_head, zjj_staff, jyj_head, leader, celery
):
    jyj_staff = make_user("jyj_staff", department="jyj", role="department")
    for user in (netoffice, zjj_head, zjj_staff, jyj_head, jyj_staff, leader):
        user.email = f"{user.username}@county.example"
        user.save()
    # Long overdue: every step up to the bulletin has passed. And one whose 50% reminder has come.
    _, (old_zjj,) = assigned(netoffice, assigned_on=datetime.date(2026, 8, 3), title="天桥（八月交办）")
    _, (old_jyj,) = assigned(netoffice, lead="jyj", assigned_on=datetime.date(2026, 9, 1), title="校车（九月交办）")
    _, (fresh,) = assigned(netoffice, assigned_on=reminder_only_start(timezone.now()), title="路灯（刚过半）")
    rows = [old_zjj, old_jyj, fresh]
    assert due_steps(old_zjj, timezone.now()) == ["remind_50", "remind_1d", "overdue", "chase", "supervise", "bulletin"]
    assert due_steps(fresh, timezone.now())[-1].startswith("remind")

    celery.worker()
    celery.beat()

    def everything_mailed() -> bool:
        return (
            recorded_steps(rows) == expected_steps(rows)
            and not Notification.objects.filter(email_status="pending").exists()
        )

    assert wait_for(everything_mailed, timeout=40), celery.logs()
    time.sleep(3)  # three more sweeps (and a second send-pending run) must change nothing
    celery_app.send_task("feedback.tasks.send_pending_emails")
    time.sleep(1)
    assert_each_due_step_once(rows)

    messages = sent_mails(celery.mail_dir)
    mails = Counter((m["To"], title) for m in messages for title in mailed_titles(m))
    stored = Counter((n.recipient.email, n.title) for n in Notification.objects.select_related("recipient"))
    assert mails == stored, "every notification is mailed exactly once"
    assert set(mails.values()) == {1}
    assert ("leader@county.example", "督办：县住房和城乡建设局·天桥（八月交办）") in mails
    # Digests: a person gets one email per catch-up run, not one per notice (issue 13 §5).
    assert len(messages) < sum(stored.values())


def test_a_worker_killed_mid_sweep_leaves_nothing_missing_or_doubled_after_restart(
    reference, netoffice, zjj_head, zjj_staff, leader, celery
):
    # 40 long-overdue assignments: 6 due steps each, 240 in all, announced in batches of 15 in the
    # order of their rows. The last assignment's steps are the last rows: that is where the sweep
    # will be stuck.
    rows = [assigned(netoffice, assigned_on=datetime.date(2026, 8, 3), title=f"诉求{i}")[1][0] for i in range(39)]
    last = assigned(netoffice, assigned_on=datetime.date(2026, 8, 10), title="最后一件")[1][0]
    rows.append(last)
    steps = DeadlineStep.objects.filter(assignment__in=rows[:-1])
    assert DeadlineStep.objects.filter(assignment=last).order_by("pk").first().pk > max(
        steps.values_list("pk", flat=True)
    )

    # To kill the worker at a known point rather than at a lucky moment, another transaction
    # holds, uncommitted, the unique key of a notification of the last row's overdue step: the
    # sweep takes every step, commits its first batches of announcements, then its notification
    # insert for the last batch waits on that key — mid-sweep.
    blocker = psycopg.connect(database_url())
    blocker.execute(
        "INSERT INTO feedback_notification (recipient_id, issue_id, assignment_id, kind, "
        "deadline_version, title, body, created_at) VALUES (%s, %s, %s, 'overdue', 1, '', '', now())",
        [zjj_head.pk, last.issue_id, last.pk],
    )
    try:
        worker = celery.worker()
        celery_app.send_task("feedback.tasks.sweep_deadlines", kwargs={"batch": 15})
        stuck = lambda: blocked_sweeps(blocker) == 1 and announced_steps(rows) == 225  # noqa: E731
        assert wait_for(stuck, timeout=30), celery.logs()
        # Every step was taken; fifteen batches of announcements committed; the last is in flight.
        assert recorded_steps(rows) == expected_steps(rows)

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    assert announced_steps(rows) == 225  # the batch in flight was rolled back
    assert not HistoryEntry.objects.filter(assignment=last, action__startswith="deadline_").exists()

    # The message of the killed task stays unacknowledged in Redis (redelivered only after the
    # visibility timeout); it is beat's next sweep that catches up, as in production.
    celery.worker()
    celery.beat()
    assert wait_for(lambda: announced_steps(rows) == 240, timeout=40), celery.logs()
    time.sleep(3)  # further sweeps add nothing
    assert_each_due_step_once(rows)
    assert all(steps == 6 for steps in Counter(i for i, _ in recorded_steps(rows)).values())


def blocked_sweeps(blocker: psycopg.Connection) -> int:
    """Backends of other sessions waiting for the blocker's uncommitted notification row (the sweep's
    insert of notifications: a set-based statement too long for pg_stat_activity to show its INSERT)."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND %s = ANY(pg_blocking_pids(pid))",
            [blocker.info.backend_pid],
        ).fetchone()[0]
