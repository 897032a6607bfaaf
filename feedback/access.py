"""Who may see what: every view and API view fetches objects through these querysets.

Out of scope is 404, never 403: a user must not learn that an object exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from feedback.compiled import CompiledQuery
from feedback.models import (
    Assignment,
    Channel,
    Department,
    ExtensionRequest,
    HistoryEntry,
    Issue,
    Objection,
    SignedReply,
)


class Role:
    ADMIN = "admin"
    LEADER = "leader"
    OFFICE = "office"
    DEPARTMENT = "department"
    NONE = "none"


# Django groups that carry the roles (created by load_reference_data).
GROUP_NAMES = {
    Role.ADMIN: "系统管理员",
    Role.LEADER: "县领导",
    Role.OFFICE: "直通车办公室",
    Role.DEPARTMENT: "承办单位",
}
ROLE_LABELS = {**GROUP_NAMES, Role.NONE: "未分配角色"}


@dataclass(frozen=True)
class Scope:
    role: str
    department: Department | None

    @property
    def channel(self) -> str:
        return self.department.channel if self.department and self.role == Role.OFFICE else ""

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


def scope_of(user: Any) -> Scope:
    """The user's role and department, computed once per user object."""
    cached: Scope | None = getattr(user, "_zt_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    if getattr(user, "is_authenticated", False):
        user._zt_scope = scope
    return scope


def _compute_scope(user: Any) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(Role.NONE, None)
    membership = getattr(user, "membership", None) if hasattr(user, "membership") else None
    department = membership.department if membership else None
    in_admin, in_leader = _role_groups(user)
    if user.is_superuser or in_admin:
        return Scope(Role.ADMIN, department)
    if in_leader:
        return Scope(Role.LEADER, department)
    if department is not None and department.active:
        if department.kind == Department.Kind.OFFICE and department.channel:
            return Scope(Role.OFFICE, department)
        if department.kind != Department.Kind.OFFICE:
            return Scope(Role.DEPARTMENT, department)
    return Scope(Role.NONE, department)


# The session's user is read with these two flags (``role_group_flags``, feedback.security.auth), so the
# scope of a request costs no statement of its own; any other user object asks its groups once.
IN_ADMIN_GROUP = "zt_in_admin_group"
IN_LEADER_GROUP = "zt_in_leader_group"


def role_group_flags() -> dict[str, Exists]:
    """Annotations for a User queryset: whether each user is in the admin and the leader group."""
    member = User.groups.through.objects.filter(user=OuterRef("pk"))
    return {
        IN_ADMIN_GROUP: Exists(member.filter(group__name=GROUP_NAMES[Role.ADMIN])),
        IN_LEADER_GROUP: Exists(member.filter(group__name=GROUP_NAMES[Role.LEADER])),
    }


def _role_groups(user: Any) -> tuple[bool, bool]:
    if hasattr(user, IN_ADMIN_GROUP) and hasattr(user, IN_LEADER_GROUP):
        return bool(getattr(user, IN_ADMIN_GROUP)), bool(getattr(user, IN_LEADER_GROUP))
    groups = set(user.groups.values_list("name", flat=True))
    return GROUP_NAMES[Role.ADMIN] in groups, GROUP_NAMES[Role.LEADER] in groups


def _not_accused(scope: Scope, issue_path: str = "") -> Q:
    """检举控告 (信访工作条例 art. 30): an accusation is never shown to the accused unit, whatever the
    user's role there and even if it were assigned the issue. Applied here once, so every list,
    detail page, inbox, download, export, statistic and API built on these querysets inherits it."""
    if scope.department is None:
        return Q()
    if issue_path:
        # From another table: "not one of the (few) issues accusing this unit", a hashed list read once
        # through the accused_department index, rather than a join of every row to its issue to read
        # one column (an inbox's tab counts over 65,000 assignments: 1.4 s → bench/README.md, load.py).
        accusing = Issue.objects.filter(accused_department=scope.department).values("pk")
        return ~Q(**{f"{issue_path[: -len('issue__')]}issue__in": accusing})
    return ~Q(accused_department=scope.department)


def issues_for(user: Any) -> Any:
    scope = scope_of(user)
    issues = Issue.objects.filter(_not_accused(scope))
    if scope.role in (Role.ADMIN, Role.LEADER):
        return issues
    if scope.role == Role.OFFICE:
        return issues.filter(channel=scope.channel)
    if scope.role == Role.DEPARTMENT:
        return issues.filter(Exists(Assignment.objects.filter(issue=OuterRef("pk"), department=scope.department)))
    return issues.none()


def assignments_for(user: Any) -> Any:
    scope = scope_of(user)
    assignments = Assignment.objects.filter(_not_accused(scope, "issue__"))
    if scope.role in (Role.ADMIN, Role.LEADER):
        return assignments
    if scope.role == Role.OFFICE:
        return assignments.filter(issue__channel=scope.channel)
    if scope.role == Role.DEPARTMENT:
        return assignments.filter(department=scope.department)
    return assignments.none()


def replies_for(user: Any) -> Any:
    """The replies of the user's assignments; a member of a lead department also sees the
    co-handlers' replies on the issues it leads (协办单位的回复汇总到主办单位), every version,
    so it can build the formal answer. A co-handler sees only its own department's replies:
    not the lead's, not another co-handler's. A withdrawn lead (objection accepted) leads nothing."""
    scope = scope_of(user)
    if scope.role != Role.DEPARTMENT:
        return SignedReply.objects.filter(assignment__in=assignments_for(user))
    leads = Assignment.objects.filter(
        issue=OuterRef("assignment__issue"), department=scope.department, role=Assignment.Role.LEAD
    ).exclude(status=Assignment.Status.WITHDRAWN)
    return SignedReply.objects.filter(Q(assignment__department=scope.department) | Exists(leads)).filter(
        _not_accused(scope, "assignment__issue__")
    )


def extensions_for(user: Any) -> Any:
    return ExtensionRequest.objects.filter(assignment__in=assignments_for(user))


def objections_for(user: Any) -> Any:
    return Objection.objects.filter(assignment__in=assignments_for(user))


class ScopedQuery:
    """A statement built from these scopes, compiled once per process for each shape of scope (feedback.compiled,
    decision 0810): ``ScopedQuery(lambda user, pk: issues_for(user).filter(pk=pk), pk=int).fetch(user, pk=5)``.

    The querysets above differ by role, and by whether the user belongs to a unit (an accusation is hidden
    from it); within one such shape only the unit's id and the office's channel change, and they are bound
    as values like the caller's own. ``build`` gets a stand-in user carrying only a scope: it must read the
    user through ``scope_of`` alone. A user with no role runs the plain queryset (it is empty)."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **kinds: type) -> None:
        self._build = build
        self._kinds = kinds
        self._shapes: dict[tuple[str, bool], CompiledQuery] = {}
        self._lock = threading.Lock()

    def fetch(self, user: Any, **values: Any) -> list[Any]:
        scope = scope_of(user)
        if scope.role == Role.NONE:
            return list(self._build(user, **values))
        shape = (scope.role, scope.department is not None)
        query = self._shapes.get(shape) or self._compiled(shape)
        scoped: dict[str, Any] = {"department": scope.department.pk} if scope.department is not None else {}
        if scope.role == Role.OFFICE:
            scoped["channel"] = scope.channel
        return query.fetch(**scoped, **values)

    def first(self, user: Any, **values: Any) -> Any:
        rows = self.fetch(user, **values)
        return rows[0] if rows else None

    def _compiled(self, shape: tuple[str, bool]) -> CompiledQuery:
        role, in_unit = shape
        kinds = dict(self._kinds)
        if in_unit:
            kinds["department"] = int
        if role == Role.OFFICE:
            kinds["channel"] = str

        def build(department: int | None = None, channel: str = "", **values: Any) -> QuerySet[Any]:
            unit = Department(pk=department, channel=channel) if in_unit else None
            return self._build(SimpleNamespace(_zt_scope=Scope(role, unit)), **values)

        with self._lock:
            query = self._shapes.get(shape)
            if query is None:
                query = self._shapes[shape] = CompiledQuery(
                    build, optional=frozenset({"department", "channel"}), **kinds
                )
            return query


def get_or_404(queryset: Any, **lookup: Any) -> Any:
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录，或您无权查看。") from None


def can_register(user: Any) -> bool:
    return scope_of(user).role in (Role.OFFICE, Role.ADMIN)


def registrable_channels(user: Any) -> list[str]:
    scope = scope_of(user)
    if scope.role == Role.ADMIN:
        return list(Channel.values)
    if scope.role == Role.OFFICE:
        return [scope.channel]
    return []


def can_manage_issue(user: Any, issue: Issue) -> bool:
    """Assign, review, follow up, close: the office of the issue's channel, or an admin."""
    scope = scope_of(user)
    return scope.role == Role.ADMIN or (scope.role == Role.OFFICE and scope.channel == issue.channel)


def is_member_of(user: Any, department: Department) -> bool:
    scope = scope_of(user)
    return scope.role == Role.DEPARTMENT and scope.department is not None and scope.department.pk == department.pk


def is_read_only(user: Any) -> bool:
    return scope_of(user).role == Role.LEADER


def history_for(user: Any, issue: Issue) -> Any:
    """The issue's timeline as ``user`` may read it: a department sees the issue's own rows and
    those of its own assignment, never another department's (an accused unit's, a co-handler's)."""
    history = HistoryEntry.objects.filter(issue=issue).order_by("at", "id")
    scope = scope_of(user)
    if scope.role == Role.DEPARTMENT:
        history = history.filter(Q(assignment__isnull=True) | Q(assignment__department=scope.department))
    return history
