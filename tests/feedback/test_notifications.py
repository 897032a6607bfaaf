"""Notifications: the bell and the email come from one row, and each is sent once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

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
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


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
    assert Notification.objects.get(recipient=zjj_head).emailed_at is None


def test_one_mail_run_is_queued_per_transaction_however_many_notices(
    netoffice, zjj_head, jyj_head, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assigned(netoffice, co=("jyj", "jtj", "jkz"))  # four departments told in one transaction
    assert [c for c in callbacks if c is notifications.queue_pending_emails] == [notifications.queue_pending_emails]
