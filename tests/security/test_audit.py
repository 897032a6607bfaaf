"""The append-only, hash-chained audit (issue 15, part 4), on PostgreSQL where the triggers live."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from feedback.models import AuditEvent
from feedback.security.events import GENESIS, record_event, verify_chain
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def three_events() -> list[AuditEvent]:
    return [record_event("login_failed", detail={"username": f"user{i}", "n": i}) for i in range(3)]


def test_each_row_carries_the_hash_of_the_previous_one():
    first, second, third = three_events()
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.row_hash and third.prev_hash == second.row_hash
    assert verify_chain() == (3, None)
    call_command("verify_audit")


def test_the_model_refuses_changes():
    event = three_events()[0]
    event.action = "login"
    with pytest.raises(ValueError, match="只能追加"):
        event.save()
    with pytest.raises(ValueError, match="只能追加"):
        event.delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE feedback_auditevent SET actor = 'mallory'",
        "DELETE FROM feedback_auditevent",
    ],
)
def test_the_database_refuses_update_and_delete_from_raw_sql(sql):
    three_events()
    with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 3


@pytest.mark.postgres
def test_the_database_refuses_truncate_by_the_tables_owner():
    three_events()
    role = "zt_audit_owner_test"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {role}")
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT ALL ON feedback_auditevent TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
        with pytest.raises(DatabaseError, match="只能追加"), transaction.atomic():
            cursor.execute("TRUNCATE feedback_auditevent")
        cursor.execute("RESET ROLE")
        cursor.execute(f"REVOKE ALL ON feedback_auditevent FROM {role}")
        cursor.execute(f"DROP ROLE {role}")
    assert AuditEvent.objects.count() == 3


@pytest.mark.postgres
def test_an_edit_by_the_owner_with_triggers_disabled_is_found_by_verify_audit():
    _, middle, _ = three_events()
    # What only the tables' owner (or a superuser) can do: switch the guard off, edit, switch it on.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE feedback_auditevent DISABLE TRIGGER USER")
        cursor.execute(
            'UPDATE feedback_auditevent SET detail = \'{"username": "nobody", "n": 1}\' WHERE id = %s', [middle.pk]
        )
        cursor.execute("ALTER TABLE feedback_auditevent ENABLE TRIGGER USER")

    checked, broken = verify_chain()
    assert checked == 1 and broken is not None and broken.id == middle.pk
    with pytest.raises(CommandError, match=f"第 {middle.pk} 号记录"):
        call_command("verify_audit")


@pytest.mark.postgres
def test_a_deleted_row_is_found_by_verify_audit():
    _first, middle, last = three_events()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE feedback_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM feedback_auditevent WHERE id = %s", [middle.pk])
        cursor.execute("ALTER TABLE feedback_auditevent ENABLE TRIGGER USER")
    _, broken = verify_chain()
    assert broken is not None and broken.id == last.pk and "上一条" in broken.reason


def test_logins_failures_and_permission_changes_are_recorded(client, reference):
    user = make_user("zjj_head", department="zjj")
    client.post(reverse("login"), {"username": "zjj_head", "password": "wrong-password"})
    client.post(reverse("login"), {"username": "zjj_head", "password": "pw-for-tests-123"})
    user.is_staff = True
    user.save()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions[-3:] == ["login_failed", "login", "permission_change"]
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.detail == {"username": "zjj_head"} and failed.ip == "127.0.0.1"
    assert "wrong-password" not in str(AuditEvent.objects.values_list("detail", flat=True))
    assert verify_chain()[1] is None


def test_reply_downloads_and_personal_data_exports_are_recorded(client, netoffice, zjj_head):
    from django.utils import timezone

    from feedback import services
    from tests.conftest import reply_pdf
    from tests.factories import assigned

    _, (lead,) = assigned(netoffice, lead="zjj")
    reply = services.submit_reply(
        actor=zjj_head,
        assignment=lead,
        file=reply_pdf(),
        signer_name="王建国",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="已答复。",
    )
    client.force_login(netoffice)
    assert client.get(reverse("reply_download", args=[reply.pk])).status_code == 200
    assert client.get(f"/api/v1/replies/{reply.pk}/download/").status_code == 200
    assert client.get(reverse("issue_export_ledger")).status_code == 200
    assert client.get(reverse("reply_download", args=[999999])).status_code == 404  # nothing given: not recorded

    events = list(
        AuditEvent.objects.filter(action__in=["reply_download", "export_personal_data"]).values_list(
            "action", "actor", "object_id"
        )
    )
    assert events == [
        ("reply_download", "netoffice", str(reply.pk)),
        ("reply_download", "netoffice", str(reply.pk)),
        ("export_personal_data", "netoffice", ""),
    ]
    assert verify_chain()[1] is None


def test_the_chain_can_use_sm3_and_still_verifies(settings):
    three_events()
    settings.AUDIT_HASH_ALGORITHM = "sm3"
    sm3_row = record_event("login", detail={"n": 4})
    assert sm3_row.algorithm == "sm3" and len(sm3_row.row_hash) == 64
    assert verify_chain() == (4, None)
