"""并单 (merge duplicates) and 拆分 (split again), issue 19.

A merged issue keeps its requester, channel, dates and text; the lead carries the handling. The
merged issue has no live assignment of its own (unreplied ones are withdrawn when it is merged) and
its status, follow-up and closure follow the lead's (``states.follow_lead``, called by every move
of the lead). How the figures count it: ``docs/decisions/0631-merged-issues-in-the-figures.md``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from feedback import access, states
from feedback.channels import CallbackRequester, merged_requesters
from feedback.errors import IllegalTransition, InvalidInput, NotPermitted
from feedback.models import Assignment, Department, ExtensionRequest, Issue, Objection, SignedReply
from feedback.privacy import mask_phone
from feedback.services import batches
from feedback.services.guards import office_members, require_office
from feedback.services.intake import register_and_assign_issue, register_issue
from feedback.services.ladder import schedule_steps
from feedback.services.notifications import notify_users

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
    if into.status in ANSWERED:
        # Merged into an issue already answered: this requester is owed the answer now.
        pass_on_answer(actor=actor, lead=into, only=[issue])
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


# A lead in one of these states has its written answer (every reply accepted); a request merged into
# it is told that answer at once.
ANSWERED = (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP, Issue.Status.CLOSED)
CALLBACK_KIND = "merged_callback"


def answer_text(lead: Issue) -> str:
    """The lead's accepted written replies in one line: department, result, date signed, summary."""
    replies = (
        SignedReply.objects.filter(assignment__issue=lead, review_status=SignedReply.Review.ACCEPTED)
        .select_related("assignment__department")
        .order_by("-assignment__role", "assignment_id", "-version")  # the lead department first
    )
    seen: set[int] = set()
    parts = []
    for reply in replies:
        if reply.assignment_id in seen:  # the newest accepted version of each assignment
            continue
        seen.add(reply.assignment_id)
        parts.append(
            f"{reply.assignment.department.name}（{reply.get_result_display()}，{reply.signed_on:%Y-%m-%d} 签发）："
            f"{reply.summary.strip()}"
        )
    return "；".join(parts) or "（无书面回复）"


def pass_on_answer(
    *,
    actor: User | None,
    lead: Issue,
    only: list[Issue] | None = None,
    others: list[CallbackRequester] | None = None,
    key: str = "",
) -> int:
    """Every request merged into ``lead`` hears its answer: the reply goes into each merged issue's own
    timeline, and the office of each merged issue's channel gets one notice listing the requesters
    to call back (the project has no SMS gateway: the office phones them), with the requesters a
    channel merged straight into the lead or into its merged issues from its own records (a public
    suggestion merged on the 政网 triage page, ``channels.merged_requesters``). Called when the lead's
    replies are all accepted, and for a request merged into a lead already answered (``only``: that
    issue; ``others`` and ``key``: a channel's own record, the notice's key telling it apart).
    Returns the number of requesters told."""
    late = only is not None or others is not None
    merged = (
        (only or [])
        if late
        else list(Issue.objects.filter(merged_into=lead).select_related("requester").order_by("pk"))
    )
    extra = (others or []) if late else merged_requesters([lead.pk, *(i.pk for i in merged)])
    if not merged and not extra:
        return 0
    answer = answer_text(lead)
    for issue in merged:
        states.record(issue, "lead_answered", actor=actor, note=f"主诉求 {lead.ref} 已书面答复：{answer}")
    # The key of the notice: the lead's lead assignment (its deadline version changes when it is
    # handled again) and, for a late merge, the merged issue (or the channel's record), so a rerun
    # sends nothing twice.
    anchor = (
        lead.assignments.filter(role=Assignment.Role.LEAD, status=Assignment.Status.ACCEPTED).order_by("-pk").first()
    )
    if anchor is None:
        return len(merged) + len(extra)
    kind = CALLBACK_KIND if not late else f"{CALLBACK_KIND}:{key or merged[0].pk}"
    by_channel: dict[str, list[str]] = {}
    for issue in merged:
        by_channel.setdefault(issue.channel, []).append(
            f"{issue.ref} {issue.requester.name}"
            + (f"（{mask_phone(issue.requester.phone)}）" if issue.requester.phone else "")
        )
    for other in extra:
        by_channel.setdefault(other.channel, []).append(
            f"{other.label} {other.name or '匿名'}"
            + (f"（{mask_phone(other.phone)}）" if other.phone else "（未留电话）")
        )
    for channel, people in by_channel.items():
        notify_users(
            anchor,
            kind,
            office_members(channel),
            title=f"并单回访：{lead.ref} 已答复，{len(people)} 位并单诉求人待告知",
            body=f"主诉求 {lead.ref}《{lead.title}》的书面回复已审核通过。以下并入该件的诉求人需要告知答复结果"
            f"（本系统不发短信，请电话告知并在各诉求页面查看联系电话）：{'；'.join(people)}。答复：{answer}",
        )
    return len(merged) + len(extra)


def _who(label: str, name: str, phone: str) -> str:
    return f"{label} {name}" + (f"（{mask_phone(phone)}）" if phone else "")


@dataclass(frozen=True)
class DuplicateChoice:
    """The clerk's choice on a row of a batch intake grid where duplicates were suggested: merge it
    into the issue ``merge_into`` (a reference), or into the issue of an earlier row of the same batch
    (``merge_with``: that row's 0-based position among the rows registered; ``merge_with_row``: its
    number in the grid, as the clerk saw it, for the messages), or keep it apart from the suggested
    ``kept_apart``."""

    merge_into: str = ""
    kept_apart: tuple[str, ...] = ()
    merge_with: int | None = None
    merge_with_row: int = 0

    @property
    def merging(self) -> bool:
        """The row is merged (into an issue or an earlier row): it gets no assignment of its own."""
        return bool(self.merge_into.strip()) or self.merge_with is not None


def _visible_ref(actor: User | None, ref: str) -> Issue:
    issues: QuerySet[Issue] = access.issues_for(actor) if actor is not None else Issue.objects.all()
    found = issues.filter(ref=ref.strip()).first()
    if found is None:
        raise InvalidInput(f"要并入的诉求“{ref.strip()}”不存在，或您无权查看。")
    return found


def _batch_row_issue(duplicate: DuplicateChoice) -> Issue:
    """The issue registered for the earlier row a row is merged into (its lead, when that row was itself
    merged: a request merged into a merged one joins the issue that handles them)."""
    assert duplicate.merge_with is not None
    row = duplicate.merge_with_row or duplicate.merge_with + 1
    earlier = batches.earlier_result(duplicate.merge_with)
    if earlier is None:
        raise InvalidInput(f"第 {row} 行未能登记，本行无法并入该行；请先修改第 {row} 行。")
    issue: Issue = getattr(earlier, "issue", earlier)  # a channel's row result (EnterpriseIntake) or the issue
    issue = Issue.objects.get(pk=issue.pk)
    return issue.merged_into if issue.merged_into_id is not None and issue.merged_into is not None else issue


def register_at_intake(
    *,
    actor: User | None,
    duplicate: DuplicateChoice | None = None,
    lead: Department | None = None,
    co: Sequence[Department] = (),
    assigned_on: datetime.date | None = None,
    deadline_amount: int | None = None,
    deadline_unit: str | None = None,
    **registration: Any,
) -> Issue:
    """A row of a batch intake (the three channels' grids), as the clerk chose on it: merged into the
    suggested issue (registered with no assignment of its own: the lead's departments handle it), or
    registered and assigned as usual, the suggestions the clerk set aside named in its history.
    Runs in the caller's batch transaction (all rows or none); a row merged into an earlier row of
    the batch (并入第 N 行) must be registered by ``batches.all_or_none``, which knows that row's issue."""
    if duplicate is not None and duplicate.merge_with is not None:
        into = _batch_row_issue(duplicate)
        return register_and_merge_issue(
            actor=actor, into=into, note=f"与本批第 {duplicate.merge_with_row} 行为同一诉求，登记时并单", **registration
        )
    if duplicate is not None and duplicate.merge_into.strip():
        into = _visible_ref(actor, duplicate.merge_into)
        return register_and_merge_issue(actor=actor, into=into, note="登记时确认重复，一键并单", **registration)
    issue = register_and_assign_issue(
        actor=actor,
        lead=lead,
        co=co,
        assigned_on=assigned_on,
        deadline_amount=deadline_amount,
        deadline_unit=deadline_unit,
        **registration,
    )
    refs = [r.strip() for r in (duplicate.kept_apart if duplicate is not None else ()) if r.strip()]
    if refs:
        states.record(
            issue, "kept_apart", actor=actor, note=f"登记时提示可能与 {'、'.join(refs)} 重复，经核实不是重复，单独办理"
        )
    return issue
