"""Deadline arithmetic: pure functions, dates in and dates out, no ORM.

Rules (DOMAIN.md "Deadlines", reference/domain-rules.md §1.2):
- the start day is not counted (民法典 art. 201);
- a working-day limit of N ends on the N-th working day after the start day;
- a calendar-day limit ends N days after the start day, moved to the next working
  day when that falls on a rest day (民法典 art. 203 by analogy);
- a deadline is the end of that day, Asia/Shanghai.

Counting always walks day by day from the start day, so a start on a rest day
is handled correctly (unlike chinesecalendar's ``find_workday``, which counts
the rest day itself as step zero; reference §2.2).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

WORKING_DAY = "working_day"
CALENDAR_DAY = "calendar_day"
UNITS = {WORKING_DAY: "工作日", CALENDAR_DAY: "自然日"}
WEEKDAYS = "一二三四五六日"

# Statutory holidays with a fixed solar date (全国年节及纪念日放假办法 art. 2). For a year
# without a loaded calendar these are the only holidays we can know in advance; the
# lunar ones (春节, 清明, 端午, 中秋) and the make-up days come with the State Council notice.
FIXED_HOLIDAYS = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (5, 2): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}
MAX_AMOUNT = 3660
MIN_YEAR, MAX_YEAR = 2000, 2100


class DeadlineInputError(ValueError):
    """Bad arguments to a deadline computation (message in Chinese)."""


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days.

    ``known_years`` are years whose rest days and make-up days are loaded; ``overrides``
    maps a date to (is_workday, name) for every exception to Monday–Friday in those years.
    """

    known_years: frozenset[int] = frozenset()
    overrides: dict[datetime.date, tuple[bool, str]] = field(default_factory=dict)

    def is_known(self, day: datetime.date) -> bool:
        return day.year in self.known_years

    def is_workday(self, day: datetime.date) -> bool:
        if day in self.overrides:
            return self.overrides[day][0]
        if not self.is_known(day) and (day.month, day.day) in FIXED_HOLIDAYS:
            return False
        return day.weekday() < 5

    def rest_reason(self, day: datetime.date) -> str:
        if day in self.overrides:
            return self.overrides[day][1] or "休息日"
        if not self.is_known(day) and (day.month, day.day) in FIXED_HOLIDAYS:
            return f"{FIXED_HOLIDAYS[(day.month, day.day)]}（暂按法定日期）"
        return "周末"


@dataclass(frozen=True)
class Deadline:
    start: datetime.date
    amount: int
    unit: str
    due_date: datetime.date
    provisional: bool
    skipped: tuple[datetime.date, ...]
    explanation: tuple[str, ...]


def describe_day(day: datetime.date) -> str:
    return f"{day:%Y-%m-%d}（周{WEEKDAYS[day.weekday()]}）"


def compute_deadline(
    start: datetime.date, amount: int, unit: str, calendar: WorkCalendar, *, policy_name: str = ""
) -> Deadline:
    if unit not in UNITS:
        raise DeadlineInputError(f"时限单位“{unit}”无效，应为 working_day（工作日）或 calendar_day（自然日）。")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise DeadlineInputError("时限必须是正整数。")
    if amount > MAX_AMOUNT:
        raise DeadlineInputError(f"时限不能超过 {MAX_AMOUNT} 天。")
    if not MIN_YEAR <= start.year <= MAX_YEAR:
        raise DeadlineInputError(f"起算日期超出可计算范围（{MIN_YEAR}–{MAX_YEAR}年）。")

    skipped: list[datetime.date] = []
    counted: list[datetime.date] = []
    day = start
    if unit == WORKING_DAY:
        while len(counted) < amount:
            day += datetime.timedelta(days=1)
            (counted if calendar.is_workday(day) else skipped).append(day)
    else:
        day = start + datetime.timedelta(days=amount)
        counted.append(day)
        while not calendar.is_workday(day):
            skipped.append(day)
            day += datetime.timedelta(days=1)
            counted.append(day)
    due = day
    span = _days_between(start, due)
    provisional = any(not calendar.is_known(d) for d in span)

    lines = []
    if policy_name:
        lines.append(f"时限规则：{policy_name}")
    lines.append(f"起算日：{describe_day(start)}，当日不计入")
    lines.append(f"时限：{amount}个{UNITS[unit]}")
    if unit == WORKING_DAY:
        if skipped:
            lines.append("跳过休息日：" + "、".join(f"{describe_day(d)}{calendar.rest_reason(d)}" for d in skipped))
    elif skipped:
        lines.append(f"第{amount}日 {describe_day(skipped[0])} 为休息日，顺延至下一个工作日")
    lines.append(f"办理期限：{describe_day(due)} 24:00（北京时间）")
    if provisional:
        missing = sorted({d.year for d in span if not calendar.is_known(d)})
        years = "、".join(str(y) for y in missing)
        lines.append(
            f"注意：{years}年的节假日安排尚未载入，暂按周一至周五（及元旦、劳动节、国庆节法定日期）计算，"
            "载入后自动重新计算"
        )
    return Deadline(
        start=start,
        amount=amount,
        unit=unit,
        due_date=due,
        provisional=provisional,
        skipped=tuple(skipped),
        explanation=tuple(lines),
    )


def add_working_days(start: datetime.date, amount: int, calendar: WorkCalendar) -> datetime.date:
    return compute_deadline(start, amount, WORKING_DAY, calendar).due_date


def working_days_between(start: datetime.date, end: datetime.date, calendar: WorkCalendar) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    return sum(1 for d in _days_between(start, end) if calendar.is_workday(d))


def _days_between(start: datetime.date, end: datetime.date) -> Iterable[datetime.date]:
    day = start
    while day < end:
        day += datetime.timedelta(days=1)
        yield day


# --- The reminder and escalation ladder (DOMAIN.md "Deadlines") ------------------------------------

REMINDER_HOUR = 9  # reminders and escalations arrive at the start of office hours, Asia/Shanghai
CHASE_AFTER_SUPERVISE_WORKING_DAYS = 5


@dataclass(frozen=True)
class LadderStep:
    step: str
    day: datetime.date
    hour: int  # local hour, Asia/Shanghai


def ladder(assigned_on: datetime.date, due_date: datetime.date, calendar: WorkCalendar) -> list[LadderStep]:
    """Every step for one deadline, in time order.

    Reminders at 50% and 80% of the time used and on the working day before the due date
    (a reminder that would not come before the next one, or that falls on or before the
    assignment day, is dropped); overdue at the end of the due day; a chase notice (催办)
    the next working day; leader supervision (督办) five working days later; listing in the
    bulletin (通报) of the month after supervision.
    """
    days = list(_days_between(assigned_on, due_date))
    workdays = [d for d in days if calendar.is_workday(d)] or days
    reminders: list[LadderStep] = []
    for step, share in (("remind_50", 0.5), ("remind_80", 0.8)):
        # The morning after the share of working days has fully passed.
        passed = int(len(workdays) * share)
        if 0 < passed < len(workdays):
            reminders.append(LadderStep(step, workdays[passed], REMINDER_HOUR))
    before_due = [d for d in workdays if d < due_date]
    if before_due:
        reminders.append(LadderStep("remind_1d", before_due[-1], REMINDER_HOUR))
    kept: list[LadderStep] = []
    for index, r in enumerate(reminders):
        later = reminders[index + 1 :]
        if r.day > assigned_on and all(r.day < other.day for other in later):
            kept.append(r)
    chase_day = next_workday(due_date, calendar)
    supervise_day = compute_deadline(chase_day, CHASE_AFTER_SUPERVISE_WORKING_DAYS, WORKING_DAY, calendar).due_date
    bulletin_day = (supervise_day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return [
        *kept,
        LadderStep("overdue", due_date + datetime.timedelta(days=1), 0),
        LadderStep("chase", chase_day, REMINDER_HOUR),
        LadderStep("supervise", supervise_day, REMINDER_HOUR),
        LadderStep("bulletin", bulletin_day, 0),
    ]


def next_workday(day: datetime.date, calendar: WorkCalendar) -> datetime.date:
    day += datetime.timedelta(days=1)
    while not calendar.is_workday(day):
        day += datetime.timedelta(days=1)
    return day
