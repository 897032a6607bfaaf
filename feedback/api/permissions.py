"""Who may act, decided by the rules in ``feedback.access`` (the services apply the same rules again).

Checking here first means a user who may see an object but not act on it gets 403 before
the request body is even read, whatever it contains; objects out of scope never reach
these checks, because the views fetch them through the scoped querysets (404).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from feedback import access
from feedback.models import Assignment, Issue, SignedReply


class CanRegisterIssues(BasePermission):
    """Registering an issue: a channel office or an administrator."""

    message = "只有直通车办公室或系统管理员可以登记诉求。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or access.can_register(request.user)


class IsAssignedDepartmentMember(BasePermission):
    """Acknowledging an assignment or replying to it: a member of the assigned department."""

    message = "只有承办单位的人员可以执行此操作。"

    def has_object_permission(self, request: Request, view: Any, obj: Assignment) -> bool:
        return request.method in SAFE_METHODS or access.is_member_of(request.user, obj.department)


class CanManageIssue(BasePermission):
    """Assigning, reviewing replies, following up, closing, reopening: the channel's office or an admin."""

    message = "只有该渠道的直通车办公室可以执行此操作。"

    def has_object_permission(self, request: Request, view: Any, obj: Issue | SignedReply) -> bool:
        if request.method in SAFE_METHODS:
            return True
        issue = obj if isinstance(obj, Issue) else obj.assignment.issue
        return access.can_manage_issue(request.user, issue)
