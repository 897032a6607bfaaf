"""The enterprise channel's write path. Issues are created only through ``feedback.services``."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from feedback import services as core
from feedback.access import GROUP_NAMES, Role, scope_of
from feedback.errors import BatchRejected, InvalidInput, NotPermitted
from feedback.models import Category, Channel, Department, Issue, Notification, Requester
from feedback.privacy import mask_phone
from feedback.services.batches import all_or_none
from feedback.services.notifications import queue_after_commit
from feedback.wording import title_from
from feedback.workcalendar import load_calendar

from .creditcode import credit_code_problem, normalise
from .models import Consultation, Enterprise, EnterpriseDay, EnterpriseDayChange, EnterpriseIntake, EnterpriseLog
from .schedule import PlannedDay, months_ahead, plan_month

NOTICE_KIND = "enterprise_day_notice"
# The corrected notice of a day moved after its notice went out; it counts as that date's notice.
MOVED_KIND = "enterprise_day_moved"
# The office told that a day keeps its date because the calendar now gives one already past.
KEPT_KIND = "enterprise_day_kept"
MONTHS_AHEAD = 1  # the coming month's day exists a month ahead
PLACE = "经开区企业服务中心"  # where the on-site office is held unless the duty names another place
TITLE_LENGTH = 40  # a problem entered without a title takes the start of its text
# The core's logger for personal data shown in full (feedback.views: the importable ledger export).
privacy_log = logging.getLogger("feedback.privacy")


def can_manage(user: Any) -> bool:
    """经开区 (the enterprise channel's office) or an administrator."""
    scope = scope_of(user)
    return scope.role == Role.ADMIN or (scope.role == Role.OFFICE and scope.channel == Channel.ENTERPRISE)


def _require_manager(actor: Any) -> None:
    if actor is not None and not can_manage(actor):
        raise NotPermitted("只有经开区管委会或系统管理员可以执行此操作。")


# ---- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseData:
    """An enterprise as entered, normalised by ``clean_enterprise``."""

    name: str
    credit_code: str
    park: str = ""
    sector: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    active: bool = True


# The fields a registry record shows, in order, with their labels.
REGISTRY_FIELDS = [
    ("name", "企业名称"),
    ("credit_code", "统一社会信用代码"),
    ("park", "所在园区"),
    ("sector", "行业"),
    ("contact_name", "联系人"),
    ("contact_phone", "联系电话"),
    ("active", "在册"),
]


def clean_enterprise(data: EnterpriseData, *, exclude_pk: int | None = None) -> EnterpriseData:
    """The checks of the registry, shared by the services and the admin form: a name, a credit
    code whose 18th character is its check (GB 32100-2015) and that is not registered yet, a phone
    of 7–15 digits. Raises InvalidInput naming the field; returns the normalised data."""
    if not data.name.strip():
        raise InvalidInput("请填写企业名称。", field="name")
    code = normalise(data.credit_code)
    problem = credit_code_problem(code)
    if problem:
        raise InvalidInput(problem, field="credit_code")
    phone = data.contact_phone.strip().replace(" ", "").replace("-", "")
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 15):
        raise InvalidInput("联系电话格式不正确，应为 7–15 位数字。", field="contact_phone")
    same = Enterprise.objects.filter(credit_code=code)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise InvalidInput(f"统一社会信用代码“{code}”已登记。", field="credit_code")
    return EnterpriseData(
        name=data.name.strip(),
        credit_code=code,
        park=data.park.strip(),
        sector=data.sector.strip(),
        contact_name=data.contact_name.strip(),
        contact_phone=phone,
        active=data.active,
    )


def _shown(field: str, value: Any) -> str:
    if field == "contact_phone":
        return mask_phone(value) if value else ""
    if field == "active":
        return "是" if value else "否"
    return str(value)


def _save_enterprise(enterprise: Enterprise, data: EnterpriseData) -> None:
    for field, _ in REGISTRY_FIELDS:
        setattr(enterprise, field, getattr(data, field))
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError:
        # Two clerks registering the same code at once: the unique index decides.
        raise InvalidInput(f"统一社会信用代码“{data.credit_code}”已登记。", field="credit_code") from None


@transaction.atomic
def register_enterprise(
    *,
    actor: Any,
    name: str,
    credit_code: str,
    park: str = "",
    sector: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Enterprise:
    _require_manager(actor)
    data = clean_enterprise(
        EnterpriseData(
            name=name,
            credit_code=credit_code,
            park=park,
            sector=sector,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
    )
    enterprise = Enterprise()
    _save_enterprise(enterprise, data)
    EnterpriseLog.objects.create(enterprise=enterprise, actor=actor, action=EnterpriseLog.Action.REGISTERED)
    return enterprise


@transaction.atomic
def update_enterprise(*, actor: Any, enterprise: Enterprise, data: EnterpriseData) -> Enterprise:
    """Correct a registry record, or take it off the register (``active=False``; never deleted).
    The change is recorded (old and new values, phones masked); saving unchanged data records nothing."""
    _require_manager(actor)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    data = clean_enterprise(data, exclude_pk=enterprise.pk)
    changes = [
        [label, _shown(field, getattr(enterprise, field)), _shown(field, getattr(data, field))]
        for field, label in REGISTRY_FIELDS
        if getattr(enterprise, field) != getattr(data, field)
    ]
    if not changes:
        return enterprise
    _save_enterprise(enterprise, data)
    EnterpriseLog.objects.create(
        enterprise=enterprise, actor=actor, action=EnterpriseLog.Action.UPDATED, changes=changes
    )
    return enterprise


def can_see_phone(user: Any) -> bool:
    """Who may be shown a contact phone in full: those who call enterprises back (the channel's
    office) and administrators, as for the requesters' phones of the core (feedback.views ledger export)."""
    return can_manage(user)


@transaction.atomic
def reveal_phone(*, actor: Any, enterprise: Enterprise) -> str:
    """The full contact phone, for the allowed few; every showing is recorded and logged."""
    if not can_see_phone(actor):
        raise NotPermitted("只有经开区管委会或系统管理员可以查看完整联系电话。")
    EnterpriseLog.objects.create(enterprise=enterprise, actor=actor, action=EnterpriseLog.Action.PHONE_SHOWN)
    privacy_log.info("enterprise contact phone shown: user=%s enterprise=%s", actor.get_username(), enterprise.pk)
    return enterprise.contact_phone


# ---- the schedule ---------------------------------------------------------------------------


@transaction.atomic
def schedule_enterprise_days(*, today: datetime.date | None = None, months: int = MONTHS_AHEAD) -> list[EnterpriseDay]:
    """Create this month's and the coming months' enterprise days that do not exist yet, then
    re-plan every day not yet held (``reschedule_enterprise_days``): the ``calendar_changed`` hook
    does that at once when the calendar changes, this daily run catches up a change made by any
    other route. Idempotent: one day per month (unique ``month``), so a rerun, or two workers at
    once, create nothing twice. Returns the days created, then those re-dated or changed."""
    today = today or timezone.localdate()
    wanted = months_ahead(today, months)
    first = datetime.date(*wanted[0], 1) - datetime.timedelta(days=20)
    calendar = load_calendar(first, datetime.date(*wanted[-1], 28) + datetime.timedelta(days=40))
    existing = set(
        EnterpriseDay.objects.filter(month__gte=datetime.date(*wanted[0], 1)).values_list("month", flat=True)
    )
    created = []
    for year, month in wanted:
        if datetime.date(year, month, 1) in existing:
            continue
        plan = plan_month(year, month, calendar)
        if plan.held_on < today:
            continue  # this month's day has passed: a day is not created after the event
        day, was_created = EnterpriseDay.objects.get_or_create(
            month=plan.month,
            defaults={
                "held_on": plan.held_on,
                "notice_on": plan.notice_on,
                "provisional": plan.provisional,
                "place": PLACE,
            },
        )
        if was_created:
            created.append(day)
    return created + reschedule_enterprise_days(today=today)


@transaction.atomic
def record_past_day(*, actor: Any, month: datetime.date, held_on: datetime.date | None = None) -> EnterpriseDay:
    """Record an enterprise day that already took place (补录, issue 13 §3): one held before the
    portal existed, or in a month the scheduler never created (it creates days only ahead).

    ``held_on`` defaults to the rule's date (the 23rd, or the next working day); a day that was
    moved is entered with its actual date, which must lie in that month. The date must be before
    today: a coming day is the scheduler's. The day keeps ``recorded_on`` (today), has no notice
    (it was never sent through the portal) and is never re-planned (the re-planning only touches
    days from today on). Its problems are then received and assigned on its date (``raise_problems``)."""
    _require_manager(actor)
    today = timezone.localdate()
    first = month.replace(day=1)
    if first.year < 2000:
        raise InvalidInput("企业家日月份有误。", field="month")
    if EnterpriseDay.objects.filter(month=first).exists():
        raise InvalidInput(f"{first:%Y年%m月}的企业家日已存在，请在该企业家日页面补充。", field="month")
    if held_on is None:
        calendar = load_calendar(first, first + datetime.timedelta(days=70))
        held_on = plan_month(first.year, first.month, calendar).held_on
    if (held_on.year, held_on.month) != (first.year, first.month):
        raise InvalidInput(f"补录的企业家日须在{first:%Y年%m月}之内。", field="held_on")
    if held_on >= today:
        raise InvalidInput(
            "只能补录今天以前已举行的企业家日；今后的企业家日由系统按每月23日自动安排。", field="held_on"
        )
    if EnterpriseDay.objects.filter(held_on=held_on).exists():
        raise InvalidInput(f"{held_on:%Y-%m-%d} 已有企业家日。", field="held_on")
    try:
        with transaction.atomic():
            return EnterpriseDay.objects.create(month=first, held_on=held_on, recorded_on=today, place=PLACE)
    except IntegrityError:
        # Two clerks recording the same month at once: the unique month (and date) decides.
        raise InvalidInput(f"{first:%Y年%m月}的企业家日已存在，请在该企业家日页面补充。", field="month") from None


IMPORT_NOTE = "台账导入补录"


@transaction.atomic
def record_days(*, actor: Any, days: Sequence[datetime.date], note: str = IMPORT_NOTE) -> list[EnterpriseDay]:
    """The bulk form of ``record_past_day`` for the ledger import (the 政企 session hook,
    channels_enterprise.ledger): the enterprise day held on each of ``days`` (repeats allowed), in
    their order. A date that has its day is re-linked; a missing one is recorded with that date and
    ``note``, 补录 on today when it is before today. The date is the key and a month has one day:
    a date whose month has a day on another date, or that differs from an earlier new date of the
    same month, is refused, as is a month before 2000 (``record_past_day``'s check). Unlike
    ``record_past_day`` a day of today may be recorded: the ledger says its problems were raised
    there. Every refusal at once, by index of ``days`` (BatchRejected), nothing written."""
    _require_manager(actor)
    today = timezone.localdate()
    held = {d.held_on: d for d in EnterpriseDay.objects.filter(held_on__in=set(days))}
    missing = {day for day in days if day not in held}
    taken = {d.month: d for d in EnterpriseDay.objects.filter(month__in={day.replace(day=1) for day in missing})}
    refused: dict[int, InvalidInput] = {}
    first_of_month: dict[datetime.date, datetime.date] = {}
    for index, day in enumerate(days):
        month = day.replace(day=1)
        if day in held:
            continue
        if month.year < 2000:
            refused[index] = InvalidInput("企业家日月份有误。", field="month")
        elif day > today:
            refused[index] = InvalidInput("只能补录今天以前已举行的企业家日。", field="held_on")
        elif (other := taken.get(month)) is not None:
            refused[index] = InvalidInput(
                f"{other}是 {other.held_on:%Y-%m-%d}，与会议日期 {day:%Y-%m-%d} 不符（每月只有一个企业家日）",
                field="held_on",
            )
        elif (seen := first_of_month.setdefault(month, day)) != day:
            refused[index] = InvalidInput(
                f"会议日期 {day:%Y-%m-%d} 与同月的 {seen:%Y-%m-%d} 不同（每月只有一个企业家日）", field="held_on"
            )
    if refused:
        raise BatchRejected(refused, what="企业家日")
    for day in sorted(missing):
        try:
            with transaction.atomic():
                held[day] = EnterpriseDay.objects.create(
                    month=day.replace(day=1), held_on=day, note=note, recorded_on=today if day < today else None
                )
        except IntegrityError:
            # Recorded by someone else meanwhile: the unique month (and date) decides, as in record_past_day.
            message = f"{day:%Y年%m月}的企业家日已存在，请在该企业家日页面补充。"
            raise BatchRejected(
                {i: InvalidInput(message, field="month") for i, d in enumerate(days) if d == day}, what="企业家日"
            ) from None
    return [held[day] for day in days]


CALENDAR_CHANGED = "工作日历调整"


def calendar_changed(years: set[int]) -> None:
    """The registry hook (feedback.channels): the calendar of ``years`` changed, re-plan their days now."""
    reschedule_enterprise_days(years=years, reason="、".join(str(y) for y in sorted(years)) + "年" + CALENDAR_CHANGED)


@transaction.atomic
def reschedule_enterprise_days(
    *, today: datetime.date | None = None, years: set[int] | None = None, reason: str = CALENDAR_CHANGED
) -> list[EnterpriseDay]:
    """Re-plan on the stored calendar every enterprise day not yet held: from ``today`` on, not
    confirmed held, no problem recorded (such a day is history and never moves). ``years`` narrows
    it to the days with a date in those years; provisional or not, every such day is re-planned.

    - The plan keeps the date: only the notice date and ``provisional`` follow the calendar.
    - The plan gives a later day than today: the day moves there, the move is recorded
      (EnterpriseDayChange) and, when its notice had gone out, the office and the leaders on duty
      get a corrected notice.
    - The plan gives today or a day already past (a make-up Saturday 23rd declared late): too late
      to hold it there with notice, so the day keeps its date, now definite; the record says so and
      the office is told, once.

    Rows are locked: the daily run and a calendar change at once move a day once. Returns the days
    changed."""
    today = today or timezone.localdate()
    activity = EnterpriseIntake.objects.filter(day=OuterRef("pk"))
    days = (
        EnterpriseDay.objects.select_for_update()
        .filter(~Exists(activity), held_on__gte=today, held_at__isnull=True)
        .order_by("held_on")
    )
    if years is not None:
        days = days.filter(Q(month__year__in=years) | Q(held_on__year__in=years) | Q(notice_on__year__in=years))
    rows = list(days)
    if not rows:
        return []
    calendar = load_calendar(rows[0].month - datetime.timedelta(days=40), rows[-1].month + datetime.timedelta(days=70))
    changed = []
    for day in rows:
        plan = plan_month(day.month.year, day.month.month, calendar)
        if plan.held_on == day.held_on:
            if (plan.notice_on, plan.provisional) != (day.notice_on, day.provisional):
                day.notice_on, day.provisional = plan.notice_on, plan.provisional
                day.save(update_fields=["notice_on", "provisional"])
                changed.append(day)
        elif plan.held_on > today:
            _move_day(day, plan, reason=reason)
            changed.append(day)
        elif _keep_day(day, plan, reason=reason):
            changed.append(day)
    return changed


def _move_day(day: EnterpriseDay, plan: PlannedDay, *, reason: str) -> None:
    before = day.held_on
    day.held_on, day.notice_on, day.provisional = plan.held_on, plan.notice_on, plan.provisional
    fields = ["held_on", "notice_on", "provisional"]
    corrected = day.noticed_at is not None
    if corrected:
        # Those told of the old date are told of the new one; the daily notice run counts this
        # as the new date's notice (send_enterprise_day_notices), so nobody is told twice.
        key = _date_key(day.held_on)
        _, details = _notice_text(day)
        title = f"企业家日改期：{before:%m月%d日}改为{day.held_on:%m月%d日}"
        body = (
            f"因{reason}，{day.month:%Y年%m月}企业家日由{before:%Y年%m月%d日}改为"
            f"{day.held_on:%Y年%m月%d日}，请以新日期为准。{details}"
        )
        Notification.objects.bulk_create(
            [
                Notification(recipient_id=pk, kind=MOVED_KIND, deadline_version=key, title=title, body=body)
                for pk in _notice_recipients(day)
            ],
            ignore_conflicts=True,
        )
        queue_after_commit()
        day.noticed_at = timezone.now()
        fields.append("noticed_at")
    day.save(update_fields=fields)
    EnterpriseDayChange.objects.create(
        day=day,
        action=EnterpriseDayChange.Action.MOVED,
        held_on_before=before,
        held_on_after=day.held_on,
        reason=reason,
        corrected_notice=corrected,
    )


def _keep_day(day: EnterpriseDay, plan: PlannedDay, *, reason: str) -> bool:
    """Record, once per planned date, that the day keeps its date; tell the office. Returns
    whether anything was recorded."""
    if day.changes.filter(action=EnterpriseDayChange.Action.KEPT, held_on_after=plan.held_on).exists():
        return False
    if day.provisional:
        day.provisional = False  # the date no longer waits for the calendar: it stands
        day.save(update_fields=["provisional"])
    EnterpriseDayChange.objects.create(
        day=day,
        action=EnterpriseDayChange.Action.KEPT,
        held_on_before=day.held_on,
        held_on_after=plan.held_on,
        reason=reason,
    )
    title = f"{day}保留原日期{day.held_on:%m月%d日}"
    body = (
        f"因{reason}，{day}按规则应为{plan.held_on:%Y年%m月%d日}，已来不及按该日期举行，"
        f"仍定于{day.held_on:%Y年%m月%d日}举行。如需调整请联系系统管理员。"
    )
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk, kind=KEPT_KIND, deadline_version=_date_key(plan.held_on), title=title, body=body
            )
            for pk in _office_members()
        ],
        ignore_conflicts=True,
    )
    queue_after_commit()
    return True


# ---- duty -----------------------------------------------------------------------------------


def check_duty(
    *, leaders: Sequence[Any] = (), departments: Sequence[Department] = (), enterprises: Sequence[Enterprise] = ()
) -> None:
    """The checks of a day's duty, shared by ``set_day_duty`` and the admin form: every leader is a
    county leader with an active account, every department and enterprise still active."""
    leader_group = GROUP_NAMES[Role.LEADER]
    ids = [u.pk for u in leaders]
    valid = set(get_user_model().objects.filter(pk__in=ids, groups__name=leader_group).values_list("pk", "is_active"))
    for user in leaders:
        name = user.get_full_name() or user.get_username()
        if (user.pk, False) in valid:
            raise InvalidInput(f"县领导“{name}”的账号已停用，不能安排带队。", field="leaders")
        if (user.pk, True) not in valid:
            raise InvalidInput(f"“{name}”不是县领导，不能安排带队。", field="leaders")
    for dept in departments:
        if not dept.active:
            raise InvalidInput(f"单位“{dept.name}”已停用。", field="departments")
        if dept.kind == Department.Kind.OFFICE:
            raise InvalidInput(f"“{dept.name}”是直通车办公室，不作为随行部门。", field="departments")
    for ent in enterprises:
        if not ent.active:
            raise InvalidInput(f"企业“{ent.name}”已不在册。", field="enterprises")


@transaction.atomic
def set_day_duty(
    *,
    actor: Any,
    day: EnterpriseDay,
    leaders: Sequence[Any] = (),
    departments: Sequence[Department] = (),
    enterprises: Sequence[Enterprise] = (),
    place: str = "",
    note: str = "",
) -> EnterpriseDay:
    """Who is on duty at an enterprise day, where, and which enterprises are visited."""
    _require_manager(actor)
    check_duty(leaders=leaders, departments=departments, enterprises=enterprises)
    day = EnterpriseDay.objects.select_for_update().get(pk=day.pk)
    day.place, day.note = place.strip(), note.strip()
    day.save(update_fields=["place", "note"])
    day.leaders.set(leaders)
    day.departments.set(departments)
    day.enterprises.set(enterprises)
    return day


@transaction.atomic
def mark_day_held(*, actor: Any, day: EnterpriseDay, summary: str = "") -> EnterpriseDay:
    """Record that the day took place (with a leader on duty), by whom it was confirmed, and what
    was done on site. A repeat keeps the first confirmation and only updates the summary."""
    _require_manager(actor)
    day = EnterpriseDay.objects.select_for_update().get(pk=day.pk)
    if day.held_on > timezone.localdate():
        raise InvalidInput(f"企业家日在{day.held_on:%Y年%m月%d日}，尚未到期，不能确认已举行。", field="day")
    if day.held_at is None and not day.leaders.exists():
        raise InvalidInput("请先安排带队县领导，再确认企业家日已举行。", field="leaders")
    fields = ["summary"]
    day.summary = summary.strip()
    if day.held_at is None:
        day.held_at, day.held_by = timezone.now(), actor
        fields += ["held_at", "held_by"]
    day.save(update_fields=fields)
    return day


# ---- the notice -----------------------------------------------------------------------------


def _date_key(day: datetime.date) -> int:
    """A date as the notification's ``deadline_version`` (20271223): one notice per person and date."""
    return int(day.strftime("%Y%m%d"))


def _office() -> Q:
    return Q(
        membership__department__channel=Channel.ENTERPRISE,
        membership__department__kind=Department.Kind.OFFICE,
        membership__department__active=True,
    )


def _office_members() -> list[int]:
    return list(get_user_model().objects.filter(_office(), is_active=True).values_list("pk", flat=True).distinct())


def _notice_recipients(day: EnterpriseDay) -> list[int]:
    on_duty = Q(pk__in=day.leaders.values("pk"))
    return list(
        get_user_model().objects.filter(_office() | on_duty, is_active=True).values_list("pk", flat=True).distinct()
    )


def send_enterprise_day_notices(*, today: datetime.date | None = None) -> int:
    """Tell the 经开区 office and the leaders on duty, from the 3rd working day before each day.

    Run daily: each person is told once per day (the notification's unique key: recipient, kind and
    the day's date as ``deadline_version``); a leader put on duty after the first run is told by the
    next. Returns the notifications created."""
    today = today or timezone.localdate()
    created = 0
    for day in EnterpriseDay.objects.in_notice_window(today).prefetch_related("leaders", "departments"):
        with transaction.atomic():
            key = _date_key(day.held_on)
            recipients = _notice_recipients(day)
            # A corrected notice of a move to this date (_move_day) is this date's notice too.
            already = set(
                Notification.objects.filter(
                    kind__in=[NOTICE_KIND, MOVED_KIND],
                    deadline_version=key,
                    assignment__isnull=True,
                    recipient_id__in=recipients,
                ).values_list("recipient_id", flat=True)
            )
            title, body = _notice_text(day)
            rows = [
                Notification(recipient_id=pk, kind=NOTICE_KIND, deadline_version=key, title=title, body=body)
                for pk in recipients
                if pk not in already
            ]
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
    return (
        f"{when}企业家日通知",
        f"{when}{extra}为企业家日，现场办公地点：{day.place or '待定'}；带队县领导：{leaders}；随行部门：{depts}。",
    )


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
    duplicate: core.DuplicateChoice | None = None  # 并入 a suggested issue, or kept apart (issue 19)


@transaction.atomic
def raise_problems(*, actor: Any, day: EnterpriseDay, problems: Sequence[ProblemData]) -> list[EnterpriseIntake]:
    """The problems enterprises raised at one enterprise day become issues (registered and, when a
    lead is given, assigned by the core), all or none. Their enterprises count as visited.

    Each row runs in its own savepoint so that every bad row is reported (``BatchRejected``), not
    only the first; any error then rolls the whole batch back (the outer transaction)."""
    _require_manager(actor)
    if not problems:
        raise InvalidInput("请至少填写一个问题。", field="problems")
    if day.held_on > timezone.localdate():
        raise InvalidInput("企业家日尚未举行，不能登记现场问题。", field="day")

    # A day recorded afterwards: its problems were handed to the departments on duty that day, so
    # they are assigned on the day's date and their deadlines run from it (decision 0610). A day the
    # portal scheduled keeps the assignment date of the registration, as before.
    assigned_on = day.held_on if day.recorded_on else None

    def register(problem: ProblemData) -> EnterpriseIntake:
        ent, content = problem.enterprise, problem.content.strip()
        if not ent.active:
            raise InvalidInput(f"企业“{ent.name}”已不在册。", field="enterprise")
        if not content:
            raise InvalidInput("请填写问题内容。", field="content")
        issue = core.register_at_intake(
            actor=actor,
            duplicate=problem.duplicate,
            channel=Channel.ENTERPRISE,
            category=problem.category,
            requester=core.RequesterData(
                name=ent.contact_name or ent.name,
                phone=ent.contact_phone,
                kind=Requester.Kind.ENTERPRISE,
                organization=ent.name,
            ),
            title=problem.title.strip() or title_from(content, TITLE_LENGTH),
            content=content,
            received_on=day.held_on,
            nature=problem.nature,
            onsite_answer=problem.onsite_answer,
            lead=problem.lead,
            co=problem.co,
            assigned_on=assigned_on,
        )
        return EnterpriseIntake.objects.create(issue=issue, day=day, enterprise=ent, enterprise_name=ent.name)

    intakes = all_or_none(problems, register, what="问题")
    day.enterprises.add(*{p.enterprise.pk for p in problems})
    return intakes


@transaction.atomic
def record_consultation(
    *, actor: Any, intake: EnterpriseIntake, held_on: datetime.date, participants: Sequence[str], outcome: str
) -> Consultation:
    """三长会诊 on one problem: when, who (county head, bureau heads, bank presidents), the outcome.
    A date after today requests it (计划会诊, outcome still to come: ``mark_consultation_held``)."""
    _require_manager(actor)
    names = [p.strip() for p in participants if p and p.strip()]
    if not names:
        raise InvalidInput("请填写参加会诊的人员。", field="participants")
    planned = held_on > timezone.localdate()
    if not planned and not outcome.strip():
        raise InvalidInput("请填写会诊结果（会诊日期在今天以后的为计划会诊，可暂不填写）。", field="outcome")
    if held_on < intake.issue.received_on:
        raise InvalidInput("会诊日期不能早于问题受理日期。", field="held_on")
    return Consultation.objects.create(
        intake=intake,
        held_on=held_on,
        status=Consultation.Status.PLANNED if planned else Consultation.Status.HELD,
        participants=names,
        outcome=outcome.strip(),
        recorded_by=actor,
    )


@transaction.atomic
def mark_consultation_held(
    *, actor: Any, consultation: Consultation, outcome: str, held_on: datetime.date | None = None
) -> Consultation:
    """A planned 三长会诊 took place: its outcome (and, if it moved, its actual date). A repeat on a
    consultation already held is refused (its record stands; a new consultation is a new row)."""
    _require_manager(actor)
    consultation = Consultation.objects.select_for_update().select_related("intake__issue").get(pk=consultation.pk)
    if consultation.status == Consultation.Status.HELD:
        raise InvalidInput("该会诊已记录结果。", field="outcome")
    day = held_on or consultation.held_on
    if day > timezone.localdate():
        raise InvalidInput(f"会诊定于{day:%Y年%m月%d日}，尚未到期，不能记录结果。", field="held_on")
    if day < consultation.intake.issue.received_on:
        raise InvalidInput("会诊日期不能早于问题受理日期。", field="held_on")
    if not outcome.strip():
        raise InvalidInput("请填写会诊结果。", field="outcome")
    consultation.held_on, consultation.outcome = day, outcome.strip()
    consultation.status = Consultation.Status.HELD
    consultation.save(update_fields=["held_on", "outcome", "status"])
    return consultation
