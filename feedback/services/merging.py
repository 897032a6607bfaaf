"""并单 (merge duplicates) and 拆分 (split again), issue 19.

A merged issue keeps its requester, channel, dates and text; the lead carries the handling. The
merged issue has no live assignment of its own (unreplied ones are withdrawn when it is merged) and
its status, follow-up and closure follow the lead's (``states.follow_lead``, called by every move
of the lead). How the figures count it: ``docs/decisions/0631-merged-issues-in-the-figures.md``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from feedback import access, states
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Assignment, ExtensionRequest, Issue, Objection
from feedback.services.guards import require_office
from feedback.services.intake import register_issue
from feedback.services.ladder import schedule_steps

# An assignment in one of these states can be withdrawn when its issue is merged: no reply is
# waiting for review or accepted (those are handled to the end, or the issue is not a duplicate).
WITHDRAWABLE = states.ASSIGNMENT_MOVES["withdraw"].sources


def _lock_pair(issue: Issue, into: Issue) -> tuple[Issue, Issue]:
    # Always in id order, so two clerks merging the same pair the other way round cannot deadlock.
    rows = {i.pk: i for i in Issue.objects.select_for_update().filter(pk__in=[issue.pk, into.pk]).order_by("pk")}
    return rows[issue.pk], rows[into.pk]


@transaction.atomic
def merge_issue(*, actor: User | None, issue: Issue, into: Issue, note: str = "") -> Issue:
    """并单: ``issue`` is merged into the lead ``into``; returns the merged issue."""
    if issue.pk == into.pk:
        raise InvalidInput("不能把诉求并入它自己。", field="into")
    issue, into = _lock_pair(issue, into)
    require_office(actor, issue)
    if actor is not None and not access.issues_for(actor).filter(pk=into.pk).exists():
        raise NotPermitted("您无权查看要并入的诉求。")
    if issue.merged_into is not None:
        raise IllegalTransition(f"该诉求已并入 {issue.merged_into.ref}，如需改并，请先拆分。")
    if into.merged_into is not None:
        lead = into.merged_into
        raise InvalidInput(f"{into.ref} 本身已并入 {lead.ref}，请直接并入 {lead.ref}。", field="into")
    if issue.merged_issues.exists():
        raise IllegalTransition("已有其他诉求并入本件，不能再把本件并入别的诉求；请把别的诉求并入本件。")
    if issue.status not in (Issue.Status.REGISTERED, Issue.Status.ASSIGNED):
        raise IllegalTransition(f"当前状态为“{issue.get_status_display()}”，已有办理结果的诉求不能并单。")
    live = list(Assignment.objects.select_for_update().filter(issue=issue).live().order_by("pk"))
    if any(a.status not in WITHDRAWABLE for a in live):
        raise IllegalTransition("本件已有承办单位提交书面回复，不能并单；请先审核回复。")
    if Objection.objects.filter(assignment__in=live, status=Objection.Status.PENDING).exists():
        raise IllegalTransition("本件有待决定的异议，请先决定异议再并单。")
    reason = f"并单：已并入 {into.ref}" + (f"（{note.strip()}）" if note.strip() else "")
    for assignment in live:
        states.move(assignment, "withdraw", actor=actor, note=reason)
        schedule_steps(assignment)  # out of the workflow: no more reminders or escalation
    ExtensionRequest.objects.filter(assignment__in=live, status=ExtensionRequest.Status.PENDING).update(
        status=ExtensionRequest.Status.REJECTED,
        decided_by=actor,
        decided_at=timezone.now(),
        decision_note="诉求已并单，延期申请不再审批。",
    )
    issue.merged_into, issue.merged_at = into, timezone.now()
    issue.save(update_fields=["merged_into", "merged_at", "updated_at"])
    states.follow_lead(
        issue,
        into,
        actor=actor,
        action="merged",
        note=f"已并入 {into.ref}《{into.title}》" + (f"：{note.strip()}" if note.strip() else ""),
    )
    states.record(into, "merge_received", actor=actor, note=f"{issue.ref}《{issue.title}》并入本件")
    return issue


@transaction.atomic
def split_issue(*, actor: User | None, issue: Issue, reason: str) -> Issue:
    """拆分: the merged issue leaves its lead and goes back to 已登记, to be assigned on its own."""
    if not reason.strip():
        raise InvalidInput("拆分必须写明理由。", field="reason")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_office(actor, issue)
    if issue.merged_into_id is None:
        raise IllegalTransition("该诉求没有并单，无需拆分。")
    lead = Issue.objects.select_for_update().get(pk=issue.merged_into_id)
    previous = issue.status
    issue.merged_into, issue.merged_at = None, None
    issue.status = Issue.Status.REGISTERED
    issue.satisfaction, issue.follow_up_comment, issue.followed_up_on, issue.closed_on = "", "", None, None
    issue.save(update_fields=["merged_into", "merged_at", *states.FOLLOWED_FIELDS, "updated_at"])
    issue.history.create(
        actor=actor,
        action="split",
        from_status=previous,
        to_status=issue.status,
        note=f"从 {lead.ref} 拆分，需单独交办：{reason.strip()}",
    )
    states.record(lead, "split_off", actor=actor, note=f"{issue.ref} 已拆分出去：{reason.strip()}")
    return issue


@transaction.atomic
def register_and_merge_issue(*, actor: User | None, into: Issue, note: str = "", **registration: Any) -> Issue:
    """Register a request (no assignment of its own) and merge it into ``into`` at once: both or neither.
    The clerk's one click at intake when the suggestion is right."""
    issue = register_issue(actor=actor, **registration)
    return merge_issue(actor=actor, issue=issue, into=into, note=note)
