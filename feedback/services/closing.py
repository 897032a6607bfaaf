"""Follow-up (回访), closure and re-handling (重办)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback import states
from feedback.deadlines import DeadlineInputError
from feedback.errors import (
    IllegalTransition,
    InvalidInput,
)
from feedback.models import (
    Assignment,
    Department,
    Issue,
    Notification,
)
from feedback.services import notifications
from feedback.services.guards import require_office
from feedback.services.ladder import schedule_steps
from feedback.workcalendar import deadline_for


@transaction.atomic
def record_follow_up(
    *, actor: User | None, issue: Issue, satisfaction: str, comment: str = "", on: datetime.date | None = None
) -> Issue:
    """回访: the requester's rating, or 未联系上. It can be recorded again until closure (the last one
    counts; the history keeps every one); a rating replaces an earlier 未能回访 reason."""
    if satisfaction not in Issue.Satisfaction.values:
        raise InvalidInput("请选择回访结果：满意、基本满意、不满意或未联系上。", field="satisfaction")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_office(actor, issue)
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise InvalidInput("回访日期不能晚于今天。", field="followed_up_on")
    if issue.status == Issue.Status.CLOSED:
        raise IllegalTransition("该诉求已办结，不能再记录回访；如群众不满意需要重新办理，请点“重办”。")
    issue.satisfaction = satisfaction
    issue.follow_up_comment = comment.strip()
    issue.followed_up_on = on
    if satisfaction != Issue.Satisfaction.UNREACHABLE:  # the follow-up was done after all
        issue.follow_up_skipped, issue.follow_up_skip_note = "", ""
    label = Issue.Satisfaction(satisfaction).label
    states.move(
        issue,
        "follow_up",
        actor=actor,
        note=f"{label}：{comment.strip()}" if comment.strip() else label,
        also=("satisfaction", "follow_up_comment", "followed_up_on", "follow_up_skipped", "follow_up_skip_note"),
    )
    return issue


@transaction.atomic
def record_follow_up_skipped(*, actor: User | None, issue: Issue, reason: str, note: str = "") -> Issue:
    """未能回访: why the follow-up cannot be done; the office may then close the issue, which counts as
    closed and not rated (docs/decisions/0600)."""
    if reason not in Issue.FollowUpSkip.values:
        raise InvalidInput(
            "请选择未能回访的原因：多次联系不上、诉求人拒绝回访、诉求人已离开本地或其他。", field="follow_up_skipped"
        )
    note = note.strip()
    if reason == Issue.FollowUpSkip.OTHER and not note:
        raise InvalidInput("原因选“其他”时必须写明具体情况。", field="follow_up_skip_note")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_office(actor, issue)
    if issue.status == Issue.Status.CLOSED:
        raise IllegalTransition("该诉求已办结，不能再登记未能回访；如需重新办理，请点“重办”。")
    if issue.status not in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP):
        raise IllegalTransition(
            f"当前状态为“{issue.get_status_display()}”，全部承办单位的书面回复通过审核后才能回访或登记未能回访。"
        )
    if issue.satisfaction in states.RATINGS:
        raise IllegalTransition(f"该诉求已回访（{issue.get_satisfaction_display()}），无需登记未能回访，可以直接办结。")
    issue.follow_up_skipped, issue.follow_up_skip_note = reason, note
    issue.save(update_fields=["follow_up_skipped", "follow_up_skip_note", "updated_at"])
    label = Issue.FollowUpSkip(reason).label
    states.record(issue, "follow_up_skipped", actor=actor, note=f"{label}：{note}" if note else label)
    return issue


@transaction.atomic
def close_issue(*, actor: User | None, issue: Issue, on: datetime.date | None = None, note: str = "") -> Issue:
    """办结."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_office(actor, issue)
    on = on or timezone.localdate()
    if on < issue.received_on:
        raise InvalidInput("办结日期不能早于受理日期。", field="closed_on")
    if on > timezone.localdate():
        raise InvalidInput("办结日期不能晚于今天。", field="closed_on")
    if issue.status == Issue.Status.CLOSED:
        return issue
    issue.closed_on = on
    states.move(issue, "close", actor=actor, note=note or f"办结日期 {on:%Y-%m-%d}", also=("closed_on",))
    return issue


@transaction.atomic
def reopen_issue(
    *,
    actor: User | None,
    issue: Issue,
    reason: str,
    departments: Sequence[Department] | None = None,
    deadline_amount: int | None = None,
    deadline_unit: str | None = None,
) -> list[Assignment]:
    """重办: the requester is dissatisfied and the office agrees; chosen assignments start a new clock."""
    if not reason.strip():
        raise InvalidInput("重办必须写明理由。", field="reason")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_office(actor, issue)
    assignments = list(
        issue.assignments.live().select_for_update(of=("self",)).select_related("department", "policy")
    )  # not those handed over after an objection
    if departments:
        wanted = {d.pk for d in departments}
        chosen = [a for a in assignments if a.department_id in wanted]
        if len(chosen) != len(wanted):
            raise InvalidInput("重办单位必须是原承办单位。", field="departments")
    else:
        chosen = [a for a in assignments if a.role == Assignment.Role.LEAD]
    today = timezone.localdate()
    # The earlier rating stays in the history; the issue waits for a new one.
    issue.closed_on = None
    issue.satisfaction = ""
    issue.followed_up_on = None
    issue.follow_up_comment = ""
    issue.follow_up_skipped, issue.follow_up_skip_note = "", ""
    states.move(
        issue,
        "reopen",
        actor=actor,
        note=reason.strip(),
        also=(
            "closed_on",
            "satisfaction",
            "followed_up_on",
            "follow_up_comment",
            "follow_up_skipped",
            "follow_up_skip_note",
        ),
    )
    for a in chosen:
        amount = deadline_amount or a.deadline_amount
        unit = deadline_unit or a.deadline_unit
        try:
            deadline = deadline_for(today, amount, unit)
        except DeadlineInputError as exc:
            raise InvalidInput(str(exc), field="deadline_amount") from None
        a.assigned_on, a.deadline_amount, a.deadline_unit = today, amount, unit
        a.due_date = a.original_due_date = deadline.due_date
        a.provisional = deadline.provisional
        a.deadline_version += 1
        a.replied_on = None
        states.move(
            a,
            "rehandle",
            actor=actor,
            note=f"{reason.strip()}；新期限 {deadline.due_date:%Y-%m-%d}",
            also=(
                "assigned_on",
                "deadline_amount",
                "deadline_unit",
                "due_date",
                "original_due_date",
                "provisional",
                "deadline_version",
                "replied_on",
            ),
        )
        schedule_steps(a)
        notifications.notify_department(
            a,
            Notification.Kind.REHANDLE,
            title=f"重办：{issue.title}",
            body=f"{issue.ref}“{issue.title}”需重新办理，理由：{reason.strip()}。"
            f"新的办理期限 {a.due_date:%Y年%m月%d日}。",
        )
    return chosen


# --- Objections (异议): "not ours", decided by the channel office ---------------------------------
