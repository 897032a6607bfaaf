"""Signed replies: submission by the department, acceptance or return by the channel office."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from feedback import states
from feedback.documents.uploads import validate_reply_file
from feedback.errors import (
    ConcurrentChange,
    IllegalTransition,
    InvalidInput,
)
from feedback.models import (
    Assignment,
    Issue,
    Notification,
    SignedReply,
)
from feedback.services import notifications
from feedback.services.guards import lock_assignment, lock_reply, office_members, require_member, require_office
from feedback.services.ladder import schedule_steps
from feedback.services.merging import pass_on_answer


@transaction.atomic
def submit_reply(
    *,
    actor: User | None,
    assignment: Assignment,
    file: UploadedFile,
    signer_name: str,
    signer_title: str,
    signed_on: datetime.date,
    result: str,
    summary: str,
) -> SignedReply:
    """Upload the stamped, signed letter. The file is checked before anything is stored."""
    require_member(actor, assignment)  # who may reply does not change while we check the file
    checked = validate_reply_file(file)
    if result not in SignedReply.Result.values:
        raise InvalidInput("办理结果无效。", field="result")
    if not signer_name.strip():
        raise InvalidInput("请填写签发人姓名。", field="signer_name")
    if not signer_title.strip():
        raise InvalidInput("请填写签发人职务。", field="signer_title")
    if not summary.strip():
        raise InvalidInput("请填写答复摘要。", field="summary")
    assignment = lock_assignment(assignment)
    require_member(actor, assignment)
    if signed_on > timezone.localdate():
        raise InvalidInput("签发日期不能晚于今天。", field="signed_on")
    if signed_on < assignment.assigned_on:
        raise InvalidInput("签发日期不能早于交办日期。", field="signed_on")
    if assignment.status == Assignment.Status.SUBMITTED:
        raise ConcurrentChange("该交办已有一份回复在等待审核，请勿重复提交。")
    was_pending = assignment.status == Assignment.Status.PENDING
    if was_pending:
        assignment.acknowledged_at = timezone.now()
        assignment.save(update_fields=["acknowledged_at"])
    states.move(
        assignment, "submit_reply", actor=actor, note=f"{SignedReply.Result(result).label}：{summary.strip()[:200]}"
    )
    version = (assignment.replies.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    file.name = checked.safe_name
    reply = SignedReply(
        assignment=assignment,
        version=version,
        file=file,
        original_name=checked.safe_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        signer_name=signer_name.strip(),
        signer_title=signer_title.strip(),
        signed_on=signed_on,
        result=result,
        summary=summary.strip(),
        submitted_by=actor,
    )
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        # The file is written before the INSERT; don't leave it behind when the row loses.
        if reply.file.name:
            reply.file.storage.delete(reply.file.name)
        raise ConcurrentChange("该交办刚刚已有人提交了回复，请刷新后查看。") from None
    _tell_the_office(assignment, reply)
    return reply


def _tell_the_office(assignment: Assignment, reply: SignedReply) -> None:
    """The channel office's bell and email: a reply waits for its review (待审核). One notice per
    version, so a re-submission after a return is announced again."""
    issue, again = assignment.issue, reply.version > 1
    role = "主办" if assignment.role == Assignment.Role.LEAD else "协办"
    notifications.notify_users(
        assignment,
        f"{Notification.Kind.REPLY_SUBMITTED}-{reply.version}",
        office_members(issue.channel),
        title=f"{'重新提交' if again else '新回复'}待审核：{assignment.department.name}·{issue.title}",
        body=f"{assignment.department.name}（{role}）{'重新提交了' if again else '提交了'} {issue.ref}“{issue.title}”"
        f"的第{reply.version}版书面回复，请在“待审核”中审核。",
    )


@transaction.atomic
def accept_reply(*, actor: User | None, reply: SignedReply, note: str = "") -> SignedReply:
    """审核通过: the reply becomes immutable; when every assignment is answered the issue is replied."""
    reply = lock_reply(reply)
    assignment = Assignment.objects.select_for_update().get(pk=reply.assignment_id)
    issue = Issue.objects.select_for_update().get(pk=assignment.issue_id)
    require_office(actor, issue)
    if reply.review_status != SignedReply.Review.PENDING:
        if reply.review_status == SignedReply.Review.ACCEPTED:
            return reply
        raise IllegalTransition("该回复已被退回，不能再审核通过。")
    reply.review_status = SignedReply.Review.ACCEPTED
    reply.review_reason = note
    reply.reviewed_by = actor
    reply.reviewed_at = timezone.now()
    reply.save(update_fields=["review_status", "review_reason", "reviewed_by", "reviewed_at"])
    assignment.replied_on = reply.signed_on
    states.move(assignment, "accept_reply", actor=actor, note=note, also=("replied_on",))
    schedule_steps(assignment)  # answered: no more reminders
    # A withdrawn assignment (objection accepted) was replaced by another: it waits for nothing.
    waiting = issue.assignments.exclude(status__in=[Assignment.Status.ACCEPTED, Assignment.Status.WITHDRAWN])
    # Answered: the requests merged into it hear the answer (issue 19), once, when it moves.
    if not waiting.exists() and states.move(issue, "all_replied", actor=actor):
        pass_on_answer(actor=actor, lead=issue)
    return reply


@transaction.atomic
def return_reply(*, actor: User | None, reply: SignedReply, reason: str) -> SignedReply:
    """退回: the department must rework and submit a new version."""
    if not reason.strip():
        raise InvalidInput("退回时必须写明理由（如：未加盖公章、无负责人签字、未回应诉求）。", field="reason")
    reply = lock_reply(reply)
    assignment = Assignment.objects.select_for_update().get(pk=reply.assignment_id)
    require_office(actor, assignment.issue)
    if reply.review_status != SignedReply.Review.PENDING:
        raise IllegalTransition(f"该回复已{reply.get_review_status_display()}，不能退回。")
    reply.review_status = SignedReply.Review.RETURNED
    reply.review_reason = reason.strip()
    reply.reviewed_by = actor
    reply.reviewed_at = timezone.now()
    reply.save(update_fields=["review_status", "review_reason", "reviewed_by", "reviewed_at"])
    states.move(assignment, "return_reply", actor=actor, note=reason.strip())
    notifications.notify_department(
        assignment,
        f"{Notification.Kind.REPLY_RETURNED}-{reply.version}",
        title=f"回复被退回：{assignment.issue.title}",
        body=f"贵单位对 {assignment.issue.ref} 的第{reply.version}版书面回复被退回，理由：{reason.strip()}。"
        f"请重新办理并在 {assignment.due_date:%Y年%m月%d日} 前提交。",
    )
    return reply
