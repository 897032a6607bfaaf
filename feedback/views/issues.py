"""The issue ledger and the issue page, and the office's moves on an issue (assign, follow-up, close, 重办)."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from feedback import access, selectors, services, states
from feedback.access import Role, scope_of
from feedback.compiled import CompiledQuery
from feedback.forms import (
    AssignForm,
    CloseForm,
    ExtensionForm,
    FollowUpForm,
    FollowUpSkipForm,
    IssueEditForm,
    IssueFilterForm,
    IssueForm,
    ObjectionAcceptForm,
    ObjectionForm,
    ObjectionRejectForm,
    ReasonForm,
)
from feedback.ledger.export import XLSX_CONTENT_TYPE, issues_workbook
from feedback.models import Assignment, DeadlineStep, ExtensionRequest, Issue, Objection
from feedback.states import action_label
from feedback.views import merging
from feedback.views.common import PAGE_SIZE, KnownCountPaginator, flash_form_errors, query_without_page, run_service


@login_required
def issue_list(request: HttpRequest) -> HttpResponse:
    """The ledger, the office's home. Its 待审核 tab is the office's work list: one row per reply
    waiting for review (the lead's and the co-handlers'), the longest waiting first."""
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    reviewing = data.get("awaiting_review") == "1"
    context: dict[str, Any] = {
        "form": form,
        "query": query_without_page(request),
        "can_register": access.can_register(request.user),
        "reviewing": reviewing,
        "review_count": selectors.review_count(request.user),
        "review_query": _with_tab(request, "1"),
        "all_query": _with_tab(request, ""),
    }
    if reviewing:
        page = Paginator(selectors.review_queue(request.user, data), PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        issues = selectors.issue_list(request.user, data, flag_review=False)
        total = selectors.issue_list_total(request.user, data)
        page = KnownCountPaginator(issues, PAGE_SIZE, count=total).get_page(request.GET.get("page"))
        selectors.mark_awaiting_review(page.object_list)  # the page's rows, not the whole ledger's
        leads = selectors.lead_names([i.pk for i in page.object_list])
        for issue in page.object_list:
            issue.lead_name = leads.get(issue.pk, "")
    return render(request, "feedback/issue_list.html", {**context, "page": page})


def _with_tab(request: HttpRequest, awaiting_review: str) -> str:
    """The ledger's query string with the 待审核 tab set (``"1"``) or cleared, the other filters kept."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("awaiting_review", None)
    if awaiting_review:
        query["awaiting_review"] = awaiting_review
    return query.urlencode()


@login_required
def issue_export(request: HttpRequest) -> HttpResponse:
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = selectors.issue_list(request.user, data).prefetch_related("assignments__department")
    # Large lists are built by a worker with progress (feedback.views.export_jobs); small ones at once.
    rows = list(issues.values_list("pk", flat=True)[: services.export_jobs.EXPORT_SYNC_LIMIT + 1])
    if len(rows) > services.export_jobs.EXPORT_SYNC_LIMIT:
        job = services.request_export(actor=request.user, params=selectors.stored_filters(data))
        return redirect("export_job", pk=job.pk)
    response = HttpResponse(
        issues_workbook(issues.filter(pk__in=rows)),
        content_type=XLSX_CONTENT_TYPE,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="issues-{stamp}.xlsx"'
    return response


@login_required
def issue_create(request: HttpRequest) -> HttpResponse:
    channels = access.registrable_channels(request.user)
    if not channels:
        raise Http404("只有直通车办公室可以登记诉求。")
    form = IssueForm(request.POST or None, channels=channels)
    suggestions: list[Any] = []
    if request.method == "POST" and form.is_valid():
        # 并单 at intake (issue 19): a probable duplicate is shown before saving, without JavaScript too;
        # the clerk merges with one click (merge_into) or keeps it apart (keep_apart) and saves again.
        merge_ref = request.POST.get("merge_into", "").strip()
        if merge_ref:
            issue = run_service(request, form, lambda: _register_and_merge(request.user, form.cleaned_data, merge_ref))
            if issue is not None:
                messages.success(request, f"已登记诉求 {issue.ref}，并入 {merge_ref}，由该件统一办理。")
                return redirect("issue_detail", pk=issue.pk)
        else:
            # A reference already taken is refused first: the clerk must correct it whatever the duplicates.
            skip = request.POST.get("keep_apart") or merging.reference_taken(form.cleaned_data["ref"])
            suggestions = [] if skip else merging.likely_duplicates(request.user, form.cleaned_data)
            if not any(s.likely for s in suggestions):
                issue = run_service(request, form, lambda: _register_and_assign(request.user, form.cleaned_data))
                if issue is not None:
                    done = "并完成交办。" if form.cleaned_data["lead"] else "。"
                    messages.success(request, f"已登记诉求 {issue.ref}{done}")
                    return redirect("issue_detail", pk=issue.pk)
    return render(request, "feedback/issue_form.html", {"form": form, "suggestions": suggestions})


def _registration(data: dict[str, Any]) -> dict[str, Any]:
    """What the register form gives every registering service (with or without assigning or merging)."""
    return {
        "ref": data["ref"] or None,
        "channel": data["channel"],
        "category": data["category"],
        "requester": services.RequesterData(
            name=data["requester_name"],
            phone=data["requester_phone"],
            kind=data["requester_kind"],
            organization=data["requester_org"],
        ),
        "title": data["title"],
        "content": data["content"],
        "received_on": data["received_on"],
        "nature": data["nature"],
        "onsite_answer": data["onsite_answer"],
        "accused_department": data["accused_department"],
    }


def _register_and_merge(user: Any, data: dict[str, Any], merge_ref: str) -> Issue:
    lead = merging.lead_by_ref(user, merge_ref)
    return services.register_and_merge_issue(actor=user, into=lead, **_registration(data))


def _register_and_assign(user: Any, data: dict[str, Any]) -> Issue:
    return services.register_and_assign_issue(
        actor=user,
        lead=data["lead"],
        co=list(data["co"]),
        deadline_amount=data["deadline_amount"],
        deadline_unit=data["deadline_unit"] or None,
        **_registration(data),
    )


@login_required
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _issue_page(request, pk)


def _issue_page(request: HttpRequest, pk: int, *, follow_up_form: FollowUpForm | None = None) -> HttpResponse:
    """The issue page; a refused follow-up is shown on it with what the clerk entered."""
    issue = ISSUE_PAGE.first(request.user, pk=pk)
    if issue is None:
        raise Http404("未找到该记录，或您无权查看。")
    scope = scope_of(request.user)
    assignments = ISSUE_ASSIGNMENTS.fetch(request.user, issue=issue.pk)  # lead first
    _attach_handling(assignments, issue.pk)
    # Through access: a lead department also sees its co-handlers' replies (access.replies_for).
    replies = ISSUE_REPLIES.fetch(request.user, issue=issue.pk)
    history = ISSUE_HISTORY.fetch(request.user, issue=issue.pk)
    manage = access.can_manage_issue(request.user, issue)
    handle = manage and issue.merged_into_id is None  # a merged issue is handled on its lead
    today = timezone.localdate()
    selectors.explain_deadlines(assignments)
    selectors.split_ladder(assignments, now=timezone.now())
    member_department = scope.department if scope.role == Role.DEPARTMENT else None
    objection_forms = _objection_forms(
        assignments, member_department=member_department, manage=manage, today=today, issue=issue
    )
    return render(
        request,
        "feedback/issue_detail.html",
        {
            "issue": issue,
            "assignments": assignments,
            "replies": replies,
            "timeline": [(h, action_label(h.action)) for h in history],
            "manage": manage,
            "today": today,
            "assign_form": AssignForm() if handle and issue.status == Issue.Status.REGISTERED else None,
            # 回访 can be recorded (again) until closure; after it only 重办 reopens the issue.
            "follow_up_form": (follow_up_form or FollowUpForm())
            if handle and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP)
            else None,
            "skip_form": FollowUpSkipForm()
            if handle
            and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP)
            and issue.satisfaction not in states.RATINGS
            else None,
            "closure_refusal": states.closure_refusal(issue)
            if handle and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP)
            else "",
            "awaiting_review": any(a.status == Assignment.Status.SUBMITTED for a in assignments),
            "close_form": CloseForm()
            if handle and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP)
            else None,
            "reopen_form": ReasonForm()
            if handle and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP, Issue.Status.CLOSED)
            else None,
            "return_form": ReasonForm(),
            "extension_form": ExtensionForm(),
            "member_department": member_department,
            **objection_forms,
            **merging.page_context(request.user, issue, manage=manage),
        },
        status=400 if follow_up_form is not None else 200,
    )


@login_required
def issue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """更正登记信息: the channel's office, while the issue is open (issue 13 §3)."""
    issue = _managed_issue(request, pk)
    issue = Issue.objects.select_related("category", "requester").get(pk=issue.pk)
    form = IssueEditForm(request.POST or None, issue=issue)
    if request.method == "POST" and form.is_valid():
        changed = run_service(
            request, form, lambda: services.edit_issue(actor=request.user, issue=issue, correction=form.correction())
        )
        if changed is not None:
            if changed:
                messages.success(request, f"已更正{'、'.join(changed)}，修改前后的内容已记入办理记录。")
            else:
                messages.info(request, "没有修改任何内容。")
            return redirect("issue_detail", pk=issue.pk)
    closed = issue.status == Issue.Status.CLOSED
    return render(request, "feedback/issue_edit.html", {"issue": issue, "form": form, "closed": closed})


def _managed_issue(request: HttpRequest, pk: int) -> Issue:
    issue = access.get_or_404(access.issues_for(request.user), pk=pk)
    if not access.can_manage_issue(request.user, issue):
        raise Http404("未找到该记录，或您无权操作。")
    return issue


@login_required
@require_POST
def issue_assign(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = run_service(
            request,
            form,
            lambda: services.assign_issue(
                actor=request.user,
                issue=issue,
                lead=data["lead"],
                co=list(data["co"]),
                deadline_amount=data["deadline_amount"],
                deadline_unit=data["deadline_unit"] or None,
            ),
        )
        if done is not None:
            messages.success(request, "已交办。")
            return redirect("issue_detail", pk=pk)
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = FollowUpForm(request.POST)
    if not form.is_valid() and issue.status == Issue.Status.REPLIED:
        # Re-rendered rather than flashed after a redirect: the error sits under 回访结果 and the
        # comment typed during the call is kept. (From a stale page, where the page no longer shows
        # the form, the errors are flashed as for the other actions.)
        return _issue_page(request, issue.pk, follow_up_form=form)
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.record_follow_up(
            actor=request.user,
            issue=issue,
            satisfaction=form.cleaned_data["satisfaction"],
            comment=form.cleaned_data["comment"],
        ),
    ):
        messages.success(request, "已记录回访结果。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_follow_up_skipped(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = FollowUpSkipForm(request.POST)
    if form.is_valid() and run_service(
        request,
        form,
        lambda: services.record_follow_up_skipped(
            actor=request.user,
            issue=issue,
            reason=form.cleaned_data["follow_up_skipped"],
            note=form.cleaned_data["follow_up_skip_note"],
        ),
    ):
        messages.success(request, "已登记未能回访的原因，现在可以办结。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_close(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid() and run_service(
        request, None, lambda: services.close_issue(actor=request.user, issue=issue, on=form.cleaned_data["closed_on"])
    ):
        messages.success(request, "已办结。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.reopen_issue(actor=request.user, issue=issue, reason=form.cleaned_data["reason"]),
    ):
        messages.success(request, "已重新交办（重办）。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


# What the issue page shows under each assignment — the ladder of reminders and 督办 (feedback.services.sweeps,
# split by selectors.split_ladder into what is to come and what has happened), the extension requests and the
# objections — read by issue, each in one statement compiled once per process (feedback.compiled), and handed
# to the assignments the viewer may see: the rows of any other assignment of the issue are dropped unread.
ISSUE_STEPS = CompiledQuery(
    lambda issue: DeadlineStep.objects.filter(assignment__issue_id=issue).order_by("scheduled_for", "id"), issue=int
)
ISSUE_EXTENSIONS = CompiledQuery(lambda issue: ExtensionRequest.objects.filter(assignment__issue_id=issue), issue=int)
ISSUE_OBJECTIONS = CompiledQuery(
    lambda issue: (
        Objection.objects.filter(assignment__issue_id=issue)
        .select_related("suggested_department", "raised_by", "decided_by", "new_assignment__department")
        .order_by("raised_at", "id")
    ),
    issue=int,
)


def _attach_handling(assignments: list[Assignment], issue: int) -> None:
    """Set ``ladder_steps``, ``extension_list`` and ``objection_list`` on each of ``assignments``."""
    shown = {a.pk: a for a in assignments}
    for a in assignments:
        a.ladder_steps, a.extension_list, a.objection_list = [], [], []  # type: ignore[attr-defined]
    for query, attr in (
        (ISSUE_STEPS, "ladder_steps"),
        (ISSUE_EXTENSIONS, "extension_list"),
        (ISSUE_OBJECTIONS, "objection_list"),
    ):
        for row in query.fetch(issue=issue):
            assignment = shown.get(row.assignment_id)
            if assignment is not None:
                row.assignment = assignment
                getattr(assignment, attr).append(row)


# The issue page's four reads, compiled once per process for each shape of scope (access.ScopedQuery,
# decision 0810): a third of the requests under load are issue pages.
ISSUE_PAGE = access.ScopedQuery(
    lambda user, pk: (
        access.issues_for(user)
        .select_related("category", "requester")
        .annotate(has_merged=Exists(Issue.objects.filter(merged_into=OuterRef("pk"))))  # 并单: no query when none
        .filter(pk=pk)
    ),
    pk=int,
)
ISSUE_ASSIGNMENTS = access.ScopedQuery(
    lambda user, issue: (
        access.assignments_for(user)
        .filter(issue_id=issue)
        .select_related("department", "policy")
        .order_by("-role", "id")
    ),
    issue=int,
)
ISSUE_REPLIES = access.ScopedQuery(
    lambda user, issue: (
        access.replies_for(user)
        .filter(assignment__issue_id=issue)
        .select_related("assignment__department", "reviewed_by")
        .order_by("assignment_id", "-version")
    ),
    issue=int,
)
ISSUE_HISTORY = access.ScopedQuery(
    lambda user, issue: access.history_for(user, Issue(pk=issue)).select_related("actor", "assignment__department"),
    issue=int,
)


def _objection_forms(
    assignments: list[Assignment],
    *,
    member_department: Any,
    manage: bool,
    today: datetime.date,
    issue: Issue | None = None,
) -> dict[str, Any]:
    """Mark each assignment with what its viewer may do about objections, and build the forms.

    The department sees the form while ``services.objection_refusal`` has nothing against it (the same
    rule the service applies); the office gets accept and reject forms for each pending objection."""
    offer = False
    for a in assignments:
        objections = a.objection_list
        a.objection_pending = next((o for o in objections if o.status == Objection.Status.PENDING), None)
        if member_department is not None and a.department_id == member_department.pk and a.is_open:
            a.objection_last_day = services.objection_last_day(a)
            a.objection_allowed = (
                services.objection_refusal(a, objections, last_day=a.objection_last_day, today=today) is None
            )
            offer = offer or a.objection_allowed
        if manage and a.objection_pending is not None:
            a.objection_pending.accept_form = ObjectionAcceptForm(
                objection=a.objection_pending, prefix=f"obj{a.objection_pending.pk}"
            )
    return {
        "objection_form": ObjectionForm(exclude=member_department, issue=issue) if offer else None,
        "objection_reject_form": ObjectionRejectForm() if manage else None,
    }


privacy_log = logging.getLogger("feedback.privacy")
