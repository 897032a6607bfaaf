"""The reads that pages, exports and the API share, each defined once.

A selector takes the user (scoping always goes through ``feedback.access``) and plain values, and
returns a queryset or a small value; it never writes. The issue ledger page, its Excel export, the
background export job and the API list all read ``issue_list``: a filter means the same everywhere
(the department filter counts live assignments only — a handed-over, withdrawn one does not — as
the dashboard does).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from feedback import access
from feedback.deadlines import compute_deadline, working_days_between
from feedback.figures import tally
from feedback.figures.statistics import fully_replied_q, lead_result_is
from feedback.models import Assignment, Issue, SignedReply
from feedback.workcalendar import load_calendar

# The ledger's sort orders (the page's 排序 choice); anything else sorts newest first.
SORTS = {
    "-received_on": "受理日期（新→旧）",
    "received_on": "受理日期（旧→新）",
    "ref": "编号",
    "status": "状态",
}
DEFAULT_SORT = "-received_on"


def handled_by_q(**department: Any) -> Q:
    """Issues with a live assignment to the department (``department=obj_or_pk`` or
    ``department__code=code``). A withdrawn assignment (handed over after an objection) does not
    count, as on the dashboard."""
    return Q(Exists(Assignment.objects.live().filter(issue=OuterRef("pk"), **department)))


def awaiting_review_q() -> Q:
    """Issues with a written reply waiting for the office's review (待审核): an assignment, the lead's
    or a co-handler's, in ``submitted``. A state derived from the assignments, not an issue status
    (docs/decisions/0600): the issue stays 办理中 and the figures do not move."""
    return Q(Exists(Assignment.objects.filter(issue=OuterRef("pk"), status=Assignment.Status.SUBMITTED)))


def issue_list(user: Any, filters: Mapping[str, Any], *, flag_review: bool = True) -> QuerySet[Issue]:
    """The issues ``user`` may see, filtered and sorted as the ledger page, its exports and the API
    list them. ``filters`` holds cleaned values (a form's ``cleaned_data``, or the same as plain
    values: pks and ISO dates); empty ones are ignored.

    Each issue is annotated ``awaiting_review`` unless ``flag_review`` is false and the 待审核 filter is
    not asked for: then the caller marks the rows it shows (``mark_awaiting_review``). For a page of
    25, PostgreSQL answers the annotation's EXISTS by hashing every submitted assignment of the county
    (it plans for the whole result, not the LIMIT): 29 of the ledger's 31 ms at 200,000 issues."""
    issues: QuerySet[Issue] = access.issues_for(user).select_related("category", "requester")
    if q := (filters.get("q") or "").strip():
        issues = issues.filter(
            Q(ref__icontains=q) | Q(title__icontains=q) | Q(content__icontains=q) | Q(requester__name__icontains=q)
        )
    for field in ("channel", "status", "category", "nature"):
        if filters.get(field):
            issues = issues.filter(**{field: filters[field]})
    if filters.get("result"):
        issues = issues.filter(lead_result_is(filters["result"]))
    if filters.get("replied"):
        replied = fully_replied_q()
        issues = issues.filter(replied) if filters["replied"] == "1" else issues.exclude(replied)
    if filters.get("department"):
        issues = issues.filter(handled_by_q(department=filters["department"]))
    if filters.get("received_from"):
        issues = issues.filter(received_on__gte=filters["received_from"])
    if filters.get("received_to"):
        issues = issues.filter(received_on__lte=filters["received_to"])
    if filters.get("awaiting_review") in (True, "1", "true"):
        issues = issues.annotate(awaiting_review=awaiting_review_q()).filter(awaiting_review=True)
        if filters.get("sort") not in SORTS:
            # The work list: the reply that has waited longest first (by its submission).
            return with_waiting_since(issues).order_by("waiting_since", "id")
    elif filters.get("awaiting_review") in (False, "0", "false"):
        issues = issues.annotate(awaiting_review=awaiting_review_q()).filter(awaiting_review=False)
    elif flag_review:
        issues = issues.annotate(awaiting_review=awaiting_review_q())
    sort: str = filters["sort"] if filters.get("sort") in SORTS else DEFAULT_SORT
    return issues.order_by(sort, "-id")


def issue_list_total(user: Any, filters: Mapping[str, Any]) -> int | None:
    """The number of ``issue_list(user, filters)``'s issues without counting them, when no filter but the
    channel (or the sort) is set and the user is an office, a leader or an administrator: the channels'
    totals from the kept tally (``feedback.figures.tally``), less the few issues accusing the user's own
    unit (``access.issues_for``). None otherwise: the caller counts. tests/feedback/test_issue_tally.py
    holds it equal to the count for every role and channel."""
    if any(filters.get(k) not in (None, "") for k in filters if k not in ("channel", "sort")):
        return None
    channel = filters.get("channel") or ""
    scope = access.scope_of(user)
    channels: list[str] | None
    if scope.role in (access.Role.ADMIN, access.Role.LEADER):
        channels = [channel] if channel else None
    elif scope.role == access.Role.OFFICE:
        if channel not in ("", scope.channel):
            return 0
        channels = [scope.channel]
    else:
        return None
    accusing = 0
    if scope.department is not None:
        accused = Issue.objects.filter(accused_department=scope.department)
        accusing = (accused if channels is None else accused.filter(channel__in=channels)).count()
    return tally.total(channels) - accusing


def mark_awaiting_review(issues: Iterable[Issue]) -> None:
    """Set ``awaiting_review`` on each of these issues (a page of the ledger) that has none: one query."""
    unmarked = [i for i in issues if not hasattr(i, "awaiting_review")]
    if not unmarked:
        return
    waiting = set(
        Assignment.objects.filter(
            issue_id__in=[i.pk for i in unmarked], status=Assignment.Status.SUBMITTED
        ).values_list("issue_id", flat=True)
    )
    for issue in unmarked:
        issue.awaiting_review = issue.pk in waiting  # type: ignore[attr-defined]


def with_waiting_since(issues: QuerySet[Issue]) -> QuerySet[Issue]:
    """``waiting_since``: when the issue's oldest reply still waiting for review was submitted."""
    waiting = (
        SignedReply.objects.filter(
            assignment__issue=OuterRef("pk"),
            assignment__status=Assignment.Status.SUBMITTED,
            review_status=SignedReply.Review.PENDING,
        )
        .order_by("submitted_at")
        .values("submitted_at")[:1]
    )
    return issues.annotate(waiting_since=Subquery(waiting))


@dataclass(frozen=True)
class WaitingReply:
    """One row of the 待审核 work list."""

    reply: SignedReply
    waited: int  # working days since the submission (the county calendar), 0 on the day itself

    @property
    def assignment(self) -> Assignment:
        return self.reply.assignment

    @property
    def issue(self) -> Issue:
        return self.reply.assignment.issue


def review_queue(user: Any, filters: Mapping[str, Any], *, today: datetime.date | None = None) -> list[WaitingReply]:
    """The replies waiting for review among the ledger's issues (``filters`` as ``issue_list``),
    the longest waiting first, each with its wait in working days (the county calendar: a weekend,
    a holiday or an unworked 调休 day does not count). Co-handlers' replies are there too."""
    today = today or timezone.localdate()
    issues = issue_list(user, {**filters, "awaiting_review": ""})
    replies = list(
        access.replies_for(user)
        .filter(
            review_status=SignedReply.Review.PENDING,
            assignment__status=Assignment.Status.SUBMITTED,
            assignment__issue__in=issues.values("pk"),
        )
        .select_related("assignment__issue", "assignment__department")
        .order_by("submitted_at", "id")
    )
    if not replies:
        return []
    days = [timezone.localdate(r.submitted_at) for r in replies]
    calendar = load_calendar(min(days), max(today, max(days)))
    return [WaitingReply(r, working_days_between(d, today, calendar)) for r, d in zip(replies, days, strict=True)]


def review_count(user: Any) -> int:
    """The count on the 待审核 tab: replies waiting for review in the user's scope."""
    waiting: QuerySet[SignedReply] = access.replies_for(user).filter(
        review_status=SignedReply.Review.PENDING, assignment__status=Assignment.Status.SUBMITTED
    )
    return waiting.count()


def stored_filters(cleaned: Mapping[str, Any]) -> dict[str, str]:
    """Cleaned filters as plain strings (model → pk, date → ISO), to be kept with a background
    export job and given to ``issue_list`` again by the worker."""
    out: dict[str, str] = {}
    for key, value in cleaned.items():
        if value in (None, ""):
            continue
        if hasattr(value, "pk"):
            value = value.pk
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        out[key] = str(value)
    return out


def lead_names(issue_ids: list[int]) -> dict[int, str]:
    """The lead department's name per issue, for a page of the ledger (one query)."""
    rows = (
        Assignment.objects.filter(issue_id__in=issue_ids, role=Assignment.Role.LEAD)
        .exclude(status=Assignment.Status.WITHDRAWN)
        .values_list("issue_id", "department__name")
    )
    return dict(rows)


def inbox_filters(today: datetime.date, soon: datetime.date) -> dict[str, Q]:
    """The inbox tabs: 待签收 / 办理中 / 即将到期 / 已超期 / 已回复."""
    open_q = Q(status__in=Assignment.OPEN_STATUSES)
    return {
        "pending": Q(status=Assignment.Status.PENDING),
        "in_progress": Q(
            status__in=[Assignment.Status.ACKNOWLEDGED, Assignment.Status.SUBMITTED, Assignment.Status.RETURNED]
        ),
        "due_soon": open_q & Q(due_date__gte=today, due_date__lte=soon),
        "overdue": open_q & Q(due_date__lt=today),
        "replied": Q(status=Assignment.Status.ACCEPTED),
    }


def inbox_per_status(user: Any, channel: str = "") -> dict[str, int] | None:
    """For a department's member: its assignments (of ``channel``'s issues if given) per status, from the
    kept tally (``feedback.figures.tally``), less those on issues accusing the department (hidden from it:
    ``access.assignments_for``), which are few and counted. None for any other role: the caller counts.
    tests/feedback/test_issue_tally.py holds it equal to ``assignments_for(user)`` grouped and counted."""
    scope = access.scope_of(user)
    if scope.role != access.Role.DEPARTMENT or scope.department is None:
        return None
    counts = tally.per_status(scope.department.pk, channel)
    # As access._not_accused reads them: the (few) issues accusing the unit, through their index, not a join of
    # the department's every assignment to its issue; counted on issue_id, an index-only scan.
    accusing = Issue.objects.filter(accused_department=scope.department)
    hidden = Assignment.objects.filter(
        department=scope.department,
        issue__in=(accusing.filter(channel=channel) if channel else accusing).values("pk"),
    )
    for status, n in hidden.order_by().values_list("status").annotate(n=Count("issue")):
        counts[status] = counts.get(status, 0) - n
    return counts


def inbox_counts(
    rows: QuerySet[Assignment], today: datetime.date, soon: datetime.date, per_status: dict[str, int] | None = None
) -> dict[str, int]:
    """The count on each inbox tab: ``rows.filter(inbox_filters(today, soon)[tab]).count()`` for every tab
    (tests/feedback/test_page_costs.py holds them equal), in two statements that each read only what they
    need: the rows per status, grouped (an index-only scan of assignment_inbox_idx), and the due dates of
    the open rows alone. Five FILTERed counts over every row evaluated each filter on each of a busy
    department's 65,000 assignments: 30–35 ms at a million issues, against 7 + 2 ms here. ``per_status``,
    when given (``inbox_per_status``: a department's, from the kept tally), stands for the first statement."""
    status = Assignment.Status
    if per_status is None:
        per_status = dict(rows.order_by().values_list("status").annotate(n=Count("issue")))
    due = rows.filter(status__in=Assignment.OPEN_STATUSES).aggregate(
        due_soon=Count("issue", filter=Q(due_date__gte=today, due_date__lte=soon)),
        overdue=Count("issue", filter=Q(due_date__lt=today)),
    )
    return {
        "pending": per_status.get(status.PENDING, 0),
        "in_progress": sum(per_status.get(s, 0) for s in (status.ACKNOWLEDGED, status.SUBMITTED, status.RETURNED)),
        "due_soon": due["due_soon"],
        "overdue": due["overdue"],
        "replied": per_status.get(status.ACCEPTED, 0),
    }


def iso_date(day: datetime.date) -> str:
    return f"{day:%Y-%m-%d}"


def split_ladder(assignments: Iterable[Assignment], *, now: datetime.datetime) -> None:
    """Set ``pending_steps`` (the reminders and 督办 still to come, soonest first) and ``past_steps``
    (those taken, or due already and waiting for the next sweep) on each assignment, from its
    prefetched ``ladder_steps``. An untaken step of an earlier deadline (before 重办 or an extension)
    was superseded and is left out of both."""
    for a in assignments:
        steps = [
            s
            for s in getattr(a, "ladder_steps", ())
            if s.taken_at is not None or s.deadline_version == a.deadline_version
        ]
        coming = [s for s in steps if s.taken_at is None and s.scheduled_for > now]
        a.pending_steps = coming  # type: ignore[attr-defined]
        a.past_steps = [s for s in steps if s not in coming]  # type: ignore[attr-defined]


def explain_deadlines(assignments: Iterable[Assignment], *, date_text: Any = iso_date) -> None:
    """Set ``explanation`` on each assignment: the policy, the start, the rest days skipped and an
    approved extension — the same lines on the issue page and on the printed 交办单 (which writes
    dates the Chinese way: ``date_text``). One calendar read for all of them."""
    assignments = list(assignments)
    if not assignments:
        return
    calendar = load_calendar(
        min(a.assigned_on for a in assignments), max(a.due_date for a in assignments) + datetime.timedelta(days=60)
    )
    for a in assignments:
        lines = compute_deadline(
            a.assigned_on,
            a.deadline_amount,
            a.deadline_unit,
            calendar,
            policy_name=str(a.policy) if a.policy_id else "",
        ).explanation
        if a.due_date != a.original_due_date:
            lines = (
                *lines,
                f"已批准延期：办理期限延至 {date_text(a.due_date)}（原定 {date_text(a.original_due_date)}）",
            )
        a.explanation = lines  # type: ignore[attr-defined]
