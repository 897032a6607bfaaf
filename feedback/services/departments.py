"""Retiring (停用) and reactivating a department (issue 13 §6).

A department is never deleted (issues keep pointing at it), and it is not retired while it still
has open assignments: a retired department is offered nowhere, so its open work would be seen by
nobody. The refusal names the issues so the office can re-assign them first (异议 → 同意改派).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from feedback.errors import IllegalTransition, NotPermitted
from feedback.models import Assignment, Department

# How many references the refusal names before "等 N 件" (the admin's message stays readable).
LISTED_REFS = 20


class DepartmentHasOpenWork(IllegalTransition):
    """Retiring refused: ``refs`` are the issues whose assignment to the department is still open."""

    def __init__(self, department: Department, refs: list[str]) -> None:
        self.refs = refs
        shown = "、".join(refs[:LISTED_REFS]) + (f" 等 {len(refs)} 件" if len(refs) > LISTED_REFS else "")
        super().__init__(
            f"不能停用{department.name}：它还有 {len(refs)} 件未办结的交办（{shown}）。"
            "请先在这些诉求的页面改派给其他单位（由该单位提出异议、渠道办公室同意改派），办完后再停用。"
        )


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_superuser:
        raise NotPermitted("只有系统管理员可以停用或启用单位。")


def open_assignment_refs(department: Department) -> list[str]:
    return list(
        Assignment.objects.open()
        .filter(department=department)
        .order_by("issue__ref")
        .values_list("issue__ref", flat=True)
        .distinct()
    )


@transaction.atomic
def retire_department(*, actor: User | None, department: Department) -> Department:
    """停用: refused (DepartmentHasOpenWork) while any assignment of the department is open. The
    row is locked so that two administrators retiring at once do the check one after the other."""
    _require_admin(actor)
    department = Department.objects.select_for_update().get(pk=department.pk)
    if not department.active:
        return department  # a repeat is harmless
    refs = open_assignment_refs(department)
    if refs:
        raise DepartmentHasOpenWork(department, refs)
    department.active = False
    department.save(update_fields=["active"])
    return department


@transaction.atomic
def reactivate_department(*, actor: User | None, department: Department) -> Department:
    _require_admin(actor)
    Department.objects.filter(pk=department.pk).update(active=True)
    department.refresh_from_db()
    return department
