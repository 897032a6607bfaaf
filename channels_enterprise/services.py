"""The enterprise channel's write path. Issues are created only through ``feedback.services``."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from feedback import services as core
from feedback.access import GROUP_NAMES, Role, scope_of
from feedback.errors import InvalidInput, NotPermitted
from feedback.models import Category, Channel, Department, Issue, Notification, Requester
from feedback.notifications import queue_after_commit
from feedback.workcalendar import load_calendar

from .creditcode import credit_code_problem, normalise
from .models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake
from .schedule import months_ahead, plan_month

NOTICE_KIND = "enterprise_day_notice"
MONTHS_AHEAD = 1  # the coming month's day exists a month ahead


def can_manage(user: Any) -> bool:
    """经开区 (the enterprise channel's office) or an administrator."""
    scope = scope_of(user)
    return scope.role == Role.ADMIN or (scope.role == Role.OFFICE and scope.channel == Channel.ENTERPRISE)


def _require_manager(actor: Any) -> None:
    if actor is not None and not can_manage(actor):
        raise NotPermitted("只有经开区管委会或系统管理员可以执行此操作。")


# ---- the registry ---------------------------------------------------------------------------

@transaction.atomic
def register_enterprise(*, actor: Any, name: str, credit_code: str, park: str = "", sector: str = "",
                        contact_name: str = "", contact_phone: str = "") -> Enterprise:
    _require_manager(actor)
    if not name.strip():
        raise InvalidInput("请填写企业名称。", field="name")
    code = normalise(credit_code)
    problem = credit_code_problem(code)
    if problem:
        raise InvalidInput(problem, field="credit_code")
    phone = contact_phone.strip().replace(" ", "").replace("-", "")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
        raise InvalidInput("联系电话格式不正确，应为 7–15 位数字。", field="contact_phone")
    if Enterprise.objects.filter(credit_code=code).exists():
        raise InvalidInput(f"统一社会信用代码“{code}”已登记。", field="credit_code")
    try:
        with transaction.atomic():
            return Enterprise.objects.create(name=name.strip(), credit_code=code, park=park.strip(),
                                             sector=sector.strip(), contact_name=contact_name.strip(),
                                             contact_phone=phone)
    except IntegrityError:
        raise InvalidInput(f"统一社会信用代码“{code}”已登记。", field="credit_code") from None


# ---- the schedule ---------------------------------------------------------------------------

@transaction.atomic
def schedule_enterprise_days(*, today: datetime.date | None = None,
                             months: int = MONTHS_AHEAD) -> list[EnterpriseDay]:
    """Create this month's and the coming months' enterprise days that do not exist yet, and re-date
    provisional days not yet held whose calendar has since been loaded. Idempotent: one day per month
    (unique ``month``), so a rerun, or two workers at once, create nothing twice. Returns the days
    created or re-dated."""
    today = today or timezone.localdate()
    wanted = months_ahead(today, months)
    first = datetime.date(*wanted[0], 1) - datetime.timedelta(days=20)
    calendar = load_calendar(first, datetime.date(*wanted[-1], 28) + datetime.timedelta(days=40))
    existing = {d.month: d for d in EnterpriseDay.objects.filter(month__gte=datetime.date(*wanted[0], 1))}
    changed = []
    for year, month in wanted:
        plan = plan_month(year, month, calendar)
        if plan.held_on < today:
            continue  # this month's day has passed: nothing to plan
        day = existing.get(plan.month)
        if day is None:
            day, created = EnterpriseDay.objects.get_or_create(
                month=plan.month, defaults={"held_on": plan.held_on, "notice_on": plan.notice_on,
                                            "provisional": plan.provisional, "place": "经开区企业服务中心"})
            if created:
                changed.append(day)
        elif day.provisional and not plan.provisional and day.held_on >= today:
            day.held_on, day.notice_on, day.provisional = plan.held_on, plan.notice_on, False
            day.save(update_fields=["held_on", "notice_on", "provisional"])
            changed.append(day)
    return changed


# ---- duty -----------------------------------------------------------------------------------

def _check_leaders(leaders: Sequence[Any]) -> None:
    leader_group = GROUP_NAMES[Role.LEADER]
    ids = [u.pk for u in leaders]
    valid = set(get_user_model().objects.filter(pk__in=ids, groups__name=leader_group)
                .values_list("pk", "is_active"))
    for user in leaders:
        name = user.get_full_name() or user.get_username()
        if (user.pk, False) in valid:
            raise InvalidInput(f"县领导“{name}”的账号已停用，不能安排带队。", field="leaders")
        if (user.pk, True) not in valid:
            raise InvalidInput(f"“{name}”不是县领导，不能安排带队。", field="leaders")


@transaction.atomic
def set_day_duty(*, actor: Any, day: EnterpriseDay, leaders: Sequence[Any] = (),
                 departments: Sequence[Department] = (), enterprises: Sequence[Enterprise] = (),
                 place: str = "", note: str = "") -> EnterpriseDay:
    """Who is on duty at an enterprise day, where, and which enterprises are visited."""
    _require_manager(actor)
    _check_leaders(leaders)
    for dept in departments:
        if not dept.active:
            raise InvalidInput(f"单位“{dept.name}”已停用。", field="departments")
    for ent in enterprises:
        if not ent.active:
            raise InvalidInput(f"企业“{ent.name}”已不在册。", field="enterprises")
    day = EnterpriseDay.objects.select_for_update().get(pk=day.pk)
    day.place, day.note = place.strip(), note.strip()
    day.save(update_fields=["place", "note"])
    day.leaders.set(leaders)
    day.departments.set(departments)
    day.enterprises.set(enterprises)
    return day


# ---- the notice -----------------------------------------------------------------------------

def _notice_recipients(day: EnterpriseDay) -> list[int]:
    office = Q(membership__department__channel=Channel.ENTERPRISE,
               membership__department__kind=Department.Kind.OFFICE, membership__department__active=True)
    on_duty = Q(pk__in=day.leaders.values("pk"))
    return list(get_user_model().objects.filter(office | on_duty, is_active=True)
                .values_list("pk", flat=True).distinct())


def send_enterprise_day_notices(*, today: datetime.date | None = None) -> int:
    """Tell the 经开区 office and the leaders on duty, from the 3rd working day before each day.

    Run daily: each person is told once per day (the notification's unique key: recipient, kind and
    the day's date as ``deadline_version``); a leader put on duty after the first run is told by the
    next. Returns the notifications created."""
    today = today or timezone.localdate()
    created = 0
    for day in EnterpriseDay.objects.in_notice_window(today).prefetch_related("leaders", "departments"):
        with transaction.atomic():
            key = int(day.held_on.strftime("%Y%m%d"))
            recipients = _notice_recipients(day)
            already = set(Notification.objects.filter(kind=NOTICE_KIND, deadline_version=key,
                                                      assignment__isnull=True, recipient_id__in=recipients)
                          .values_list("recipient_id", flat=True))
            title, body = _notice_text(day)
            rows = [Notification(recipient_id=pk, kind=NOTICE_KIND, deadline_version=key, title=title, body=body)
                    for pk in recipients if pk not in already]
            # A concurrent run that got there first hits the unique key and is skipped.
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            EnterpriseDay.objects.filter(pk=day.pk, noticed_at__isnull=True).update(noticed_at=timezone.now())
            if rows:
                queue_after_commit()
            created += len(rows)
    return created


def _notice_text(day: EnterpriseDay) -> tuple[str, str]:
    leaders = "、".join(u.get_full_name() or u.get_username() for u in day.leaders.all()) or "待定"
    depts = "、".join(d.name for d in day.departments.all()) or "待定"
    when = f"{day.held_on:%Y年%m月%d日}"
    extra = "（日期暂定：该年节假日安排尚未载入）" if day.provisional else ""
    return (f"{when}企业家日通知",
            f"{when}{extra}为企业家日，现场办公地点：{day.place or '待定'}；带队县领导：{leaders}；随行部门：{depts}。")


# ---- problems and joint consultation --------------------------------------------------------

@dataclass(frozen=True)
class ProblemData:
    enterprise: Enterprise
    category: Category
    title: str
    content: str
    nature: str = Issue.Nature.HELP
    onsite_answer: str = ""
    lead: Department | None = None
    co: Sequence[Department] = ()


@transaction.atomic
def raise_problems(*, actor: Any, day: EnterpriseDay, problems: Sequence[ProblemData]) -> list[EnterpriseIntake]:
    """The problems enterprises raised at one enterprise day become issues (registered and, when a
    lead is given, assigned by the core), all or none. Their enterprises count as visited."""
    _require_manager(actor)
    if not problems:
        raise InvalidInput("请至少填写一个问题。", field="problems")
    if day.held_on > timezone.localdate():
        raise InvalidInput("企业家日尚未举行，不能登记现场问题。", field="day")
    intakes = []
    for problem in problems:
        ent = problem.enterprise
        if not ent.active:
            raise InvalidInput(f"企业“{ent.name}”已不在册。", field="enterprise")
        issue = core.register_and_assign_issue(
            actor=actor, channel=Channel.ENTERPRISE, category=problem.category,
            requester=core.RequesterData(name=ent.contact_name or ent.name, phone=ent.contact_phone,
                                         kind=Requester.Kind.ENTERPRISE, organization=ent.name),
            title=problem.title, content=problem.content, received_on=day.held_on, nature=problem.nature,
            onsite_answer=problem.onsite_answer, lead=problem.lead, co=problem.co,
        )
        intakes.append(EnterpriseIntake.objects.create(issue=issue, day=day, enterprise=ent,
                                                       enterprise_name=ent.name))
    day.enterprises.add(*{p.enterprise.pk for p in problems})
    return intakes


@transaction.atomic
def record_consultation(*, actor: Any, intake: EnterpriseIntake, held_on: datetime.date,
                        participants: Sequence[str], outcome: str) -> Consultation:
    """三长会诊 on one problem: when, who (county head, bureau heads, bank presidents), the outcome."""
    _require_manager(actor)
    names = [p.strip() for p in participants if p and p.strip()]
    if not names:
        raise InvalidInput("请填写参加会诊的人员。", field="participants")
    if not outcome.strip():
        raise InvalidInput("请填写会诊结果。", field="outcome")
    if held_on > timezone.localdate():
        raise InvalidInput("会诊日期不能晚于今天。", field="held_on")
    if held_on < intake.issue.received_on:
        raise InvalidInput("会诊日期不能早于问题受理日期。", field="held_on")
    return Consultation.objects.create(intake=intake, held_on=held_on, participants=names,
                                       outcome=outcome.strip(), recorded_by=actor)
