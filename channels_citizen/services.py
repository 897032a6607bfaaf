"""The 政民 channel's write path (and its one figure that spans tables, 无访村).

Like ``feedback.services``: verb-first, keyword-only, one transaction each, raising the core's
named errors (``InvalidInput`` with the field, ``NotPermitted``) so the HTML pages, the admin and
the API answer alike.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from feedback import access, services
from feedback.deadlines import WorkCalendar
from feedback.errors import BatchRejected, InvalidInput, NotPermitted
from feedback.models import Channel, Department, Issue, Notification
from feedback.services.batches import all_or_none
from feedback.services.notifications import queue_after_commit
from feedback.wording import title_from
from feedback.workcalendar import load_calendar

from .access import can_plan, can_read
from .models import CitizenIntake, CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit

__all__ = ["can_plan", "can_read"]  # re-exported: the API and older callers read them here

WEEK_LENGTH = 5  # DOMAIN.md: the last five working days of the month
MONTHS_AHEAD = 1  # the coming month's week exists a month ahead, as the 政企 enterprise day
CALENDAR_CHANGED = "工作日历调整"
# The office told that a week kept its dates although the calendar now gives others.
KEPT_KIND = "no_meeting_week_kept"


def _require_planner(actor: Any) -> None:
    if actor is not None and not can_plan(actor):
        raise NotPermitted("只有县信访局或系统管理员可以执行此操作。")


# --- the week ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekDates:
    starts_on: datetime.date
    ends_on: datetime.date
    provisional: bool  # the year has no stored calendar: Monday–Friday was assumed


def default_week(month: datetime.date) -> WeekDates:
    """The last five working days of ``month`` from the stored calendar. No source defines 无会周;
    the Mon–Sun week of the last working day spills into the next month (domain-rules §1.7), so the
    default stays inside the month. February 2026's last working day is a Saturday make-up day."""
    first = month.replace(day=1)
    return week_dates(first, load_calendar(first, _last_day(first)))


def _last_day(month: datetime.date) -> datetime.date:
    return month.replace(day=pycalendar.monthrange(month.year, month.month)[1])


def _next_month(month: datetime.date) -> datetime.date:
    return _last_day(month) + datetime.timedelta(days=1)


def week_dates(first: datetime.date, calendar: WorkCalendar) -> WeekDates:
    """``default_week`` on a calendar already loaded (pure)."""
    days: list[datetime.date] = []
    day = _last_day(first)
    while len(days) < WEEK_LENGTH and day >= first:
        if calendar.is_workday(day):
            days.append(day)
        day -= datetime.timedelta(days=1)
    return WeekDates(starts_on=days[-1], ends_on=days[0], provisional=not calendar.is_known(first))


@transaction.atomic
def plan_week(*, actor: Any, month: datetime.date) -> NoMeetingWeek:
    """Create the month's week at its default dates, unconfirmed; a month already past is 补录 and
    keeps ``recorded_on`` (idempotent: an existing week is kept, except that an unconfirmed
    provisional week not yet begun is re-planned once its year's calendar is loaded, under the
    rules of ``replan_weeks``)."""
    _require_planner(actor)
    first = month.replace(day=1)
    if first.year < 2000:
        raise InvalidInput("无会周月份有误。", field="month")
    dates = default_week(first)
    today = timezone.localdate()
    recorded_on = _recorded_on(dates.ends_on, today)
    week, created = NoMeetingWeek.objects.get_or_create(
        month=first,
        defaults={
            "starts_on": dates.starts_on,
            "ends_on": dates.ends_on,
            "provisional": dates.provisional,
            "recorded_on": recorded_on,
        },
    )
    if not created and week.provisional and not week.confirmed and not dates.provisional:
        week = NoMeetingWeek.objects.select_for_update().get(pk=week.pk)
        _replan_week(week, dates, today=timezone.localdate(), reason=CALENDAR_CHANGED)
    return week


def _recorded_on(ends_on: datetime.date, today: datetime.date) -> datetime.date | None:
    # A week already over when it is entered is recorded afterwards (补录, issue 13 §3): kept, with
    # the day it was entered; the scheduler only creates weeks ahead.
    return today if ends_on < today else None


@transaction.atomic
def record_weeks(*, actor: Any, starts: Sequence[datetime.date]) -> list[NoMeetingWeek]:
    """The bulk form of ``plan_week`` for the ledger import (the 政民 session hook,
    channels_citizen.ledger): the no-meeting week of each date's month, which must start on that
    date (repeats allowed), in their order. A month has one week: its week starting another day, or
    an earlier new date of the same month, refuses the date; so does a month before 2000
    (``plan_week``'s check). A month without a week gets one from that date to the month's default
    last day (or that date), provisional as the default, 补录 on today when it is over
    (``plan_week``'s rule). Every refusal at once, by index of ``starts`` (BatchRejected), nothing written."""
    _require_planner(actor)
    weeks = {w.month: w for w in NoMeetingWeek.objects.filter(month__in={day.replace(day=1) for day in starts})}
    refused: dict[int, InvalidInput] = {}
    first_of_month: dict[datetime.date, datetime.date] = {}
    for index, day in enumerate(starts):
        month = day.replace(day=1)
        if month.year < 2000:
            refused[index] = InvalidInput("无会周月份有误。", field="month")
        elif (week := weeks.get(month)) is not None:
            if week.starts_on != day:
                refused[index] = InvalidInput(
                    f"{week}从 {week.starts_on:%Y-%m-%d} 开始，与会议日期 {day:%Y-%m-%d} 不符（每月只有一个无会周）",
                    field="starts_on",
                )
        elif (seen := first_of_month.setdefault(month, day)) != day:
            refused[index] = InvalidInput(
                f"会议日期 {day:%Y-%m-%d} 与同月的 {seen:%Y-%m-%d} 不同（每月只有一个无会周）", field="starts_on"
            )
    if refused:
        raise BatchRejected(refused, what="无会周")
    today = timezone.localdate()
    for month, day in first_of_month.items():
        default = default_week(month)
        ends_on = max(day, default.ends_on)
        try:
            with transaction.atomic():
                weeks[month] = NoMeetingWeek.objects.create(
                    month=month,
                    starts_on=day,
                    ends_on=ends_on,
                    provisional=default.provisional,
                    recorded_on=_recorded_on(ends_on, today),
                )
        except IntegrityError:
            # Planned by someone else meanwhile: the unique month decides.
            message = f"{month:%Y年%m月}已有无会周，请重新导入。"
            raise BatchRejected(
                {i: InvalidInput(message, field="month") for i, d in enumerate(starts) if d.replace(day=1) == month},
                what="无会周",
            ) from None
    return [weeks[day.replace(day=1)] for day in starts]


# --- the scheduler -------------------------------------------------------------------------------


@transaction.atomic
def schedule_no_meeting_weeks(*, today: datetime.date | None = None, months: int = MONTHS_AHEAD) -> list[NoMeetingWeek]:
    """The daily run (channels_citizen.tasks): create this month's and the coming months' weeks that
    do not exist yet at their default dates, unconfirmed, provisional where the year's calendar is
    missing; then re-plan the unconfirmed weeks not yet begun (``replan_weeks``: the
    ``calendar_changed`` hook does that at once, this run catches up a change made by any other
    route). Idempotent: one week per month (unique ``month``). Returns the weeks created, then
    those re-planned."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    wanted = [month]
    for _ in range(months):
        wanted.append(_next_month(wanted[-1]))
    calendar = load_calendar(wanted[0], _last_day(wanted[-1]))
    existing = set(NoMeetingWeek.objects.filter(month__in=wanted).values_list("month", flat=True))
    created = []
    for first in wanted:
        if first in existing:
            continue
        dates = week_dates(first, calendar)
        if dates.ends_on < today:
            continue  # this month's week is over: a week is not created after the event
        week, was_created = NoMeetingWeek.objects.get_or_create(
            month=first,
            defaults={"starts_on": dates.starts_on, "ends_on": dates.ends_on, "provisional": dates.provisional},
        )
        if was_created:
            created.append(week)
    return created + replan_weeks(today=today)


def calendar_changed(years: set[int]) -> None:
    """The registry hook (feedback.channels): the calendar of ``years`` changed, re-plan their weeks now."""
    replan_weeks(years=years, reason="、".join(str(y) for y in sorted(years)) + "年" + CALENDAR_CHANGED)


@transaction.atomic
def replan_weeks(
    *, today: datetime.date | None = None, years: set[int] | None = None, reason: str = CALENDAR_CHANGED
) -> list[NoMeetingWeek]:
    """Bring every unconfirmed week that has not begun (of ``years``, when given) to its default
    dates on the stored calendar, provisional or not. A confirmed week is the office's decision and
    is left alone. A week the office has started to fill keeps its dates and the office is told
    instead (``_replan_week``). Rows are locked: the daily run and a calendar change at once re-plan
    a week once. Returns the weeks changed."""
    today = today or timezone.localdate()
    weeks = NoMeetingWeek.objects.select_for_update().filter(confirmed=False, starts_on__gt=today).order_by("month")
    if years is not None:
        weeks = weeks.filter(month__year__in=years)
    rows = list(weeks)
    if not rows:
        return []
    calendar = load_calendar(rows[0].month, _last_day(rows[-1].month))
    return [week for week in rows if _replan_week(week, week_dates(week.month, calendar), today=today, reason=reason)]


def _replan_week(week: NoMeetingWeek, dates: WeekDates, *, today: datetime.date, reason: str) -> bool:
    """Move a locked, unconfirmed week not yet begun to ``dates``, or keep it and tell the office
    why. Returns whether the week changed."""
    if week.confirmed or week.starts_on <= today:
        return False
    if (week.starts_on, week.ends_on) == (dates.starts_on, dates.ends_on):
        if week.provisional == dates.provisional:
            return False
        week.provisional = dates.provisional
        week.save(update_fields=["provisional"])
        return True
    problem = _why_week_stays(week, dates, today)
    if problem:
        _tell_office_week_kept(week, dates, problem=problem, reason=reason)
        return False
    week.starts_on, week.ends_on, week.provisional = dates.starts_on, dates.ends_on, dates.provisional
    week.save(update_fields=["starts_on", "ends_on", "provisional"])
    return True


def _why_week_stays(week: NoMeetingWeek, dates: WeekDates, today: datetime.date) -> str:
    """Why a week may not follow the calendar by itself: the new dates have begun, leaders were
    rostered for the dates they were given (a roster row has no date of its own: it is for the
    week's dates), or a visit already recorded would fall outside (as ``confirm_week`` refuses)."""
    if dates.starts_on <= today:
        return f"新日期自{dates.starts_on:%Y年%m月%d日}开始，已来不及调整"
    rostered = week.roster.count()
    if rostered:
        return f"已安排 {rostered} 位县领导按原日期下访"
    outside = week.visits.exclude(held_on__gte=dates.starts_on, held_on__lte=dates.ends_on).order_by("held_on").first()
    if outside is not None:
        return f"已登记的接访活动（{outside.held_on:%Y-%m-%d}）不在新日期内"
    return ""


def _tell_office_week_kept(week: NoMeetingWeek, dates: WeekDates, *, problem: str, reason: str) -> None:
    """Every active member of 信访局, once per week and proposed dates (the key 2027092630: the
    dates proposed; a rerun of the daily scheduler tells nobody twice)."""
    office = Q(
        membership__department__channel=Channel.CITIZEN,
        membership__department__kind=Department.Kind.OFFICE,
        membership__department__active=True,
    )
    members = get_user_model().objects.filter(office, is_active=True).values_list("pk", flat=True).distinct()
    key = int(f"{dates.starts_on:%Y%m%d}{dates.ends_on:%d}")
    title = f"{week}未自动调整，请核对"
    body = (
        f"因{reason}，{week}按默认应为{dates.starts_on:%Y年%m月%d日}至{dates.ends_on:%Y年%m月%d日}，"
        f"但{problem}，仍为{week.starts_on:%Y年%m月%d日}至{week.ends_on:%Y年%m月%d日}。"
        "请核对后在无会周页面调整日期并确认。"
    )
    Notification.objects.bulk_create(
        [Notification(recipient_id=pk, kind=KEPT_KIND, deadline_version=key, title=title, body=body) for pk in members],
        ignore_conflicts=True,
    )
    queue_after_commit()


@transaction.atomic
def confirm_week(
    *, actor: Any, week: NoMeetingWeek, starts_on: datetime.date | None = None, ends_on: datetime.date | None = None
) -> NoMeetingWeek:
    """The petitions bureau or an administrator confirms the week, moving it when both dates are
    given. The week must stay within its month and visits already recorded must stay within it."""
    _require_planner(actor)
    week = NoMeetingWeek.objects.select_for_update().get(pk=week.pk)
    if (starts_on is None) != (ends_on is None):
        raise InvalidInput("调整无会周时需同时填写开始和结束日期。", field="starts_on")
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            raise InvalidInput("结束日期不能早于开始日期。", field="ends_on")
        if (starts_on.year, starts_on.month) != (week.month.year, week.month.month) or (
            ends_on.year,
            ends_on.month,
        ) != (week.month.year, week.month.month):
            raise InvalidInput(f"无会周必须在{week.month:%Y年%m月}之内。", field="starts_on")
        if (ends_on - starts_on).days > 9:
            raise InvalidInput("无会周不能超过十天。", field="ends_on")
        outside = week.visits.exclude(held_on__gte=starts_on, held_on__lte=ends_on).order_by("held_on").first()
        if outside is not None:
            raise InvalidInput(
                f"已登记的接访活动（{outside.held_on:%Y-%m-%d}）不在调整后的日期内，请先调整该活动。", field="starts_on"
            )
        week.starts_on, week.ends_on = starts_on, ends_on
        # A date an administrator chose is no longer the Monday–Friday guess.
        week.provisional = False
    week.confirmed, week.confirmed_by, week.confirmed_at = True, actor, timezone.now()
    week.save()
    return week


@transaction.atomic
def set_case_of_week(*, actor: Any, week: NoMeetingWeek, issue: Issue | None) -> NoMeetingWeek:
    """一周一案: one issue is singled out per week (``None`` clears it)."""
    _require_planner(actor)
    if issue is not None and issue.channel != Channel.CITIZEN:
        raise InvalidInput("一周一案只能选择政民直通车的诉求。", field="issue")
    week = NoMeetingWeek.objects.select_for_update().get(pk=week.pk)
    week.case_of_week = issue
    week.save(update_fields=["case_of_week"])
    return week


# --- the roster ----------------------------------------------------------------------------------


def leader_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _check_leader(leader: Any, *, field: str = "leader") -> None:
    if not leader.is_active:
        raise InvalidInput(f"县领导“{leader_name(leader)}”的账号已停用，不能排入无会周。", field=field)
    if not leader.groups.filter(name=access.GROUP_NAMES[access.Role.LEADER]).exists():
        raise InvalidInput(f"“{leader_name(leader)}”不是县领导。", field=field)


def _check_township(township: Department, *, field: str = "township") -> None:
    if township.kind != Department.Kind.TOWNSHIP:
        raise InvalidInput(f"“{township.name}”不是乡镇。", field=field)
    if not township.active:
        raise InvalidInput(f"乡镇“{township.name}”已停用。", field=field)


def _check_companions(departments: Sequence[Department]) -> None:
    for dept in departments:
        if not dept.active:
            raise InvalidInput(f"单位“{dept.name}”已停用。", field="departments")
        if dept.kind == Department.Kind.OFFICE:
            raise InvalidInput("直通车办公室不能作为随行部门。", field="departments")


def _save_roster_entry(entry: RosterEntry, departments: Sequence[Department]) -> RosterEntry:
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise InvalidInput(f"{entry.week}已安排县领导到{entry.township.name}。", field="township") from None
    entry.departments.set(departments)
    return entry


@transaction.atomic
def add_roster_entry(
    *, actor: Any, week: NoMeetingWeek, leader: Any, township: Department, departments: Sequence[Department] = ()
) -> RosterEntry:
    _require_planner(actor)
    _check_leader(leader)
    _check_township(township)
    _check_companions(departments)
    return _save_roster_entry(RosterEntry(week=week, leader=leader, township=township), departments)


@transaction.atomic
def update_roster_entry(
    *, actor: Any, entry: RosterEntry, leader: Any, township: Department, departments: Sequence[Department] = ()
) -> RosterEntry:
    """Change a row of the roster: the same checks as adding it (an inactive leader is refused)."""
    _require_planner(actor)
    _check_leader(leader)
    _check_township(township)
    _check_companions(departments)
    entry = RosterEntry.objects.select_for_update().select_related("week").get(pk=entry.pk)
    entry.leader, entry.township = leader, township
    return _save_roster_entry(entry, departments)


@transaction.atomic
def remove_roster_entry(*, actor: Any, entry: RosterEntry) -> None:
    _require_planner(actor)
    entry.delete()


# --- visits --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingData:
    """A courtyard meeting (院落会议) held during a visit."""

    attendance: int
    outcome: str
    place: str = ""


def _check_visit(
    *,
    week: NoMeetingWeek,
    kind: str,
    township: Department,
    held_on: datetime.date,
    village: Village | None,
    leader: Any,
    cases: Sequence[Issue],
    lawyer_present: bool,
    lawyer_name: str,
) -> None:
    if kind not in Visit.Kind.values:
        raise InvalidInput(f"未知的接访形式：{kind}", field="kind")
    _check_township(township)
    if not week.starts_on <= held_on <= week.ends_on:
        raise InvalidInput(
            f"接访日期必须在本月无会周内（{week.starts_on:%Y-%m-%d} 至 {week.ends_on:%Y-%m-%d}）。", field="held_on"
        )
    if kind == Visit.Kind.VILLAGE and village is None:
        raise InvalidInput("进村走访须选择村。", field="village")
    if village is not None and village.township_id != township.pk:
        raise InvalidInput(f"{village.name}不属于{township.name}。", field="village")
    if village is not None and not village.active:
        raise InvalidInput(f"{village.name}已停用。", field="village")
    if leader is not None:
        _check_leader(leader)
    if lawyer_name and not lawyer_present:
        raise InvalidInput("未勾选律师参与时不应填写律师姓名。", field="lawyer_name")
    if lawyer_present and not lawyer_name:
        raise InvalidInput("律师参与时请填写律师姓名。", field="lawyer_name")
    for issue in cases:
        if issue.channel != Channel.CITIZEN:
            raise InvalidInput(f"{issue.ref}不是政民直通车的诉求，不能作为带案下访的案件。", field="cases")


@transaction.atomic
def record_visit(
    *,
    actor: Any,
    week: NoMeetingWeek,
    kind: str,
    township: Department,
    held_on: datetime.date,
    village: Village | None = None,
    leader: Any = None,
    cases: Sequence[Issue] = (),
    lawyer_present: bool = False,
    lawyer_name: str = "",
    notes: str = "",
    meetings: Sequence[MeetingData] = (),
    case_of_week: Issue | None = None,
) -> Visit:
    """Record a collective reception or a village visit, with its courtyard meetings and, when
    given, the week's case (一周一案): all of it or nothing. A visit dated before today is one
    recorded afterwards (补录): it keeps ``recorded_on``, the day it was entered."""
    _require_planner(actor)
    lawyer_name = lawyer_name.strip()
    _check_visit(
        week=week,
        kind=kind,
        township=township,
        held_on=held_on,
        village=village,
        leader=leader,
        cases=cases,
        lawyer_present=lawyer_present,
        lawyer_name=lawyer_name,
    )
    today = timezone.localdate()
    visit = Visit.objects.create(
        week=week,
        kind=kind,
        township=township,
        village=village,
        held_on=held_on,
        # Entered after the day it took place: 补录 (issue 13 §3); its requests then run from its date.
        recorded_on=today if held_on < today else None,
        leader=leader,
        lawyer_present=lawyer_present,
        lawyer_name=lawyer_name,
        notes=notes.strip(),
        created_by=actor,
    )
    visit.cases.set(cases)
    for meeting in meetings:
        record_courtyard_meeting(
            actor=actor, visit=visit, attendance=meeting.attendance, outcome=meeting.outcome, place=meeting.place
        )
    if case_of_week is not None:
        set_case_of_week(actor=actor, week=week, issue=case_of_week)
    return visit


@transaction.atomic
def update_visit(
    *,
    actor: Any,
    visit: Visit,
    kind: str,
    township: Department,
    held_on: datetime.date,
    village: Village | None = None,
    leader: Any = None,
    cases: Sequence[Issue] = (),
    lawyer_present: bool = False,
    lawyer_name: str = "",
    notes: str = "",
    case_of_week: Issue | None = None,
) -> Visit:
    """Correct a recorded visit under the same rules (its date stays inside its week)."""
    _require_planner(actor)
    visit = Visit.objects.select_for_update().select_related("week").get(pk=visit.pk)
    lawyer_name = lawyer_name.strip()
    _check_visit(
        week=visit.week,
        kind=kind,
        township=township,
        held_on=held_on,
        village=village,
        leader=leader,
        cases=cases,
        lawyer_present=lawyer_present,
        lawyer_name=lawyer_name,
    )
    if visit.intakes.exists() and held_on != visit.held_on:
        # The requests raised there were received on the visit's date: their clocks run from it.
        raise InvalidInput("本次接访已登记现场诉求，不能再修改接访日期。", field="held_on")
    today = timezone.localdate()
    if held_on >= today:
        visit.recorded_on = None
    elif held_on != visit.held_on:
        visit.recorded_on = today  # moved to a past date: entered after the day it took place
    visit.kind, visit.township, visit.village, visit.held_on = kind, township, village, held_on
    visit.leader, visit.lawyer_present, visit.lawyer_name = leader, lawyer_present, lawyer_name
    visit.notes = notes.strip()
    visit.save()
    visit.cases.set(cases)
    if case_of_week is not None:
        set_case_of_week(actor=actor, week=visit.week, issue=case_of_week)
    return visit


@transaction.atomic
def record_courtyard_meeting(
    *, actor: Any, visit: Visit, attendance: int, outcome: str, place: str = ""
) -> CourtyardMeeting:
    _require_planner(actor)
    if attendance is None or attendance < 1:
        raise InvalidInput("参会人数至少为 1 人。", field="attendance")
    if not outcome.strip():
        raise InvalidInput("请填写院落会议的结果。", field="outcome")
    return CourtyardMeeting.objects.create(
        visit=visit, attendance=attendance, outcome=outcome.strip(), place=place.strip()
    )


# --- villages ------------------------------------------------------------------------------------


def _check_village_name(township: Department, name: str, *, village: Village | None = None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("请填写村名。", field="name")
    same = Village.objects.filter(township=township, name=name)
    if village is not None:
        same = same.exclude(pk=village.pk)
    if same.exists():
        raise InvalidInput(f"{township.name}已有{name}。", field="name")
    return name


@transaction.atomic
def add_village(*, actor: Any, township: Department, name: str) -> Village:
    _require_planner(actor)
    _check_township(township)
    return Village.objects.create(township=township, name=_check_village_name(township, name))


@transaction.atomic
def update_village(*, actor: Any, village: Village, name: str, active: bool) -> Village:
    """Rename a village or retire it (villages are never deleted: petitions keep pointing at them)."""
    _require_planner(actor)
    village = Village.objects.select_for_update().select_related("township").get(pk=village.pk)
    village.name = _check_village_name(village.township, name, village=village)
    village.active = active
    village.save(update_fields=["name", "active"])
    return village


# --- requests ------------------------------------------------------------------------------------


@transaction.atomic
def register_citizen_issue(
    *,
    actor: Any,
    village: Village | None = None,
    week: NoMeetingWeek | None = None,
    visit: Visit | None = None,
    lead: Department | None = None,
    co: Sequence[Department] = (),
    accused_department: Department | None = None,
    duplicate: services.DuplicateChoice | None = None,
    **registration: Any,
) -> Issue:
    """A petition of the 政民 channel with its intake record (visit, week, village): registered and,
    when a lead department is given, assigned on the channel's default policy (60 calendar days)."""
    if village is not None and not village.active:
        raise InvalidInput(f"{village.name}已停用。", field="village")
    issue = services.register_at_intake(
        actor=actor,
        duplicate=duplicate,
        channel=Channel.CITIZEN,
        lead=lead,
        co=co,
        accused_department=accused_department,
        **registration,
    )
    if visit is not None:
        township: Department | None = visit.township
        week = visit.week
    else:
        township = village.township if village else None
    CitizenIntake.objects.create(issue=issue, week=week, visit=visit, village=village, township=township)
    return issue


TITLE_LENGTH = 30


@dataclass(frozen=True)
class VisitRequest:
    """One request raised at a visit, as entered right after it."""

    requester_name: str
    category: Any  # feedback.models.Category
    lead: Department
    content: str
    requester_phone: str = ""
    village: Village | None = None
    nature: str = Issue.Nature.HELP
    accused_department: Department | None = None
    co: Sequence[Department] = ()
    title: str = ""
    duplicate: services.DuplicateChoice | None = None  # 并入 a suggested issue, or kept apart (issue 19)


@transaction.atomic
def record_visit_requests(*, actor: Any, visit: Visit, rows: Sequence[VisitRequest]) -> list[Issue]:
    """Register and assign every request raised at a visit, all or nothing.

    Each row runs in its own savepoint so that every bad row is reported, not only the first; any
    error then rolls the whole batch back (the outer transaction). The requests are received on the
    visit's date (and assigned on it when the visit was recorded afterwards); each assignment's clock
    is the 政民 default policy (60 calendar days)."""
    _require_planner(actor)
    if visit.held_on > timezone.localdate():
        raise InvalidInput("接访活动尚未进行，不能登记现场诉求。", field="visit")
    if not rows:
        raise InvalidInput("请至少填写一行诉求。")
    # A visit recorded afterwards: its requests were handed to the departments there that day, so
    # they are assigned on the visit's date and their deadlines run from it (decision 0610); the
    # steps already past are recorded, not announced. A visit entered live keeps today's date.
    assigned_on = visit.held_on if visit.recorded_on else None

    def register(row: VisitRequest) -> Issue:
        merging = row.duplicate is not None and row.duplicate.merging
        if row.lead is None and not merging:
            raise InvalidInput("请选择主办单位。", field="lead")
        content = row.content.strip()
        return register_citizen_issue(
            actor=actor,
            duplicate=row.duplicate,
            visit=visit,
            village=row.village,
            lead=row.lead,
            co=row.co,
            accused_department=row.accused_department,
            category=row.category,
            requester=services.RequesterData(name=row.requester_name, phone=row.requester_phone),
            title=row.title.strip() or title_from(content, TITLE_LENGTH),
            content=content,
            received_on=visit.held_on,
            nature=row.nature,
            assigned_on=assigned_on,
        )

    issues = all_or_none(rows, register)
    # assign_issue moved each issue on a locked copy: hand back the rows as stored, in row order.
    fresh = Issue.objects.in_bulk([i.pk for i in issues])
    return [fresh[i.pk] for i in issues]


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietVillageYear:
    year: int
    villages: int  # active villages counted
    quiet: int | None  # 无访村; None for a year the channel recorded nothing in (see recorded_in)


def recorded_in(start: datetime.date, end: datetime.date) -> bool:
    """Whether the channel recorded anything in [start, end]: a 政民 issue received or a visit held.
    A period without either is one the portal was not used for (before it, or a gap), not one in
    which every village was quiet."""
    return (
        Issue.objects.filter(channel=Channel.CITIZEN, received_on__gte=start, received_on__lte=end).exists()
        or Visit.objects.filter(held_on__gte=start, held_on__lte=end).exists()
    )


def quiet_villages(years: Sequence[int]) -> list[QuietVillageYear]:
    """无访村 per year. Definition (ours; the county may refine it): a village is 无访 in a year when
    no 政民 issue whose intake names that village (``CitizenIntake.village``) was received
    (``Issue.received_on``) in that year. Every 政民 issue is a petition that reached county level,
    so any such issue makes its village 有访. Counted over the villages active today, in one query,
    for the years the channel recorded anything in (``quiet`` is None for the others; two more)."""
    if not years:
        return []
    aggregates: dict[str, Any] = {"total": Count("pk")}
    for year in years:
        petitioned = CitizenIntake.objects.filter(
            village=OuterRef("pk"), issue__channel=Channel.CITIZEN, issue__received_on__year=year
        )
        aggregates[f"y{year}"] = Count("pk", filter=~Q(Exists(petitioned)))
    counts = Village.objects.filter(active=True).aggregate(**aggregates)
    first, last = datetime.date(min(years), 1, 1), datetime.date(max(years), 12, 31)
    issues = Issue.objects.filter(channel=Channel.CITIZEN, received_on__gte=first, received_on__lte=last)
    visits = Visit.objects.filter(held_on__gte=first, held_on__lte=last)
    recorded = {d.year for d in issues.dates("received_on", "year")} | {d.year for d in visits.dates("held_on", "year")}
    return [
        QuietVillageYear(year=y, villages=counts["total"], quiet=counts[f"y{y}"] if y in recorded else None)
        for y in years
    ]


@dataclass(frozen=True)
class VisitFigures:
    """The channel's own activity in a period (the report's "county leaders led N visits")."""

    weeks: int  # no-meeting weeks begun in the period
    visits: int
    led_visits: int  # visits led by a county leader
    village_visits: int
    lawyer_visits: int
    cases: int  # distinct issues brought down (带案下访)
    meetings: int  # courtyard meetings (院落会议)
    attendance: int  # people at them
    requests: int  # requests registered at the visits


def visit_figures(start: datetime.date, end: datetime.date) -> VisitFigures:
    """Counts over the visits held in [start, end] (dates inclusive). Three queries."""
    weeks = NoMeetingWeek.objects.filter(starts_on__gte=start, starts_on__lte=end).count()
    visits = Visit.objects.filter(held_on__gte=start, held_on__lte=end).aggregate(
        visits=Count("pk", distinct=True),
        led=Count("pk", distinct=True, filter=Q(leader__isnull=False)),
        village=Count("pk", distinct=True, filter=Q(kind=Visit.Kind.VILLAGE)),
        lawyer=Count("pk", distinct=True, filter=Q(lawyer_present=True)),
        requests=Count("intakes", distinct=True),
        cases=Count("cases", distinct=True),
    )
    meetings = CourtyardMeeting.objects.filter(visit__held_on__gte=start, visit__held_on__lte=end).aggregate(
        meetings=Count("pk"), attendance=Sum("attendance")
    )
    return VisitFigures(
        weeks=weeks,
        visits=visits["visits"],
        led_visits=visits["led"],
        village_visits=visits["village"],
        lawyer_visits=visits["lawyer"],
        cases=visits["cases"],
        meetings=meetings["meetings"],
        attendance=meetings["attendance"] or 0,
        requests=visits["requests"],
    )


def leaders() -> Any:
    return get_user_model().objects.filter(groups__name=access.GROUP_NAMES[access.Role.LEADER]).distinct()
