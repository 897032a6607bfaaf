"""A department's inbox (待签收 / 办理中 / 即将到期 / 已超期 / 已回复), its export, and acknowledgement."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from feedback import access, services
from feedback.access import Role, scope_of
from feedback.deadlines import add_working_days
from feedback.ledger.export import XLSX_CONTENT_TYPE, inbox_workbook
from feedback.models import Assignment, Channel, Objection
from feedback.selectors import inbox_counts, inbox_filters, inbox_per_status
from feedback.views.common import PAGE_SIZE, KnownCountPaginator, query_without_page, run_service
from feedback.workcalendar import load_calendar

INBOX_TABS = [
    ("pending", "待签收"),
    ("in_progress", "办理中"),
    ("due_soon", "即将到期"),
    ("overdue", "已超期"),
    ("replied", "已回复"),
]


def _inbox_assignments(request: HttpRequest) -> QuerySet[Assignment]:
    """The user's assignments, of the channel chosen (``channel``) if any: what the tabs count."""
    rows = access.assignments_for(request.user)
    channel = request.GET.get("channel", "")
    return rows.filter(issue__channel=channel) if channel in Channel.values else rows


def _soon(today: datetime.date) -> datetime.date:
    """The last day of 即将到期: two working days on."""
    return add_working_days(today, 2, load_calendar(today, today + datetime.timedelta(days=30)))


def _inbox_rows(request: HttpRequest, today: datetime.date, soon: datetime.date) -> tuple[str, QuerySet[Assignment]]:
    """The inbox's tab and the rows for this request (tab, channel, search and order), shared by the page
    and its Excel export."""
    if scope_of(request.user).role not in (Role.DEPARTMENT, Role.ADMIN, Role.LEADER, Role.OFFICE):
        raise Http404("没有可查看的交办事项。")
    filters = inbox_filters(today, soon)
    tab = request.GET.get("tab") if request.GET.get("tab") in filters else "pending"
    rows = _inbox_assignments(request).filter(filters[tab])
    if request.GET.get("q"):
        q = request.GET["q"].strip()
        rows = rows.filter(Q(issue__ref__icontains=q) | Q(issue__title__icontains=q))
    rows = rows.order_by("due_date", "id") if tab != "replied" else rows.order_by("-replied_on", "-id")
    return tab, rows


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    soon = _soon(today)
    tab, rows = _inbox_rows(request, today, soon)
    # Counted on issue_id (never NULL, so the same counts), which assignment_inbox_idx INCLUDEs: the counts
    # read that index alone, an index-only scan, where "id" sent every row to its heap page (0621).
    # A department's rows per status come from the kept tally (decision 0800); the open rows' due dates are
    # counted (few).
    channel = request.GET.get("channel", "")
    per_status = inbox_per_status(request.user, channel if channel in Channel.values else "")
    counts = inbox_counts(_inbox_assignments(request), today, soon, per_status)
    rows = rows.select_related("issue", "department", "issue__category").annotate(
        objection_pending=Exists(Objection.objects.filter(assignment=OuterRef("pk"), status=Objection.Status.PENDING))
    )
    # The tab's count is its rows' number (tests/feedback/test_page_costs.py holds them equal): not counted again,
    # unless a search narrows the rows.
    known = None if request.GET.get("q", "").strip() else counts[tab]
    page = KnownCountPaginator(rows, PAGE_SIZE, count=known).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/inbox.html",
        {
            "tabs": [(key, label, counts[key]) for key, label in INBOX_TABS],
            "tab": tab,
            "page": page,
            "today": timezone.localdate(),
            "q": request.GET.get("q", ""),
            "department": scope_of(request.user).department,
            "channel": request.GET.get("channel", "") if request.GET.get("channel") in Channel.values else "",
            "channels": Channel.choices,
            "query": query_without_page(request),
        },
    )


@login_required
@require_POST
def assignment_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user), pk=pk)
    if run_service(request, None, lambda: services.acknowledge_assignment(actor=request.user, assignment=assignment)):
        messages.success(request, f"已签收 {assignment.issue.ref}。")
    return redirect(
        request.POST.get("next")
        if request.POST.get("next", "").startswith("/") and not request.POST["next"].startswith("//")
        else "inbox"
    )


INBOX_EXPORT_LIMIT = 20000


@login_required
def inbox_export(request: HttpRequest) -> HttpResponse:
    """The inbox's current tab and search as an Excel ledger; one query for the rows, whatever their number."""
    today = timezone.localdate()
    tab, rows = _inbox_rows(request, today, _soon(today))
    label = dict(INBOX_TABS)[tab]
    rows = rows.select_related("issue")
    response = HttpResponse(inbox_workbook(rows[:INBOX_EXPORT_LIMIT], title=label), content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = content_disposition_header(True, f"待办事项-{label}-{stamp}.xlsx")
    response["X-Content-Type-Options"] = "nosniff"
    return response
