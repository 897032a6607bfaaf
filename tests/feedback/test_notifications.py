"""Notifications: the bell and the email come from one row, and each is sent once."""

from __future__ import annotations

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from feedback.models import Notification
from feedback.services import notifications
from tests.factories import assigned

pytestmark = pytest.mark.django_db


def test_assigning_notifies_every_member_of_each_department(
    netoffice, zjj_head, zjj_staff, jyj_head, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assigned(netoffice, co=("jyj",))
    assert len(callbacks) >= 1  # the email task is queued only after commit
    recipients = set(Notification.objects.values_list("recipient__username", "kind"))
    assert recipients == {("zjj_head", "assigned"), ("zjj_staff", "assigned"), ("jyj_head", "assigned")}
    assert "办理期限" in Notification.objects.filter(recipient=zjj_head).get().body


def test_emails_are_sent_once_however_often_the_task_runs(netoffice, zjj_head, zjj_staff):
    zjj_head.email = "head@zjj.example"
    zjj_head.save()
    assigned(netoffice)
    assert notifications.send_pending_emails() == 1
    assert notifications.send_pending_emails() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["head@zjj.example"] and "【直通车】新交办" in mail.outbox[0].subject
    assert not Notification.objects.filter(email_status="pending").exists()
    note = Notification.objects.get(recipient=zjj_head)
    assert (note.email_status, note.email_attempts, note.emailed_at is not None) == ("sent", 1, True)
    # zjj_staff has no address: the bell is enough, and the row is not retried forever.
    assert Notification.objects.get(recipient=zjj_staff).email_status == "no_address"


def test_a_notification_step_is_unique_per_deadline_version(netoffice, zjj_head):
    _, (a,) = assigned(netoffice)
    notifications.notify_department(a, Notification.Kind.ASSIGNED, title="x", body="y")
    assert Notification.objects.filter(recipient=zjj_head).count() == 1
    a.deadline_version += 1  # a changed deadline is a new step
    notifications.notify_department(a, Notification.Kind.ASSIGNED, title="x", body="y")
    assert Notification.objects.filter(recipient=zjj_head).count() == 2


def test_the_bell_shows_the_unread_count_and_the_list_marks_read(client, netoffice, zjj_head):
    assigned(netoffice, title="天桥")
    assigned(netoffice, title="路灯")
    client.force_login(zjj_head)
    page = client.get(reverse("inbox")).content.decode()
    assert '<span class="unread">2</span>' in page
    listing = client.get(reverse("notifications")).content.decode()
    assert "新交办：天桥" in listing and "新交办：路灯" in listing
    client.post(reverse("notifications_read"))
    assert '<span class="unread">' not in client.get(reverse("inbox")).content.decode()


def test_a_broker_that_is_down_does_not_break_the_page(
    client, netoffice, zjj_head, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from feedback import tasks
    from feedback.models import Category, Department, Issue

    attempts = []

    def broker_down(*args, **kwargs):
        attempts.append(1)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_pending_emails, "delay", broker_down)
    client.force_login(netoffice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("issue_create"),
            {
                "channel": "net",
                "received_on": "2026-11-02",
                "nature": "suggestion",
                "category": Category.objects.get(code="housing").pk,
                "requester_kind": "netizen",
                "requester_name": "网友",
                "title": "路灯不亮",
                "content": "老街路灯不亮",
                "lead": Department.objects.get(code="zjj").pk,
            },
        )
    assert response.status_code == 302
    assert attempts, "the email task was queued after commit"
    assert Issue.objects.get().status == "assigned"
    # The notification is stored and still unsent: the periodic catch-up will mail it.
    note = Notification.objects.get(recipient=zjj_head)
    assert (note.emailed_at, note.email_status) == (None, "pending")


def test_one_mail_run_is_queued_per_transaction_however_many_notices(
    netoffice, zjj_head, jyj_head, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assigned(netoffice, co=("jyj", "jtj", "jkz"))  # four departments told in one transaction
    assert [c for c in callbacks if c is notifications.queue_pending_emails] == [notifications.queue_pending_emails]


REFUSING = "tests.mail_backends.RefusingBackend"


def test_a_refused_mail_stays_pending_with_its_error_and_is_retried_after_a_back_off(
    netoffice, zjj_head, settings, time_machine
):
    zjj_head.email = "head@zjj.example"
    zjj_head.save()
    time_machine.move_to(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    assigned(netoffice, title="天桥")
    settings.EMAIL_BACKEND = REFUSING
    assert notifications.send_pending_emails() == 0
    note = Notification.objects.get(recipient=zjj_head)
    assert (note.email_status, note.emailed_at, note.email_attempts) == ("pending", None, 1)
    assert "SMTPDataError" in note.email_error and "451" in note.email_error
    assert note.email_next_attempt_at == timezone.now() + notifications.retry_delay(1)

    # Before the back-off has run out the catch-up leaves it alone; a second failure doubles the wait.
    time_machine.shift(notifications.retry_delay(1) - datetime.timedelta(seconds=1))
    assert notifications.send_pending_emails() == 0
    assert Notification.objects.get(pk=note.pk).email_attempts == 1
    time_machine.shift(datetime.timedelta(seconds=1))
    assert notifications.send_pending_emails() == 0
    note.refresh_from_db()
    assert note.email_attempts == 2
    assert note.email_next_attempt_at == timezone.now() + notifications.retry_delay(2)
    assert notifications.retry_delay(2) == 2 * notifications.retry_delay(1)

    # The server is back: the next catch-up after the wait sends it, once, and clears the error.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.shift(notifications.retry_delay(2))
    assert notifications.send_pending_emails() == 1
    note.refresh_from_db()
    assert (note.email_status, note.email_attempts, note.email_error, note.email_next_attempt_at) == (
        "sent",
        3,
        "",
        None,
    )
    assert note.emailed_at == timezone.now()
    assert [m.to for m in mail.outbox] == [["head@zjj.example"]]
    assert notifications.send_pending_emails() == 0


def test_the_back_off_doubles_and_stops_growing_at_six_hours():
    delays = [notifications.retry_delay(n) for n in range(1, 12)]
    assert delays[0] == datetime.timedelta(minutes=5)
    assert all(b == min(2 * a, datetime.timedelta(hours=6)) for a, b in itertools.pairwise(delays))
    assert delays[-1] == datetime.timedelta(hours=6)


def test_a_notice_claimed_by_another_worker_is_not_mailed_twice(netoffice, zjj_head, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    zjj_head.email = "head@zjj.example"
    zjj_head.save()
    assigned(netoffice)
    # Another worker claimed it a minute ago and is still talking to the server (its lease runs).
    Notification.objects.update(email_next_attempt_at=timezone.now() + notifications.CLAIM_LEASE)
    assert notifications.send_pending_emails() == 0
    assert mail.outbox == []
    # That worker died: once the lease is over the notice is sent (late, but never lost).
    time_machine.shift(notifications.CLAIM_LEASE + datetime.timedelta(seconds=1))
    assert notifications.send_pending_emails() == 1


def test_several_notices_for_one_person_go_out_as_one_digest(netoffice, zjj_head, jyj_head):
    zjj_head.email = "head@zjj.example"
    zjj_head.save()
    jyj_head.email = "head@jyj.example"
    jyj_head.save()
    assigned(netoffice, title="天桥")
    assigned(netoffice, title="路灯")
    assigned(netoffice, title="校车", lead="jyj")
    assert Notification.objects.filter(recipient=zjj_head).count() == 2
    assert notifications.send_pending_emails() == 2  # one email per person
    by_address = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_address) == ["head@jyj.example", "head@zjj.example"]
    zjj = by_address["head@zjj.example"]
    assert zjj.subject == "【直通车】2 条新通知：新交办：天桥 等"
    assert zjj.body.index("1. 新交办：天桥") < zjj.body.index("2. 新交办：路灯")
    assert zjj.body.count("查看详情：") == 2
    assert by_address["head@jyj.example"].subject == "【直通车】新交办：校车"
    assert not Notification.objects.filter(email_status="pending").exists()


def test_a_sweep_that_announces_many_steps_sends_each_person_one_email(netoffice, zjj_head, time_machine):
    from feedback.services import sweeps

    zjj_head.email = "head@zjj.example"
    zjj_head.save()
    time_machine.move_to(datetime.datetime(2026, 8, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    assigned(netoffice, title="天桥", assigned_on=datetime.date(2026, 8, 3))
    assigned(netoffice, title="路灯", assigned_on=datetime.date(2026, 8, 3))
    notifications.send_pending_emails()
    mail.outbox.clear()
    time_machine.move_to(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
    sweeps.sweep_deadlines()
    pending = Notification.objects.filter(recipient=zjj_head, email_status="pending").count()
    assert pending > 2  # reminders, overdue, chase … for both issues
    assert notifications.send_pending_emails() == 1
    assert len(mail.outbox) == 1 and f"{pending} 条新通知" in mail.outbox[0].subject
