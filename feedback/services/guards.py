"""Row locks and permission checks that several services share."""

from __future__ import annotations

from django.contrib.auth.models import User

from feedback.access import can_manage_issue, is_member_of
from feedback.errors import (
    InvalidInput,
    NotPermitted,
)
from feedback.models import (
    Assignment,
    Department,
    Issue,
    SignedReply,
)


def lock_assignment(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_for_update().select_related("issue", "department").get(pk=assignment.pk)


def require_member(actor: User | None, assignment: Assignment) -> None:
    if actor is not None and not is_member_of(actor, assignment.department):
        raise NotPermitted("只有承办单位的人员可以执行此操作。")


def lock_reply(reply: SignedReply) -> SignedReply:
    return (
        SignedReply.objects.select_for_update()
        .select_related("assignment", "assignment__issue", "assignment__department")
        .get(pk=reply.pk)
    )


def require_office(actor: User | None, issue: Issue) -> None:
    if actor is not None and not can_manage_issue(actor, issue):
        raise NotPermitted("只有该渠道的直通车办公室可以执行此操作。")


def check_handling_department(department: Department, *, field: str) -> None:
    if not department.active:
        raise InvalidInput(f"“{department.name}”已停用。", field=field)
    if department.kind == Department.Kind.OFFICE:
        raise InvalidInput("直通车办公室不能作为承办单位。", field=field)


def office_members(channel: str) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, membership__department__channel=channel, membership__department__active=True
        )
    )
