"""Deadline arithmetic without a database (feedback/deadlines.py is pure)."""

from __future__ import annotations

import datetime

import pytest
from chinese_calendar import constants

from feedback.deadlines import (
    CALENDAR_DAY,
    WORKING_DAY,
    DeadlineInputError,
    WorkCalendar,
    compute_deadline,
    working_days_between,
)

D = datetime.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    """The national calendar as load_calendar() would build it from the seeded table."""
    overrides = dict.fromkeys(constants.holidays, (False, "节假日"))
    overrides |= dict.fromkeys(constants.workdays, (True, "调休上班"))
    return WorkCalendar(known_years=frozenset(range(2004, 2027)), overrides=overrides)


@pytest.mark.parametrize(
    "start, amount, due",
    [
        (D(2026, 9, 30), 10, D(2026, 10, 20)),  # National Day Oct 1–7; Sat Oct 10 is a make-up working day
        (D(2026, 9, 18), 2, D(2026, 9, 21)),  # Sun Sep 20 is a make-up day: Fri → (Sun) … counts Sun Sep 20, Mon 21
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Sat Feb 14 2026 is a make-up working day before Spring Festival
        (D(2026, 2, 13), 3, D(2026, 2, 25)),  # Sat Feb 14 (make-up), then Spring Festival Feb 15–23: 24, 25
        (D(2025, 1, 24), 5, D(2025, 2, 7)),  # make-up Sun Jan 26, Mon 27, Spring Festival Jan 28–Feb 4, 5, 6, 7
        (D(2024, 4, 30), 1, D(2024, 5, 6)),  # Labour Day 2024 May 1–5
        (D(2024, 12, 31), 1, D(2025, 1, 2)),  # New Year's Day
    ],
)
def test_working_day_limits_across_holidays_and_make_up_days(cal, start, amount, due):
    assert compute_deadline(start, amount, WORKING_DAY, cal).due_date == due


def test_the_make_up_days_used_above_are_what_the_calendar_says(cal):
    assert cal.is_workday(D(2026, 9, 20)) and cal.is_workday(D(2026, 10, 10)) and cal.is_workday(D(2026, 2, 14))
    assert cal.is_workday(D(2026, 10, 8))  # Oct 8 2026 is an ordinary Thursday at work
    assert not cal.is_workday(D(2026, 10, 7))


def test_a_start_on_a_rest_day_counts_from_the_next_working_day(cal):
    # Saturday 2026-11-28 → one working day ends on Monday 11-30, not on Tuesday
    # (chinesecalendar's find_workday(1, sat) would give Tuesday: it treats the rest day as day zero).
    assert compute_deadline(D(2026, 11, 28), 1, WORKING_DAY, cal).due_date == D(2026, 11, 30)
    # Starting inside National Day: the first working day after it is Thursday Oct 8.
    assert compute_deadline(D(2026, 10, 3), 1, WORKING_DAY, cal).due_date == D(2026, 10, 8)


@pytest.mark.parametrize(
    "start, amount, due",
    [
        (D(2026, 11, 23), 5, D(2026, 11, 30)),  # Sat 11-28 → rolls to Mon 11-30
        (D(2026, 9, 26), 5, D(2026, 10, 8)),  # Oct 1 in the holiday → Oct 8
        (D(2026, 3, 2), 60, D(2026, 5, 6)),  # May 1 is in Labour Day May 1–5 → May 6
        (D(2026, 3, 4), 60, D(2026, 5, 6)),  # May 3 → May 6
        (D(2026, 11, 2), 3, D(2026, 11, 5)),  # a working day: no roll
    ],
)
def test_calendar_day_limits_roll_forward_to_a_working_day(cal, start, amount, due):
    assert compute_deadline(start, amount, CALENDAR_DAY, cal).due_date == due


def test_a_deadline_in_a_year_without_data_is_provisional_and_says_why(cal):
    deadline = compute_deadline(D(2026, 12, 24), 10, WORKING_DAY, cal)
    assert deadline.provisional
    # 2027 falls back to Monday–Friday minus the fixed-date holidays (Jan 1).
    assert deadline.due_date == D(2027, 1, 8)
    assert any("2027年的节假日安排尚未载入" in line for line in deadline.explanation)
    assert not compute_deadline(D(2026, 11, 2), 10, WORKING_DAY, cal).provisional


def test_loading_the_year_changes_a_provisional_deadline(cal):
    # The 2027 notice (example): Jan 1–3 holiday, no make-up; Spring Festival from Feb 6.
    loaded = WorkCalendar(
        known_years=cal.known_years | {2027},
        overrides={**cal.overrides, D(2027, 1, 1): (False, "元旦"), D(2027, 1, 4): (False, "元旦")},
    )
    before = compute_deadline(D(2026, 12, 31), 2, WORKING_DAY, cal)
    after = compute_deadline(D(2026, 12, 31), 2, WORKING_DAY, loaded)
    assert (before.due_date, before.provisional) == (D(2027, 1, 5), True)
    assert (after.due_date, after.provisional) == (D(2027, 1, 6), False)


def test_the_explanation_names_the_start_the_skipped_days_and_the_end(cal):
    lines = compute_deadline(D(2026, 9, 30), 3, WORKING_DAY, cal, policy_name="政网书面回复").explanation
    text = "\n".join(lines)
    assert "时限规则：政网书面回复" in text
    assert "起算日：2026-09-30（周三），当日不计入" in text
    assert "2026-10-01（周四）节假日" in text
    assert "办理期限：2026-10-10（周六） 24:00（北京时间）" in text


@pytest.mark.parametrize(
    "amount, unit, message",
    [
        (0, WORKING_DAY, "正整数"),
        (-3, WORKING_DAY, "正整数"),
        (5, "fortnight", "单位"),
        (10**6, CALENDAR_DAY, "不能超过"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(cal, amount, unit, message):
    with pytest.raises(DeadlineInputError, match=message):
        compute_deadline(D(2026, 1, 5), amount, unit, cal)


def test_working_days_between_counts_after_the_start(cal):
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 12), cal) == 4  # Oct 8, 9, 10, 12
    assert working_days_between(D(2026, 10, 12), D(2026, 10, 12), cal) == 0


def steps(cal, assigned_on, due):
    from feedback.deadlines import ladder

    return [(s.step, s.day, s.hour) for s in ladder(assigned_on, due, cal)]


def test_the_ladder_of_a_ten_working_day_limit(cal):
    # Assigned Mon 2026-11-02, due Mon 11-16 (10 working days).
    assert steps(cal, D(2026, 11, 2), D(2026, 11, 16)) == [
        ("remind_50", D(2026, 11, 10), 9),  # 5 of 10 working days have passed
        ("remind_1d", D(2026, 11, 13), 9),  # 80% (8 days → Fri 11-13) coincides with the day before: dropped
        ("overdue", D(2026, 11, 17), 0),  # end of the due day
        ("chase", D(2026, 11, 17), 9),  # the next working day
        ("supervise", D(2026, 11, 24), 9),  # five working days after the chase
        ("bulletin", D(2026, 12, 1), 0),  # the bulletin of the following month
    ]


def test_the_ladder_skips_holidays_and_drops_reminders_that_would_crowd(cal):
    # Assigned Wed 2026-09-30 with one working day: due Thu 10-08 (after National Day); no room for
    # reminders. The chase is Fri 10-09; supervision five working days later is Thu 10-15, because
    # Sat 10-10 is a make-up working day.
    assert steps(cal, D(2026, 9, 30), D(2026, 10, 8)) == [
        ("overdue", D(2026, 10, 9), 0),
        ("chase", D(2026, 10, 9), 9),
        ("supervise", D(2026, 10, 15), 9),
        ("bulletin", D(2026, 11, 1), 0),
    ]
    long = steps(cal, D(2026, 3, 2), D(2026, 5, 6))  # 60 calendar days
    assert [s for s, _, _ in long][:3] == ["remind_50", "remind_80", "remind_1d"]
    assert long[2][1] == D(2026, 4, 30)  # the working day before the Labour Day holiday and the due date
