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
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from feedback import access, services
from feedback.errors import InvalidInput, NotPermitted
from feedback.models import Channel, Department, Issue
from feedback.workcalendar import load_calendar

from .models import CitizenIntake, CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit

WEEK_LENGTH = 5  # DOMAIN.md: the last five working days of the month


def can_plan(user: Any) -> bool:
    """The petitions bureau (信访局, the 政民 office) and administrators plan; leaders only read."""
    scope = access.scope_of(user)
    return scope.role == access.Role.ADMIN or (scope.role == access.Role.OFFICE and scope.channel == Channel.CITIZEN)


def can_read(user: Any) -> bool:
    return can_plan(user) or access.scope_of(user).role == access.Role.LEADER


def _require_planner(actor: Any) -> None:
    if actor is not None and not can_plan(actor):
        raise NotPermitted("只有县信访局或系统管理员可以执行此操作。")


def _require_admin(actor: Any) -> None:
    if actor is not None and access.scope_of(actor).role != access.Role.ADMIN:
        raise NotPermitted("只有系统管理员可以确认或调整无会周。")


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
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    calendar = load_calendar(first, last)
    days: list[datetime.date] = []
    day = last
    while len(days) < WEEK_LENGTH and day >= first:
        if calendar.is_workday(day):
            days.append(day)
        day -= datetime.timedelta(days=1)
    return WeekDates(starts_on=days[-1], ends_on=days[0], provisional=not calendar.is_known(first))


@transaction.atomic
def plan_week(*, actor: Any, month: datetime.date) -> NoMeetingWeek:
    """Create the month's week at its default dates, unconfirmed (idempotent: an existing week is kept)."""
    _require_planner(actor)
    first = month.replace(day=1)
    dates = default_week(first)
    week, _ = NoMeetingWeek.objects.get_or_create(
        month=first, defaults={"starts_on": dates.starts_on, "ends_on": dates.ends_on,
                               "provisional": dates.provisional})
    return week


@transaction.atomic
def confirm_week(*, actor: Any, week: NoMeetingWeek, starts_on: datetime.date | None = None,
                 ends_on: datetime.date | None = None) -> NoMeetingWeek:
    """An administrator confirms the week, moving it when both dates are given. The week must stay
    within its month and visits already recorded must stay within it."""
    _require_admin(actor)
    week = NoMeetingWeek.objects.select_for_update().get(pk=week.pk)
    if (starts_on is None) != (ends_on is None):
        raise InvalidInput("调整无会周时需同时填写开始和结束日期。", field="starts_on")
    if starts_on is not None and ends_on is not None:
        if ends_on < starts_on:
            raise InvalidInput("结束日期不能早于开始日期。", field="ends_on")
        if (starts_on.year, starts_on.month) != (week.month.year, week.month.month) or \
                (ends_on.year, ends_on.month) != (week.month.year, week.month.month):
            raise InvalidInput(f"无会周必须在{week.month:%Y年%m月}之内。", field="starts_on")
        if (ends_on - starts_on).days > 9:
            raise InvalidInput("无会周不能超过十天。", field="ends_on")
        outside = week.visits.exclude(held_on__gte=starts_on, held_on__lte=ends_on).order_by("held_on").first()
        if outside is not None:
            raise InvalidInput(f"已登记的接访活动（{outside.held_on:%Y-%m-%d}）不在调整后的日期内，"
                               "请先调整该活动。", field="starts_on")
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


def _check_leader(leader: Any, *, field: str = "leader") -> None:
    if not leader.is_active:
        raise InvalidInput(f"县领导“{leader.get_full_name() or leader.username}”的账号已停用，不能排入无会周。",
                           field=field)
    if not leader.groups.filter(name=access.GROUP_NAMES[access.Role.LEADER]).exists():
        raise InvalidInput(f"“{leader.get_full_name() or leader.username}”不是县领导。", field=field)


def _check_township(township: Department, *, field: str = "township") -> None:
    if township.kind != Department.Kind.TOWNSHIP:
        raise InvalidInput(f"“{township.name}”不是乡镇。", field=field)
    if not township.active:
        raise InvalidInput(f"乡镇“{township.name}”已停用。", field=field)


@transaction.atomic
def add_roster_entry(*, actor: Any, week: NoMeetingWeek, leader: Any, township: Department,
                     departments: Sequence[Department] = ()) -> RosterEntry:
    _require_planner(actor)
    _check_leader(leader)
    _check_township(township)
    for dept in departments:
        if not dept.active:
            raise InvalidInput(f"单位“{dept.name}”已停用。", field="departments")
        if dept.kind == Department.Kind.OFFICE:
            raise InvalidInput("直通车办公室不能作为随行部门。", field="departments")
    try:
        with transaction.atomic():
            entry = RosterEntry.objects.create(week=week, leader=leader, township=township)
    except IntegrityError:
        raise InvalidInput(f"{week}已安排县领导到{township.name}。", field="township") from None
    entry.departments.set(departments)
    return entry


@transaction.atomic
def remove_roster_entry(*, actor: Any, entry: RosterEntry) -> None:
    _require_planner(actor)
    entry.delete()


# --- visits --------------------------------------------------------------------------------------


@transaction.atomic
def record_visit(*, actor: Any, week: NoMeetingWeek, kind: str, township: Department, held_on: datetime.date,
                 village: Village | None = None, leader: Any = None, cases: Sequence[Issue] = (),
                 lawyer_present: bool = False, lawyer_name: str = "", notes: str = "") -> Visit:
    _require_planner(actor)
    if kind not in Visit.Kind.values:
        raise InvalidInput(f"未知的接访形式：{kind}", field="kind")
    _check_township(township)
    if not week.starts_on <= held_on <= week.ends_on:
        raise InvalidInput(f"接访日期必须在本月无会周内（{week.starts_on:%Y-%m-%d} 至 {week.ends_on:%Y-%m-%d}）。",
                           field="held_on")
    if kind == Visit.Kind.VILLAGE and village is None:
        raise InvalidInput("进村走访须选择村。", field="village")
    if village is not None and village.township_id != township.pk:
        raise InvalidInput(f"{village.name}不属于{township.name}。", field="village")
    if village is not None and not village.active:
        raise InvalidInput(f"{village.name}已停用。", field="village")
    if leader is not None:
        _check_leader(leader)
    lawyer_name = lawyer_name.strip()
    if lawyer_name and not lawyer_present:
        raise InvalidInput("未勾选律师参与时不应填写律师姓名。", field="lawyer_name")
    if lawyer_present and not lawyer_name:
        raise InvalidInput("律师参与时请填写律师姓名。", field="lawyer_name")
    for issue in cases:
        if issue.channel != Channel.CITIZEN:
            raise InvalidInput(f"{issue.ref}不是政民直通车的诉求，不能作为带案下访的案件。", field="cases")
    visit = Visit.objects.create(week=week, kind=kind, township=township, village=village, held_on=held_on,
                                 leader=leader, lawyer_present=lawyer_present, lawyer_name=lawyer_name,
                                 notes=notes.strip(), created_by=actor)
    visit.cases.set(cases)
    return visit


@transaction.atomic
def record_courtyard_meeting(*, actor: Any, visit: Visit, attendance: int, outcome: str,
                             place: str = "") -> CourtyardMeeting:
    _require_planner(actor)
    if attendance < 1:
        raise InvalidInput("参会人数至少为 1 人。", field="attendance")
    if not outcome.strip():
        raise InvalidInput("请填写院落会议的结果。", field="outcome")
    return CourtyardMeeting.objects.create(visit=visit, attendance=attendance, outcome=outcome.strip(),
                                           place=place.strip())


# --- villages ------------------------------------------------------------------------------------


@transaction.atomic
def add_village(*, actor: Any, township: Department, name: str) -> Village:
    _require_planner(actor)
    _check_township(township)
    if not name.strip():
        raise InvalidInput("请填写村名。", field="name")
    if Village.objects.filter(township=township, name=name.strip()).exists():
        raise InvalidInput(f"{township.name}已有{name.strip()}。", field="name")
    return Village.objects.create(township=township, name=name.strip())


@transaction.atomic
def register_citizen_issue(*, actor: Any, village: Village | None = None, week: NoMeetingWeek | None = None,
                           lead: Department | None = None, co: Sequence[Department] = (),
                           accused_department: Department | None = None, **registration: Any) -> Issue:
    """A petition of the 政民 channel with its intake record (village, week)."""
    issue = services.register_and_assign_issue(actor=actor, channel=Channel.CITIZEN, lead=lead, co=co,
                                               accused_department=accused_department, **registration)
    CitizenIntake.objects.create(issue=issue, week=week, village=village,
                                 township=village.township if village else None)
    return issue


@dataclass(frozen=True)
class QuietVillageYear:
    year: int
    villages: int  # active villages counted
    quiet: int  # 无访村


def quiet_villages(years: Sequence[int]) -> list[QuietVillageYear]:
    """无访村 per year. Definition (ours; the county may refine it): a village is 无访 in a year when
    no 政民 issue whose intake names that village (``CitizenIntake.village``) was received
    (``Issue.received_on``) in that year. Every 政民 issue is a petition that reached county level,
    so any such issue makes its village 有访. Counted over the villages active today, in one query."""
    aggregates: dict[str, Any] = {"total": Count("pk")}
    for year in years:
        petitioned = CitizenIntake.objects.filter(village=OuterRef("pk"), issue__channel=Channel.CITIZEN,
                                                  issue__received_on__year=year)
        aggregates[f"y{year}"] = Count("pk", filter=~Q(Exists(petitioned)))
    counts = Village.objects.filter(active=True).aggregate(**aggregates)
    return [QuietVillageYear(year=y, villages=counts["total"], quiet=counts[f"y{y}"]) for y in years]


def leaders() -> Any:
    return get_user_model().objects.filter(groups__name=access.GROUP_NAMES[access.Role.LEADER]).distinct()
