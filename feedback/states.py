"""The workflow's state machine, declared once (DOMAIN.md "Workflow").

Every status change of an Issue or an Assignment goes through :func:`move`, which
validates it against the tables below, treats a repeat as a no-op, and writes the
history row. Services call it; nothing else writes ``status``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User

from feedback.channels import history_action_label
from feedback.errors import IllegalTransition
from feedback.models import Assignment, HistoryEntry, Issue

A = Assignment.Status
I = Issue.Status  # noqa: E741
# The follow-up outcomes that are ratings (未联系上 is not; feedback.figures.statistics.RATINGS).
RATINGS = frozenset({Issue.Satisfaction.SATISFIED, Issue.Satisfaction.BASICALLY, Issue.Satisfaction.DISSATISFIED})


@dataclass(frozen=True)
class Move:
    label: str  # what the user did, in Chinese, for messages and the timeline
    sources: frozenset[str]
    target: str
    # A repeat of a repeatable move (acknowledge twice, close twice) is a harmless no-op;
    # a repeat of any other move (assign again, rate again) would lose or duplicate data.
    repeatable: bool = True
    # A rule beyond the source status: returns why the move is refused now ("" when allowed).
    guard: Callable[[Issue], str] | None = None


def closure_refusal(issue: Issue) -> str:
    """办结 needs the follow-up (回访) done: a rating, or a recorded reason why it could not be
    done (未能回访). A single 未联系上 is an attempt, not a reason (docs/decisions/0600)."""
    if issue.follow_up_skipped:
        return ""
    if issue.status == I.FOLLOWED_UP and issue.satisfaction in RATINGS:
        return ""
    if issue.satisfaction == Issue.Satisfaction.UNREACHABLE:
        return (
            "回访未联系上，还不能办结：请再次回访并记录结果；确实无法回访的（如多次联系不上），"
            "请先登记未能回访的原因，再办结。"
        )
    if issue.status == I.REPLIED:
        return "尚未回访，不能办结：请先记录回访结果；确实无法回访的，请先登记未能回访的原因，再办结。"
    return ""


ASSIGNMENT_MOVES: dict[str, Move] = {
    "acknowledge": Move("签收", frozenset({A.PENDING}), A.ACKNOWLEDGED),
    "submit_reply": Move(
        "提交书面回复", frozenset({A.PENDING, A.ACKNOWLEDGED, A.RETURNED}), A.SUBMITTED, repeatable=False
    ),
    "accept_reply": Move("审核通过", frozenset({A.SUBMITTED}), A.ACCEPTED),
    "return_reply": Move("退回重办", frozenset({A.SUBMITTED}), A.RETURNED, repeatable=False),
    "rehandle": Move("重办", frozenset({A.ACCEPTED}), A.ACKNOWLEDGED, repeatable=False),
    # An accepted objection (异议): the assignment leaves the workflow and another department
    # gets a new one. Not from "submitted": a reply waiting for review is reviewed first.
    "withdraw": Move("退回改派", frozenset({A.PENDING, A.ACKNOWLEDGED, A.RETURNED}), A.WITHDRAWN, repeatable=False),
}

ISSUE_MOVES: dict[str, Move] = {
    "assign": Move("交办", frozenset({I.REGISTERED}), I.ASSIGNED, repeatable=False),
    "all_replied": Move("全部单位书面回复通过审核", frozenset({I.ASSIGNED}), I.REPLIED),
    # Until closure the follow-up can be recorded again (a second call after 未联系上, a correction);
    # after closure only 重办 reopens the issue.
    "follow_up": Move("回访", frozenset({I.REPLIED, I.FOLLOWED_UP}), I.FOLLOWED_UP, repeatable=False),
    # From REPLIED only with a 未能回访 reason (closure_refusal); ledger imports replay the table
    # without the guard: a ledger records closures made before the rule.
    "close": Move("办结", frozenset({I.REPLIED, I.FOLLOWED_UP}), I.CLOSED, guard=closure_refusal),
    "reopen": Move("重办", frozenset({I.REPLIED, I.FOLLOWED_UP, I.CLOSED}), I.ASSIGNED, repeatable=False),
}

# Human-readable names of actions that are not status moves, for the timeline.
OTHER_ACTIONS = {
    "register": "登记",
    "merged": "并单（并入）",
    "merge_received": "并单（并入本件）",
    "split": "拆分",
    "split_off": "拆分（移出）",
    "lead_answered": "主诉求书面答复",
    "kept_apart": "登记时确认不是重复",
    "assigned_to": "交办单位",
    "extension_requested": "申请延期",
    "extension_decided": "延期审批",
    "objection_raised": "提出异议",
    "objection_rejected": "驳回异议",
    "objection_accepted": "同意异议并改派",
    "deadline_recomputed": "期限重算",
    "deadline_remind_50": "时间过半提醒",
    "deadline_remind_80": "时间已过八成提醒",
    "deadline_remind_1d": "到期前一日提醒",
    "deadline_overdue": "超期",
    "deadline_chase": "催办",
    "deadline_supervise": "督办",
    "deadline_bulletin": "列入月度通报",
    # Issue 13 §3: a correction of what was registered, one row per field (old → new).
    "issue_edited": "更正登记信息",
    # Issue 13 §4: ladder steps whose moment had passed when the issue was imported or a
    # calendar year loaded: recorded, never announced (the current state is notified once).
    "deadline_passed_before_import": "导入前已过期限节点（未提醒）",
    "follow_up_skipped": "登记未能回访",
}


def action_label(action: str) -> str:
    move = ASSIGNMENT_MOVES.get(action) or ISSUE_MOVES.get(action)
    if move:
        return move.label
    return OTHER_ACTIONS.get(action) or history_action_label(action) or action


def move(
    obj: Issue | Assignment, action: str, *, actor: User | None, note: str = "", also: tuple[str, ...] = ()
) -> bool:
    """Apply ``action`` to ``obj`` (already locked by the caller) and record it.

    ``also`` names fields the caller changed that must be saved with the status in
    one UPDATE (the database's check constraints tie some of them to the status).

    Returns False when the object is already in the target state (a repeat is a
    no-op), True when it moved. Raises :class:`IllegalTransition` otherwise.
    """
    table = ISSUE_MOVES if isinstance(obj, Issue) else ASSIGNMENT_MOVES
    if isinstance(obj, Issue) and obj.merged_into_id is not None:
        raise IllegalTransition("该诉求已并单，由主诉求统一办理；如需单独办理，请先拆分。")
    try:
        step = table[action]
    except KeyError:
        raise IllegalTransition(f"未知操作：{action}") from None
    if step.repeatable and obj.status == step.target and obj.status not in step.sources:
        return False
    if obj.status not in step.sources:
        current = obj.get_status_display()
        raise IllegalTransition(f"当前状态为“{current}”，不能{step.label}。")
    if step.guard is not None and isinstance(obj, Issue) and (refusal := step.guard(obj)):
        raise IllegalTransition(refusal)
    previous = obj.status
    obj.status = step.target
    obj.save(update_fields=["status", *also, *_extra_fields(obj)])
    issue = obj if isinstance(obj, Issue) else obj.issue
    HistoryEntry.objects.create(
        issue=issue,
        assignment=obj if isinstance(obj, Assignment) else None,
        actor=actor,
        action=action,
        from_status=previous,
        to_status=step.target,
        note=note,
    )
    if isinstance(obj, Issue):
        for merged in Issue.objects.select_for_update().filter(merged_into=obj).order_by("pk"):
            follow_lead(
                merged, obj, actor=actor, action=action, note=f"随主诉求 {obj.ref}" + (f"：{note}" if note else "")
            )
    return True


# The fields of a merged issue that follow its lead (并单, issue 19): the handling's status, the
# follow-up and the closure. Its requester, channel, dates and text stay its own.
FOLLOWED_FIELDS = ("status", "satisfaction", "follow_up_comment", "followed_up_on", "closed_on")


def follow_lead(merged: Issue, lead: Issue, *, actor: User | None, action: str, note: str) -> None:
    """Give a merged issue (locked by the caller) its lead's status, follow-up and closure, and record
    it in the merged issue's own timeline. The closure is never dated before the merged issue was
    received (a request merged into an issue closed earlier is closed the day it is merged)."""
    previous = merged.status
    merged.status = lead.status
    merged.satisfaction = lead.satisfaction
    merged.follow_up_comment = lead.follow_up_comment
    merged.followed_up_on = lead.followed_up_on
    merged.closed_on = None if lead.closed_on is None else max(lead.closed_on, merged.received_on)
    merged.save(update_fields=[*FOLLOWED_FIELDS, "updated_at"])
    HistoryEntry.objects.create(
        issue=merged, actor=actor, action=action, from_status=previous, to_status=merged.status, note=note
    )


def record(
    issue: Issue, action: str, *, actor: User | None, assignment: Assignment | None = None, note: str = ""
) -> HistoryEntry:
    """A history row for an event that is not a status change (registration, a rejected file…)."""
    return HistoryEntry.objects.create(issue=issue, assignment=assignment, actor=actor, action=action, note=note)


def _extra_fields(obj: Issue | Assignment) -> list[str]:
    return ["updated_at"] if isinstance(obj, Issue) else []
