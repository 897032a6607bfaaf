"""No old alarms (issue 13 §4): work that enters the portal late — an imported ledger with open rows,
a calendar year loaded under open deadlines, the demo — does not announce ladder steps whose moment
had passed; they are recorded as "passed before import", the current state is told once, and a
notice never says a frozen bulletin lists an item it does not list."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import Assignment, Bulletin, DeadlineStep, HistoryEntry, Issue, Notification
from feedback.services import sweeps
from tests.factories import assigned
from tests.feedback.test_import import csv_bytes, ledger_row, run, write

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORT_DAY = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen_clock() -> Any:
    with time_machine.travel(IMPORT_DAY, tick=False) as traveller:
        yield traveller


def passed_rows(issue: Issue) -> list[str]:
    return list(
        HistoryEntry.objects.filter(issue=issue, action="deadline_passed_before_import").values_list("note", flat=True)
    )


def test_an_imported_open_row_records_its_passed_steps_and_is_told_once_that_it_is_overdue(
    tmp_path, reference, zjj_head, zjj_staff
) -> None:
    # Received in August: overdue, 催办, 督办 and 通报 have all passed by the end of November.
    run(write(tmp_path, csv_bytes([ledger_row(ref="ZW2026-00001", received_on="2026-08-03", departments="zjj")])))
    issue = Issue.objects.get(ref="ZW2026-00001")
    (a,) = issue.assignments.all()
    passed = set(
        DeadlineStep.objects.filter(assignment=a, scheduled_for__lte=timezone.now()).values_list("step", flat=True)
    )
    assert {"overdue", "chase", "supervise", "bulletin"} <= passed
    notes = passed_rows(issue)
    assert len(notes) == len(passed) and all("导入台账时已过" in n for n in notes)
    # Every passed step is settled: none left for the sweep to announce.
    assert not DeadlineStep.objects.filter(assignment=a, scheduled_for__lte=timezone.now(), announced_at=None).exists()
    a.refresh_from_db()
    assert a.overdue_at == timezone.now()
    kinds = sorted(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True))
    assert kinds == ["assigned", "overdue"]  # not overdue + chase + supervise + bulletin
    overdue = Notification.objects.get(recipient=zjj_head, kind="overdue")
    assert overdue.title.startswith("已超期：") and "通报" not in overdue.body
    # The next sweep finds nothing more to say about it.
    sweeps.sweep_deadlines()
    assert Notification.objects.filter(recipient=zjj_head).count() == 2
    assert (
        HistoryEntry.objects.filter(issue=issue, action__startswith="deadline_")
        .exclude(action="deadline_passed_before_import")
        .count()
        == 0
    )


def test_the_timeline_shows_the_passed_steps_with_their_label(client, tmp_path, reference, netoffice) -> None:
    run(write(tmp_path, csv_bytes([ledger_row(ref="ZW2026-00001", received_on="2026-08-03", departments="zjj")])))
    issue = Issue.objects.get(ref="ZW2026-00001")
    client.force_login(netoffice)
    page = client.get(reverse("issue_detail", args=[issue.pk])).content.decode()
    assert "导入前已过期限节点（未提醒）" in page and "督办（应于" in page


def test_a_row_imported_before_its_first_reminder_is_left_to_the_sweep(tmp_path, reference, zjj_head) -> None:
    run(write(tmp_path, csv_bytes([ledger_row(ref="ZW2026-00002", received_on="2026-11-27", departments="zjj")])))
    issue = Issue.objects.get(ref="ZW2026-00002")
    assert passed_rows(issue) == []
    assert list(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True)) == ["assigned"]
    assert DeadlineStep.objects.filter(assignment__issue=issue, taken_at=None).count() >= 4


def test_a_row_half_way_is_told_its_latest_reminder_once(tmp_path, reference, zjj_head) -> None:
    # Ten working days from 2026-11-20: half the time has passed on the 30th, the due date has not.
    run(write(tmp_path, csv_bytes([ledger_row(ref="ZW2026-00003", received_on="2026-11-20", departments="zjj")])))
    issue = Issue.objects.get(ref="ZW2026-00003")
    notes = passed_rows(issue)
    assert notes and all(n.startswith("时间") for n in notes)
    kinds = sorted(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True))
    assert kinds[0] == "assigned" and len(kinds) == 2 and kinds[1].startswith("remind")
    (a,) = issue.assignments.all()
    assert a.overdue_at is None


def test_loading_a_calendar_year_does_not_announce_steps_already_past(reference, netoffice, zjj_head) -> None:
    _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 8, 3), title="天桥")
    Notification.objects.all().delete()
    # The deadline moves back by a week (as a loaded year would do) to a date long past.
    DeadlineStep.objects.filter(assignment=a).delete()
    Assignment.objects.filter(pk=a.pk).update(due_date=datetime.date(2026, 8, 10), deadline_version=2)
    a.refresh_from_db()
    services.schedule_steps(a)
    settled = services.settle_passed_steps([a], now=timezone.now(), when="calendar")
    assert settled >= 4
    assert all("载入节假日安排重算期限时已过" in n for n in passed_rows(a.issue))
    assert list(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True)) == ["overdue"]


def test_recompute_deadlines_settles_the_steps_its_new_due_date_has_already_passed(
    reference, netoffice, zjj_head
) -> None:
    _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 8, 3), title="天桥")
    sweeps.sweep_deadlines()
    Notification.objects.all().delete()
    # As if the deadline had been counted on a provisional calendar: a later date, steps ahead.
    Assignment.objects.filter(pk=a.pk).update(
        due_date=datetime.date(2027, 1, 29), original_due_date=datetime.date(2027, 1, 29), provisional=True
    )
    a.refresh_from_db()
    services.schedule_steps(a)
    assert services.recompute_deadlines(actor=None, years={2026}) == 1
    a.refresh_from_db()
    assert a.due_date < timezone.localdate()
    kinds = sorted(Notification.objects.filter(recipient=zjj_head).values_list("kind", flat=True))
    assert kinds == ["deadline_recomputed", "overdue"]
    assert not DeadlineStep.objects.filter(assignment=a, scheduled_for__lte=timezone.now(), announced_at=None).exists()


def test_a_bulletin_step_is_not_said_to_be_listed_by_a_published_bulletin_that_does_not_list_it(
    reference, netoffice, zjj_head, admin_user, frozen_clock
) -> None:
    # October's bulletin was published on 1 November without this item (the sweep was down).
    frozen_clock.move_to(datetime.datetime(2026, 11, 1, 9, 0, tzinfo=SHANGHAI))
    _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 8, 3), title="天桥")
    DeadlineStep.objects.filter(assignment=a, step="bulletin").update(
        scheduled_for=datetime.datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
    )
    bulletin = services.draft_bulletin(actor=admin_user, month=datetime.date(2026, 10, 1), channel="net")
    services.publish_bulletin(actor=admin_user, bulletin=bulletin)
    assert Bulletin.objects.get(pk=bulletin.pk).figures["listed"] == []
    frozen_clock.move_to(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))
    sweeps.sweep_deadlines()
    note = Notification.objects.get(recipient=zjj_head, kind="bulletin")
    assert "已列入月度通报" not in note.body and "2026年10月月度通报已发布，未列入" in note.body
    history = HistoryEntry.objects.get(assignment=a, action="deadline_bulletin")
    assert "未列入该期通报" in history.note


def test_a_bulletin_step_of_a_month_whose_bulletin_is_not_published_says_listed(
    reference, netoffice, zjj_head, frozen_clock
) -> None:
    frozen_clock.move_to(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))
    _, (a,) = assigned(netoffice, assigned_on=datetime.date(2026, 8, 3), title="天桥")
    DeadlineStep.objects.filter(assignment=a, step="bulletin").update(
        scheduled_for=datetime.datetime(2026, 11, 1, 8, 0, tzinfo=SHANGHAI)
    )
    sweeps.sweep_deadlines()
    assert "已列入月度通报" in Notification.objects.get(recipient=zjj_head, kind="bulletin").body
