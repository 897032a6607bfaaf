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
    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_QUEUE": queue,
        "DEBUG": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
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
    assert wait_for(lambda: not Notification.objects.filter(emailed_at__isnull=True).exists()), (
        "the worker did not mail the notifications"
    )
    # A second publish (as the periodic catch-up would do) must not send anything again.
    celery_app.send_task("feedback.tasks.send_pending_emails")
    time.sleep(2)
    mails = sent_mails(worker)
    assert sorted(m["To"] for m in mails) == ["head@zjj.example", "staff@zjj.example"]
    assert {subject_of(m) for m in mails} == {"【直通车】新交办：学校门口修建人行天桥"}


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
