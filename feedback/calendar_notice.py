"""The yearly holiday update: the State Council's notice as a small text file, county overrides,
and the warning to administrators when next year's calendar is missing.

The notice format (UTF-8 text or CSV, one date per line)::

    # 国务院办公厅关于2027年部分节假日安排的通知
    2027-01-01,休,元旦
    2027-02-07,班,春节调休上班

The second field is 休/休息/rest (a rest day) or 班/上班/work (a make-up working day on a weekend);
the name is optional. ``#`` starts a comment; blank lines are ignored. A notice is loaded whole or
not at all: every bad line is reported as ``第N行：…`` and nothing is written.

Why the writes live here and not in ``services.py``: like ``workcalendar.seed_from_chinesecalendar``
they change reference data (the calendar), not the workflow. Everything the workflow sees (new due
dates, history rows, the departments' notifications) is still done by one service,
``services.recompute_deadlines``, called inside the same transaction; then every channel's
``calendar_changed`` hook (feedback.channels) re-dates the sessions it planned on those dates.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from feedback.access import Role, scope_of
from feedback.deadlines import FIXED_HOLIDAYS, WEEKDAYS
from feedback.models import CalendarDay, CalendarYear

FIRST_YEAR, LAST_YEAR = 2004, 2099


REST_WORDS = {"休": False, "休息": False, "rest": False}


WORK_WORDS = {"班": True, "上班": True, "work": True}


KINDS = {**REST_WORDS, **WORK_WORDS}


NAME_MAX = CalendarDay._meta.get_field("name").max_length


SOURCE_MAX = CalendarYear._meta.get_field("source").max_length


WARN_FROM_MONTH = 11  # the State Council publishes between late October and mid-December


MISSING_KIND = "calendar_missing"


class NoticeError(ValueError):
    """A notice that cannot be loaded; ``errors`` holds one Chinese message per bad line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class NoticeDay:
    line: int
    date: datetime.date
    is_workday: bool
    name: str

    @property
    def weekday(self) -> str:
        return f"周{WEEKDAYS[self.date.weekday()]}"

    @property
    def kind_label(self) -> str:
        return "调休上班" if self.is_workday else "休息"


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NoticeError([f"年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间。"])


def parse_notice(text: str | Iterable[str], *, year: int) -> list[NoticeDay]:
    """Every date of the notice, in date order; raises NoticeError listing every bad line."""
    check_year(year)
    lines = text.splitlines() if isinstance(text, str) else list(text)
    days: list[NoticeDay] = []
    errors: list[str] = []
    seen: dict[datetime.date, int] = {}
    header_allowed = True
    for number, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff").split("#", 1)[0].strip()
        if not line:
            continue
        # Spreadsheets and Chinese keyboards give tabs and full-width commas as often as commas.
        fields = [f.strip() for f in line.replace("，", ",").replace("\t", ",").split(",", 2)]
        if header_allowed and fields[0].lower() in {"日期", "date"}:
            header_allowed = False
            continue  # a header row exported by a spreadsheet
        header_allowed = False
        problem = _problem(fields, year, seen)
        if problem:
            errors.append(f"第{number}行：{problem}")
            continue
        day = datetime.date.fromisoformat(fields[0])
        seen[day] = number
        name = fields[2] if len(fields) > 2 else ""
        days.append(NoticeDay(line=number, date=day, is_workday=KINDS[fields[1].lower()], name=name))
    if not days and not errors:
        errors.append("没有读到任何日期行（格式：2027-01-01,休,元旦）。")
    if errors:
        raise NoticeError(errors)
    return sorted(days, key=lambda d: d.date)


def _problem(fields: list[str], year: int, seen: dict[datetime.date, int]) -> str:
    if len(fields) < 2 or not fields[1]:
        return f"“{','.join(fields)}”格式不对，应为“日期,休或班,名称”，例如 2027-01-01,休,元旦"
    try:
        if len(fields[0]) != 10:
            raise ValueError
        day = datetime.date.fromisoformat(fields[0])
    except ValueError:
        return f"日期“{fields[0]}”无效，应写成 YYYY-MM-DD，例如 {year}-01-01"
    if day.year != year:
        return f"日期 {day:%Y-%m-%d} 不在 {year} 年内"
    if day in seen:
        return f"日期 {day:%Y-%m-%d} 与第{seen[day]}行重复"
    kind = fields[1].lower()
    if kind not in KINDS:
        return f"类型“{fields[1]}”无效，应为 休（休息、rest）或 班（上班、work）"
    if KINDS[kind] and day.weekday() < 5:
        return f"{day:%Y-%m-%d} 是周{WEEKDAYS[day.weekday()]}，本来就是工作日；调休上班日只能是周六或周日"
    if len(fields) > 2 and len(fields[2]) > NAME_MAX:
        return f"名称“{fields[2][:10]}…”超过 {NAME_MAX} 个字"
    return ""


# --- writes --------------------------------------------------------------------------------------


def base_is_workday(day: datetime.date) -> bool:
    """Whether ``day`` is a working day without any county override (national row, else the
    Monday–Friday fallback with the fixed-date holidays of a year not yet loaded)."""
    national = CalendarDay.objects.filter(date=day, source=CalendarDay.Source.NATIONAL).first()
    if national is not None:
        return national.is_workday
    if not CalendarYear.objects.filter(year=day.year).exists() and (day.month, day.day) in FIXED_HOLIDAYS:
        return False
    return day.weekday() < 5


# --- the missing-year warning --------------------------------------------------------------------


def missing_years(today: datetime.date, known_years: Iterable[int]) -> list[int]:
    """Years whose calendar should be loaded by now and is not: this year always, next year from
    1 November."""
    known = set(known_years)
    due = [today.year] + ([today.year + 1] if today.month >= WARN_FROM_MONTH else [])
    return [y for y in due if y not in known]


def calendar_warning(today: datetime.date, known_years: Iterable[int]) -> str | None:
    """The banner text for administrators, or None when every year that matters is loaded."""
    missing = missing_years(today, known_years)
    return warning_text(missing[0], today) if missing else None


def warning_text(year: int, today: datetime.date) -> str:
    if year <= today.year:
        return f"{year}年节假日安排尚未载入，期限按周一至周五暂算。请尽快载入国务院公布的安排。"
    return f"{year}年节假日安排尚未载入，跨年期限按周一至周五暂算。请在国务院公布后载入。"


def warning_for(user: Any, today: datetime.date | None = None) -> str | None:
    """The banner for one request: nothing (and no query) unless the user is an administrator;
    for an administrator one query on the unique ``year`` index."""
    if scope_of(user).role != Role.ADMIN:
        return None
    today = today or timezone.localdate()
    due = [today.year, today.year + 1]
    known = CalendarYear.objects.filter(year__in=due).values_list("year", flat=True)
    return calendar_warning(today, known)
