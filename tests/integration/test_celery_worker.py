"""A real Celery worker against Redis mails the notifications the portal stored, once each."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from feedback.models import Notification
from tests.factories import assigned
from zhitongche.celery import app as celery_app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"] == "django.db.backends.postgresql":
        return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    pytest.skip("the worker process needs a database it can share: run on PostgreSQL")


@pytest.fixture
def worker(tmp_path):
    """A worker process on its own queue, so a developer's running worker cannot steal the tasks."""
    yield from run_worker(tmp_path, "django.core.mail.backends.filebased.EmailBackend")


@pytest.fixture
def refusing_worker(tmp_path):
    """The same, behind an SMTP server that refuses every message."""
    yield from run_worker(tmp_path, "tests.mail_backends.RefusingBackend")


def run_worker(tmp_path, backend):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_QUEUE": queue,
        "DEBUG": "1",
        "EMAIL_BACKEND": backend,
        "EMAIL_FILE_PATH": str(mail_dir),
        "DJANGO_SETTINGS_MODULE": "zhitongche.settings",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zhitongche",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield mail_dir
    celery_app.conf.task_default_queue = previous
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_mails_each_new_assignment_once(reference, netoffice, zjj_head, zjj_staff, worker):
    for user, address in ((zjj_head, "head@zjj.example"), (zjj_staff, "staff@zjj.example")):
        user.email = address
        user.save()
    assigned(netoffice, title="学校门口修建人行天桥")  # commits; the task is published after commit
    assert wait_for(lambda: not Notification.objects.filter(email_status="pending").exists()), (
        "the worker did not mail the notifications"
    )
    # A second publish (as the periodic catch-up would do) must not send anything again.
    celery_app.send_task("feedback.tasks.send_pending_emails")
    time.sleep(2)
    mails = sent_mails(worker)
    assert sorted(m["To"] for m in mails) == ["head@zjj.example", "staff@zjj.example"]
    assert {subject_of(m) for m in mails} == {"【直通车】新交办：学校门口修建人行天桥"}


def test_a_mail_the_server_refuses_stays_pending_for_the_catch_up(reference, netoffice, zjj_head, refusing_worker):
    zjj_head.email = "head@zjj.example"
    zjj_head.save()
    assigned(netoffice, title="学校门口修建人行天桥")  # the worker tries after commit, and fails
    assert wait_for(lambda: Notification.objects.filter(recipient=zjj_head, email_attempts=1).exists()), (
        "the worker did not try to mail the notification"
    )
    note = Notification.objects.get(recipient=zjj_head)
    assert (note.email_status, note.emailed_at) == ("pending", None)
    assert "SMTPDataError" in note.email_error and note.email_next_attempt_at is not None
    # The catch-up run before the back-off is over leaves it waiting (no second attempt yet).
    celery_app.send_task("feedback.tasks.send_pending_emails")
    time.sleep(2)
    assert Notification.objects.get(pk=note.pk).email_attempts == 1


def mailed_titles(message) -> list[str]:
    """The notices one mail carries: a single notice is its subject, a digest lists them numbered."""
    import re

    subject = subject_of(message).removeprefix("【直通车】")
    if not re.match(r"\d+ 条新通知：", subject):
        return [subject]
    if (message["Content-Transfer-Encoding"] or "").lower() in ("7bit", "8bit"):
        body = message.get_payload()  # read back as text already
    else:
        body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
    return re.findall(r"^\d+\. (.+)$", body, flags=re.MULTILINE)


def sent_mails(mail_dir: Path) -> list:
    """Django's file-based backend writes each message followed by a line of 79 dashes."""
    from email import message_from_string

    chunks = []
    for path in sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []:
        chunks += [c for c in path.read_text().split("-" * 79) if c.strip()]
    return [message_from_string(c.strip()) for c in chunks]


def subject_of(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def test_the_status_page_sees_the_running_worker(reference, worker):
    from feedback.views import status

    assert wait_for(lambda: status.check_worker(broker_ok=True).ok), "the worker never answered the ping"
    check = status.check_worker(broker_ok=True)
    assert check.ok and "celery@" in check.detail
