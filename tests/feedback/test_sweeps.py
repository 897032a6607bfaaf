"""The deadline sweep takes every step of the ladder once, at its moment, and catches up after an outage.

The worked example (2026 calendar, no holidays in the span): a 政网 issue assigned on Monday
2026-11-02 with the default 10 working days is due Monday 11-16. Its ladder
(tests/feedback/test_deadlines.py) is: remind_50 Tue 11-10 09:00 (5 of 10 working days
passed), remind_1d Fri 11-13 09:00 (the 80% reminder falls on the same Friday and is
dropped), overdue Tue 11-17 00:00, chase Tue 11-17 09:00 (the next working day), supervise
Tue 11-24 09:00 (five working days later), bulletin Tue 12-01 00:00 (the month after).
"""

from __future__ import annotations

import datetime
import re
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services
from feedback.models import Assignment, DeadlineStep, HistoryEntry, Notification
from feedback.services import due_steps_sql
from feedback.services.sweeps import SWEEP_LOCK_ID, announce_steps, sweep_deadlines, take_due_steps
from tests.concurrency import run_together
from tests.conftest import reply_pdf
from tests.factories import assigned

SH = ZoneInfo("Asia/Shanghai")
LADDER_KINDS = ["remind_50", "remind_80", "remind_1d", "overdue", "chase", "supervise", "bulletin"]


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SH)


ASSIGNED = datetime.date(2026, 11, 2)
DUE = datetime.date(2026, 11, 16)
REMIND_50, REMIND_1D = at(11, 10, 9), at(11, 13, 9)
OVERDUE, CHASE, SUPERVISE, BULLETIN = at(11, 17), at(11, 17, 9), at(11, 24, 9), at(12, 1)


@pytest.fixture
def clock(time_machine):
    """A frozen clock; ``clock(moment)`` moves it."""
    time_machine.move_to(at(11, 2, 10), tick=False)
    return lambda moment: time_machine.move_to(moment, tick=False)


@pytest.fixture
def people(netoffice, zjj_head, zjj_staff, leader):
    return {"office": netoffice, "head": zjj_head, "staff": zjj_staff, "leader": leader}


def new_assignment(people, title: str = "学校门口修建人行天桥") -> Assignment:
    _, (a,) = assigned(people["office"], assigned_on=ASSIGNED, title=title)
    assert a.due_date == DUE
    return a


def ladder_notes(a: Assignment) -> Counter[tuple[str, str]]:
    rows = Notification.objects.filter(assignment=a, kind__in=LADDER_KINDS)
    return Counter(rows.values_list("kind", "recipient__username"))


def ladder_history(a: Assignment) -> Counter[str]:
    return Counter(
        HistoryEntry.objects.filter(assignment=a, action__startswith="deadline_").values_list("action", flat=True)
    )


def steps_of(a: Assignment) -> Counter[str]:
    """The steps taken."""
    return Counter(DeadlineStep.objects.filter(assignment=a, taken_at__isnull=False).values_list("step", flat=True))


def next_step(a: Assignment) -> tuple[str, datetime.datetime | None]:
    """The first pending step and its moment: what the sweep will take next."""
    first = DeadlineStep.objects.filter(assignment=a, taken_at__isnull=True).order_by("scheduled_for").first()
    return (first.step, first.scheduled_for) if first else ("", None)


@pytest.mark.django_db
def test_a_ten_working_day_assignment_takes_each_step_once_at_its_moment(clock, people):
    a = new_assignment(people)
    assert next_step(a) == ("remind_50", REMIND_50)
    schedule = [
        (at(11, 10, 8, 59), []),
        (REMIND_50, ["remind_50"]),
        (at(11, 12, 9), []),  # 80% would be Friday, the same day as remind_1d: dropped
        (REMIND_1D, ["remind_1d"]),
        (at(11, 16, 23, 59), []),  # the due day is not over yet
        (OVERDUE, ["overdue"]),
        (CHASE, ["chase"]),
        (at(11, 23, 9), []),
        (SUPERVISE, ["supervise"]),
        (BULLETIN, ["bulletin"]),
        (at(12, 31, 12), []),
    ]
    for moment, expected in schedule:
        clock(moment)
        result = sweep_deadlines()
        assert result.steps == Counter(expected), moment
        assert result.examined == (1 if expected else 0), moment

    taken = ["remind_50", "remind_1d", "overdue", "chase", "supervise", "bulletin"]
    assert steps_of(a) == Counter(taken)
    assert dict(DeadlineStep.objects.filter(assignment=a).values_list("step", "scheduled_for")) == {
        "remind_50": REMIND_50,
        "remind_1d": REMIND_1D,
        "overdue": OVERDUE,
        "chase": CHASE,
        "supervise": SUPERVISE,
        "bulletin": BULLETIN,
    }
    department = Counter({(step, who): 1 for step in taken for who in ("zjj_head", "zjj_staff")})
    # Supervision (督办) also goes to the county leaders and to the office that runs the channel.
    assert ladder_notes(a) == department + Counter({("supervise", "leader"): 1, ("supervise", "netoffice"): 1})
    assert ladder_history(a) == Counter(f"deadline_{s}" for s in taken)
    a.refresh_from_db()
    assert (next_step(a), a.overdue_at) == (("", None), OVERDUE)


@pytest.mark.django_db
def test_sweeping_twice_at_the_same_moment_takes_nothing_new(clock, people):
    a = new_assignment(people)
    clock(CHASE)
    assert sweep_deadlines().steps == Counter(["remind_50", "remind_1d", "overdue", "chase"])
    before = (steps_of(a), ladder_notes(a), ladder_history(a))

    again = sweep_deadlines()
    assert (again.examined, again.steps) == (0, Counter())
    # Even the steps handed to the claims again (as an overlapping sweep might) are not taken
    # or announced twice.
    taken = list(DeadlineStep.objects.filter(assignment=a, taken_at__isnull=False).values_list("pk", flat=True))
    assert len(taken) == 4
    with transaction.atomic():
        assert services.claim_steps(taken, "taken_at", timezone.now()) == []
        assert services.claim_steps(taken, "announced_at", timezone.now()) == []
    assert (steps_of(a), ladder_notes(a), ladder_history(a)) == before


@pytest.mark.django_db
def test_one_sweep_after_a_long_outage_takes_every_passed_step_once(clock, people):
    a = new_assignment(people)
    clock(at(11, 25, 15))  # nothing ran for three weeks: past the supervision date
    result = sweep_deadlines()
    caught_up = ["remind_50", "remind_1d", "overdue", "chase", "supervise"]
    assert (result.examined, result.steps) == (1, Counter(caught_up))
    assert steps_of(a) == Counter(caught_up)
    assert ladder_history(a) == Counter(f"deadline_{s}" for s in caught_up)
    # Reminders overtaken by later steps of the same sweep are recorded but not sent: the two
    # department members hear of overdue, chase and supervise; leader and office of supervise.
    assert ladder_notes(a) == Counter(
        {(step, user): 1 for step in ("overdue", "chase", "supervise") for user in ("zjj_head", "zjj_staff")}
        | {("supervise", "leader"): 1, ("supervise", "netoffice"): 1}
    )
    assert "未发送" in a.history.get(action="deadline_remind_50").note
    a.refresh_from_db()
    assert next_step(a) == ("bulletin", BULLETIN)
    assert a.overdue_at == at(11, 25, 15)  # marked when the sweep saw it, not backdated


@pytest.mark.django_db
def test_an_accepted_assignment_is_never_reminded_again(clock, people):
    a = new_assignment(people)
    clock(at(11, 5, 10))
    reply = services.submit_reply(
        actor=people["head"],
        assignment=a,
        file=reply_pdf(),
        signer_name="王局长",
        signer_title="局长",
        signed_on=timezone.localdate(),
        result="explained",
        summary="经测算，暂不具备建设条件。",
    )
    services.accept_reply(actor=people["office"], reply=reply)
    a.refresh_from_db()
    assert (a.status, next_step(a)) == ("accepted", ("", None))
    for moment in (REMIND_50, CHASE, at(12, 31, 12)):
        clock(moment)
        assert sweep_deadlines().examined == 0
    assert not DeadlineStep.objects.filter(assignment=a).exists()
    assert not Notification.objects.filter(assignment=a, kind__in=LADDER_KINDS).exists()


@pytest.mark.django_db
def test_small_batches_still_reach_every_due_row(clock, people):
    rows = [new_assignment(people, title=f"诉求{i}") for i in range(7)]
    clock(REMIND_50)
    result = sweep_deadlines(batch=3)
    assert (result.examined, result.steps) == (7, Counter({"remind_50": 7}))
    assert all(steps_of(a) == Counter(["remind_50"]) for a in rows)


@pytest.mark.django_db
def test_the_sweep_task_returns_its_counts(clock, people):
    from feedback.tasks import sweep_deadlines as task

    new_assignment(people)
    clock(REMIND_50)
    assert task(batch=10) == {"examined": 1, "steps": {"remind_50": 1}, "announced": 1, "locked_out": False}


# --- cost ---------------------------------------------------------------------------------------


def queries_for_sweep() -> int:
    with CaptureQueriesContext(connection) as ctx:
        sweep_deadlines()
    return len(ctx.captured_queries)


# A sweep costs the same queries however many rows it takes (one batch each pass): take — the
# savepoint pair, advisory lock, select, claim, overdue mark; announce — the savepoint pair, select,
# claim, steps with their assignments, department members, (for supervision: leaders, office
# staff), the reminders' ladders, history insert, notification insert. k = 0 queries per row.
PER_BATCH = 17


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_number_of_due_rows(clock, people, django_assert_max_num_queries):
    for i in range(5):
        new_assignment(people, title=f"五件之{i}")
    clock(REMIND_50)
    with django_assert_max_num_queries(PER_BATCH):
        five = queries_for_sweep()
    clock(at(11, 2, 10))
    for i in range(25):
        new_assignment(people, title=f"二十五件之{i}")
    clock(REMIND_50)
    with django_assert_max_num_queries(PER_BATCH):
        twenty_five = queries_for_sweep()
    assert twenty_five == five, f"{five} queries for 5 due rows, {twenty_five} for 25"
    assert DeadlineStep.objects.filter(step="remind_50").count() == 30
    clock(SUPERVISE)  # the step with the most recipients: all 30 rows, four steps each, 300 notifications
    # On SQLite Django splits a bulk insert every 999 parameters (99 notifications of 10 columns).
    splits = 0 if connection.vendor == "postgresql" else 300 // 99
    with django_assert_max_num_queries(PER_BATCH + splits):
        assert sweep_deadlines().steps == Counter({"remind_1d": 30, "overdue": 30, "chase": 30, "supervise": 30})


# --- PostgreSQL: the index and real concurrency -------------------------------------------------


def bulk_assignments(count: int, *, due_share: float, now: datetime.datetime) -> None:
    """``count`` open assignments straight in SQL (one issue each) with their ladders as pending
    steps: for ``due_share`` of them the first step is due at ``now``, for the others every step
    lies ahead or (a third) all were taken, as in a county's real table."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO feedback_issue (ref, channel, nature, category_id, requester_id, title, content,
                                        received_on, onsite_answer, status, satisfaction, follow_up_comment,
                                        created_at, updated_at)
            SELECT 'BULK-' || g, 'net', 'suggestion', (SELECT min(id) FROM feedback_category),
                   (SELECT min(id) FROM feedback_requester), 'bulk', 'bulk', %(day)s, '', 'assigned', '', '',
                   %(now)s, %(now)s
            FROM generate_series(1, %(n)s) g""",
            {"n": count, "day": ASSIGNED, "now": now},
        )
        cursor.execute(
            """
            INSERT INTO feedback_assignment (issue_id, department_id, role, status, assigned_on, deadline_amount,
                deadline_unit, due_date, original_due_date, provisional, deadline_version, created_at)
            SELECT i.id, (SELECT id FROM feedback_department WHERE code = 'zjj'), 'lead', 'pending', %(day)s, 10,
                   'working_day', %(due)s, %(due)s, false, 1, %(now)s
            FROM feedback_issue i WHERE i.ref LIKE 'BULK-%%'""",
            {"day": ASSIGNED, "due": DUE, "now": now},
        )
        cursor.execute(
            """
            INSERT INTO feedback_deadlinestep (assignment_id, step, deadline_version, due_date, scheduled_for,
                                               taken_at, announced_at)
            SELECT a.id, s.step, 1, a.due_date, first.at + s.n * interval '3 days',
                   CASE WHEN first.done THEN first.at + s.n * interval '3 days' END,
                   CASE WHEN first.done THEN first.at + s.n * interval '3 days' END
            FROM feedback_assignment a
            JOIN feedback_issue i ON i.id = a.issue_id AND i.ref LIKE 'BULK-%%'
            CROSS JOIN LATERAL (SELECT r < %(share)s AS due, r > 0.66 AS done,
                                       CASE WHEN r < %(share)s THEN %(now)s - interval '1 hour'
                                            WHEN r > 0.66 THEN %(now)s - interval '40 days'
                                            ELSE %(now)s + r * interval '60 days' END AS at
                                FROM (SELECT random() + a.id * 0 AS r) AS roll) AS first
            CROSS JOIN (VALUES ('remind_50', 0), ('overdue', 1), ('chase', 2), ('supervise', 3),
                               ('bulletin', 4)) AS s(step, n)
            WHERE s.n = 0 OR NOT first.due""",
            {"share": due_share, "now": now},
        )
        for table in ("feedback_issue", "feedback_assignment", "feedback_deadlinestep"):
            cursor.execute(f"ANALYZE {table}")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_sweep_reads_only_the_partial_index_of_due_steps(clock, people):
    new_assignment(people)  # one requester and category for the bulk rows to point at
    bulk_assignments(20_000, due_share=0.01, now=REMIND_50)
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = due_steps_sql(REMIND_50, 500)
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row for (row,) in cursor.fetchall())
    # An index scan (or a bitmap scan for a larger share) of the partial index, with the time range
    # as its index condition; never a scan of the whole table.
    assert re.search(r"Index Scan (using|on) deadlinestep_pending_idx.*\n\s+Index Cond: \(scheduled_for <=", plan), plan
    assert "Seq Scan on feedback_deadlinestep" not in plan, plan
    assert "Seq Scan on feedback_assignment" not in plan, plan
    result = take_due_steps(REMIND_50)
    assert 100 <= result.examined <= 300 and result.steps == Counter(remind_50=result.examined)


@pytest.fixture
def no_mail_requests(monkeypatch):
    """These tests commit, so each batch asks a worker to mail its notifications after commit;
    without REDIS_URL that request would land in the developer's var/ queue. Not the point here."""
    monkeypatch.setattr("feedback.services.notifications.queue_pending_emails", lambda: None)


def sent_steps(ids: list[int]) -> list[tuple[int, str]]:
    """The steps whose notifications were sent: all but reminders overtaken in the same sweep,
    which the history marks as recorded and not sent."""
    rows = HistoryEntry.objects.filter(assignment_id__in=ids, action__startswith="deadline_")
    return [
        (i, action.removeprefix("deadline_"))
        for i, action, note in rows.values_list("assignment_id", "action", "note")
        if "未发送" not in note
    ]


def assert_every_step_once(rows: list[Assignment], steps: list[str]) -> None:
    """Each step once per assignment; each notification once per person: the department's two
    members, and for supervision also the leader and the channel office."""
    ids = [a.pk for a in rows]
    found = Counter(
        DeadlineStep.objects.filter(assignment_id__in=ids, taken_at__isnull=False).values_list("assignment_id", "step")
    )
    assert found == Counter((i, s) for i in ids for s in steps)
    notes = Counter(
        Notification.objects.filter(assignment_id__in=ids, kind__in=LADDER_KINDS).values_list(
            "assignment_id", "kind", "recipient_id"
        )
    )
    assert set(notes.values()) == {1}
    assert len(notes) == sum(4 if step == "supervise" else 2 for _, step in sent_steps(ids))
    assert Counter(
        HistoryEntry.objects.filter(assignment_id__in=ids, action__startswith="deadline_").values_list(
            "action", flat=True
        )
    ) == Counter({f"deadline_{s}": len(ids) for s in steps})


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_take_each_step_once(clock, people, no_mail_requests):
    """The advisory lock is transaction-scoped (PgBouncer in transaction mode keeps no session), so
    two sweeps may alternate batches and one assignment's steps may be split between them: what
    must hold is each step taken by exactly one of them."""
    rows = [new_assignment(people, title=f"并发{i}") for i in range(30)]
    outcomes = run_together(lambda: sweep_deadlines(now=CHASE, batch=7), lambda: sweep_deadlines(now=CHASE, batch=7))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sum(sum(o.steps.values()) for o in outcomes) == 30 * 4
    assert all(o.examined <= 30 for o in outcomes) and sum(o.examined for o in outcomes) >= 30
    assert_every_step_once(rows, ["remind_50", "remind_1d", "overdue", "chase"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_advisory_lock_overlapping_sweeps_still_take_each_step_once(clock, people, no_mail_requests):
    """If two sweeps ever ran side by side (the lock is only an optimisation), SKIP LOCKED
    hands each row to one of them and the unique keys absorb anything else."""
    rows = [new_assignment(people, title=f"并发{i}") for i in range(30)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("feedback.services.sweeps._take_sweep_lock", lambda: True)
        outcomes = run_together(*[lambda: sweep_deadlines(now=SUPERVISE, batch=5)] * 3)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    steps = ["remind_50", "remind_1d", "overdue", "chase", "supervise"]
    assert sum(sum(o.steps.values()) for o in outcomes) == 30 * len(steps)
    assert_every_step_once(rows, steps)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_that_finds_another_running_does_nothing(clock, people, no_mail_requests):
    a = new_assignment(people)
    holding, release = threading.Event(), threading.Event()

    def other_sweep():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_ID])
            holding.set()
            release.wait(20)

    thread = threading.Thread(target=lambda: (other_sweep(), connections.close_all()))
    thread.start()
    try:
        assert holding.wait(10)
        result = sweep_deadlines(now=CHASE)
    finally:
        release.set()
        thread.join(20)
    assert (result.locked_out, result.examined) == (True, 0)
    assert steps_of(a) == Counter()
    assert sweep_deadlines(now=CHASE).examined == 1  # once the other one is done


@pytest.mark.django_db
def test_a_step_another_sweep_took_first_is_not_taken_or_announced_twice(clock, people, monkeypatch):
    """The race the conditional UPDATE is for: a step selected as due was taken (and announced) by
    someone else before the claim. Here the select is made to see it still pending; the claim skips
    it, and no second history row or notice follows."""
    a = new_assignment(people)
    DeadlineStep.objects.filter(assignment=a, step="remind_50").update(taken_at=REMIND_50, announced_at=REMIND_50)
    select = services.ladder.due_steps_sql

    def stale_select(now, batch):
        sql, params = select(now, batch)
        assert "s.taken_at IS NULL AND " in sql
        return sql.replace("s.taken_at IS NULL AND ", ""), params

    monkeypatch.setattr(services.ladder, "due_steps_sql", stale_select)
    clock(REMIND_1D)
    result = sweep_deadlines()
    assert (result.examined, result.steps, result.announced) == (1, Counter(["remind_1d"]), 1)
    assert steps_of(a) == Counter(["remind_50", "remind_1d"])
    assert ladder_history(a) == Counter(["deadline_remind_1d"])
    assert set(ladder_notes(a)) == {("remind_1d", "zjj_head"), ("remind_1d", "zjj_staff")}
    assert next_step(a) == ("overdue", OVERDUE)


@pytest.mark.django_db
def test_steps_taken_but_not_announced_before_a_crash_are_announced_by_the_next_sweep(clock, people):
    a = new_assignment(people)
    clock(REMIND_50)
    assert take_due_steps(timezone.now()).steps == Counter(["remind_50"])  # the worker dies here
    assert (ladder_history(a), ladder_notes(a)) == (Counter(), Counter())
    clock(at(11, 10, 9, 5))
    result = sweep_deadlines()
    assert (result.steps, result.announced) == (Counter(), 1)
    assert ladder_history(a) == Counter(["deadline_remind_50"])
    assert ladder_notes(a) == Counter({("remind_50", "zjj_head"): 1, ("remind_50", "zjj_staff"): 1})
    assert a.history.get(action="deadline_remind_50").at == REMIND_50  # when it was taken
    assert announce_steps() == 0


@pytest.mark.django_db
def test_an_approved_extension_replaces_the_pending_steps_and_keeps_the_taken_ones(clock, people):
    a = new_assignment(people)
    clock(REMIND_50)
    sweep_deadlines()
    clock(at(11, 11, 10))
    request = services.request_extension(
        actor=people["head"], assignment=a, requested_due_date=datetime.date(2026, 11, 30), reason="需要现场勘查"
    )
    services.decide_extension(actor=people["office"], request=request, approve=True)
    a.refresh_from_db()
    assert a.deadline_version == 2
    pending = DeadlineStep.objects.filter(assignment=a, taken_at__isnull=True)
    assert set(pending.values_list("deadline_version", flat=True)) == {2}
    assert set(pending.values_list("due_date", flat=True)) == {datetime.date(2026, 11, 30)}
    # The reminders of the new deadline whose moment has passed (half of the time from 11-02
    # to 11-30 had gone by 11-16) wait for the next sweep; the taken remind_50 of version 1 stays.
    assert DeadlineStep.objects.filter(assignment=a, taken_at__isnull=False).get().deadline_version == 1
    assert next_step(a)[0] == "remind_50"
    clock(at(11, 17))  # the old due date passed: no overdue step, the new one is 11-30
    assert "overdue" not in sweep_deadlines().steps


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_an_assignment_a_service_is_changing_and_takes_it_next_time(clock, people, no_mail_requests):
    """A service locks the assignment (FOR UPDATE) and then replaces its pending steps; the sweep
    must neither wait for it nor lock those steps first (which would deadlock): it skips the row."""
    a, other = new_assignment(people), new_assignment(people, title="另一件")
    holding, release = threading.Event(), threading.Event()

    def service_at_work():
        with transaction.atomic():
            Assignment.objects.select_for_update().get(pk=a.pk)
            holding.set()
            release.wait(20)

    thread = threading.Thread(target=lambda: (service_at_work(), connections.close_all()))
    thread.start()
    try:
        assert holding.wait(10)
        result = sweep_deadlines(now=REMIND_50)
    finally:
        release.set()
        thread.join(20)
    assert (result.examined, steps_of(a), steps_of(other)) == (1, Counter(), Counter(["remind_50"]))
    assert sweep_deadlines(now=REMIND_50).steps == Counter(["remind_50"])
    assert steps_of(a) == Counter(["remind_50"])


@pytest.mark.django_db
def test_the_issue_page_shows_what_the_sweep_will_do_next(clock, people, client):
    a = new_assignment(people)
    clock(REMIND_50)
    sweep_deadlines()
    client.force_login(people["office"])
    page = client.get(f"/issues/{a.issue_id}/").content.decode()
    start = page.index("接下来的提醒与督办")
    upcoming = page[start : page.index("</ul>", start)]
    assert "2026-11-13 09:00 到期前一个工作日提醒" in upcoming and "2026-11-17 09:00 催办" in upcoming
    assert "时间过半提醒" not in upcoming  # taken already
    start = page.index("已发生：")
    happened = page[start : page.index("</ul>", start)]
    assert "时间过半提醒" in happened and "催办" not in happened


@pytest.mark.django_db
def test_a_step_due_but_not_yet_swept_is_not_listed_as_coming(clock, people, client):
    a = new_assignment(people)
    clock(REMIND_50)  # the 时间过半 reminder is due; no sweep has run yet
    client.force_login(people["office"])
    page = client.get(f"/issues/{a.issue_id}/").content.decode()
    start = page.index("接下来的提醒与督办")
    upcoming = page[start : page.index("</ul>", start)]
    assert "时间过半提醒" not in upcoming and "催办" in upcoming
    start = page.index("已发生：")
    assert "时间过半提醒（已到时间，待系统发出）" in page[start : page.index("</ul>", start)]


@pytest.mark.django_db
def test_steps_still_ahead_count_nowhere_until_the_sweep_takes_them(clock, people):
    """The pending rows are the ladder to come: neither the bulletin listing nor the chase notice
    may take them for steps that happened."""
    from feedback.documents.printed import chase_notice
    from feedback.figures.bulletins import listed_steps

    a = new_assignment(people)
    clock(at(11, 18, 10))  # the chase came yesterday at 09:00; the sweep has not run
    assert "11月18日" in chase_notice(a).chased_on  # an overdue assignment's notice is dated today
    sweep_deadlines()
    clock(at(11, 20, 10))
    assert "11月18日" in chase_notice(a).chased_on  # the day the sweep took the chase
    clock(at(12, 1, 8))  # the bulletin step has come, not yet taken
    assert not listed_steps(datetime.date(2026, 11, 1)).exists()
    sweep_deadlines()
    assert list(listed_steps(datetime.date(2026, 11, 1)).values_list("assignment_id", flat=True)) == [a.pk]
