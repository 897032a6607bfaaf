"""Server-rendered pages. Thin: validate with a form, fetch through access, call a service, render."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import access, services
from .access import Role, scope_of
from .deadlines import add_working_days, compute_deadline
from .downloads import reply_file_response
from .errors import WorkflowError
from .exports import issues_workbook
from .forms import (
    SORTS,
    AssignForm,
    CloseForm,
    DecisionForm,
    ExtensionForm,
    FollowUpForm,
    IssueFilterForm,
    IssueForm,
    PortalLoginForm,
    ReasonForm,
    ReplyForm,
)
from .models import Assignment, HistoryEntry, Issue, Notification, SignedReply
from .states import action_label
from .workcalendar import load_calendar

PAGE_SIZE = 25


class PortalLoginView(auth_views.LoginView):
    form_class = PortalLoginForm
    redirect_authenticated_user = True


class PortalLogoutView(auth_views.LogoutView):
    pass


def run_service(request: HttpRequest, form: forms.Form | None, call: Callable[[], Any]) -> Any:
    """Call a service; a WorkflowError becomes a form error (or a message) in plain Chinese."""
    try:
        return call()
    except WorkflowError as exc:
        if form is not None and exc.field and exc.field in form.fields:
            form.add_error(exc.field, exc.message)
        elif form is not None:
            form.add_error(None, exc.message)
        else:
            messages.error(request, exc.message)
        return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = scope_of(request.user).role
    if role == Role.DEPARTMENT:
        return redirect("inbox")
    return redirect("issue_list")


def filtered_issues(user: Any, data: dict[str, Any]) -> QuerySet[Issue]:
    issues = access.issues_for(user).select_related("category", "requester")
    if data.get("q"):
        q = data["q"].strip()
        issues = issues.filter(Q(ref__icontains=q) | Q(title__icontains=q) | Q(content__icontains=q)
                               | Q(requester__name__icontains=q))
    for field in ("channel", "status", "category"):
        if data.get(field):
            issues = issues.filter(**{field: data[field]})
    if data.get("department"):
        issues = issues.filter(assignments__department=data["department"]).distinct()
    if data.get("received_from"):
        issues = issues.filter(received_on__gte=data["received_from"])
    if data.get("received_to"):
        issues = issues.filter(received_on__lte=data["received_to"])
    sort = data.get("sort") if data.get("sort") in SORTS else "-received_on"
    return issues.order_by(sort, "-id")


@login_required
def issue_list(request: HttpRequest) -> HttpResponse:
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = filtered_issues(request.user, data)
    page = Paginator(issues, PAGE_SIZE).get_page(request.GET.get("page"))
    lead_names = _lead_names([i.pk for i in page.object_list])
    for issue in page.object_list:
        issue.lead_name = lead_names.get(issue.pk, "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "feedback/issue_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "can_register": access.can_register(request.user),
    })


def _lead_names(issue_ids: list[int]) -> dict[int, str]:
    rows = (Assignment.objects.filter(issue_id__in=issue_ids, role=Assignment.Role.LEAD)
            .values_list("issue_id", "department__name"))
    return dict(rows)


@login_required
def issue_export(request: HttpRequest) -> HttpResponse:
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = filtered_issues(request.user, data).prefetch_related("assignments__department")
    response = HttpResponse(
        issues_workbook(issues[:20000]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
    if request.method == "POST" and form.is_valid():
        issue = run_service(request, form, lambda: _register_and_assign(request.user, form.cleaned_data))
        if issue is not None:
            done = "并完成交办。" if form.cleaned_data["lead"] else "。"
            messages.success(request, f"已登记诉求 {issue.ref}{done}")
            return redirect("issue_detail", pk=issue.pk)
    return render(request, "feedback/issue_form.html", {"form": form})


def _register_and_assign(user: Any, data: dict[str, Any]) -> Issue:
    return services.register_and_assign_issue(
        actor=user, ref=data["ref"] or None, channel=data["channel"], category=data["category"],
        requester=services.RequesterData(name=data["requester_name"], phone=data["requester_phone"],
                                         kind=data["requester_kind"], organization=data["requester_org"]),
        title=data["title"], content=data["content"], received_on=data["received_on"],
        nature=data["nature"], onsite_answer=data["onsite_answer"], lead=data["lead"], co=list(data["co"]),
        deadline_amount=data["deadline_amount"], deadline_unit=data["deadline_unit"] or None,
    )


@login_required
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    issue = access.get_or_404(access.issues_for(request.user).select_related("category", "requester"), pk=pk)
    scope = scope_of(request.user)
    assignments = list(access.assignments_for(request.user).filter(issue=issue)
                       .select_related("department", "policy").prefetch_related("extensions")
                       .order_by("-role", "id"))  # lead first
    replies = (SignedReply.objects.filter(assignment__in=assignments)
               .select_related("assignment__department", "reviewed_by").order_by("assignment_id", "-version"))
    history = (HistoryEntry.objects.filter(issue=issue).select_related("actor", "assignment__department")
               .order_by("at", "id"))
    if scope.role == Role.DEPARTMENT:
        history = history.filter(Q(assignment__isnull=True) | Q(assignment__department=scope.department))
    manage = access.can_manage_issue(request.user, issue)
    today = timezone.localdate()
    if assignments:
        calendar = load_calendar(min(a.assigned_on for a in assignments),
                                 max(a.due_date for a in assignments) + datetime.timedelta(days=60))
        for a in assignments:
            lines = compute_deadline(a.assigned_on, a.deadline_amount, a.deadline_unit, calendar,
                                     policy_name=str(a.policy) if a.policy else "").explanation
            if a.due_date != a.original_due_date:
                extended = f"已批准延期：办理期限延至 {a.due_date:%Y-%m-%d}（原定 {a.original_due_date:%Y-%m-%d}）"
                lines = (*lines, extended)
            a.explanation = lines
    return render(request, "feedback/issue_detail.html", {
        "issue": issue,
        "assignments": assignments,
        "replies": replies,
        "timeline": [(h, action_label(h.action)) for h in history],
        "manage": manage,
        "today": today,
        "assign_form": AssignForm() if manage and issue.status == Issue.Status.REGISTERED else None,
        "follow_up_form": FollowUpForm() if manage and issue.status == Issue.Status.REPLIED else None,
        "close_form": CloseForm() if manage and issue.status in (Issue.Status.REPLIED,
                                                                  Issue.Status.FOLLOWED_UP) else None,
        "reopen_form": ReasonForm() if manage and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP,
                                                                    Issue.Status.CLOSED) else None,
        "return_form": ReasonForm(),
        "extension_form": ExtensionForm(),
        "member_department": scope.department if scope.role == Role.DEPARTMENT else None,
    })


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
        done = run_service(request, form, lambda: services.assign_issue(
            actor=request.user, issue=issue, lead=data["lead"], co=list(data["co"]),
            deadline_amount=data["deadline_amount"], deadline_unit=data["deadline_unit"] or None))
        if done is not None:
            messages.success(request, "已交办。")
            return redirect("issue_detail", pk=pk)
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid() and run_service(request, None, lambda: services.record_follow_up(
            actor=request.user, issue=issue, satisfaction=form.cleaned_data["satisfaction"],
            comment=form.cleaned_data["comment"])):
        messages.success(request, "已记录回访结果。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_close(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid() and run_service(request, None, lambda: services.close_issue(
            actor=request.user, issue=issue, on=form.cleaned_data["closed_on"])):
        messages.success(request, "已办结。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed_issue(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and run_service(request, None, lambda: services.reopen_issue(
            actor=request.user, issue=issue, reason=form.cleaned_data["reason"])):
        messages.success(request, "已重新交办（重办）。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


def _flash_form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)


INBOX_TABS = [
    ("pending", "待签收"),
    ("in_progress", "办理中"),
    ("due_soon", "即将到期"),
    ("overdue", "已超期"),
    ("replied", "已回复"),
]


def inbox_filters(today: datetime.date, soon: datetime.date) -> dict[str, Q]:
    open_q = Q(status__in=Assignment.OPEN_STATUSES)
    return {
        "pending": Q(status=Assignment.Status.PENDING),
        "in_progress": Q(status__in=[Assignment.Status.ACKNOWLEDGED, Assignment.Status.SUBMITTED,
                                     Assignment.Status.RETURNED]),
        "due_soon": open_q & Q(due_date__gte=today, due_date__lte=soon),
        "overdue": open_q & Q(due_date__lt=today),
        "replied": Q(status=Assignment.Status.ACCEPTED),
    }


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if scope.role not in (Role.DEPARTMENT, Role.ADMIN, Role.LEADER, Role.OFFICE):
        raise Http404("没有可查看的交办事项。")
    today = timezone.localdate()
    calendar = load_calendar(today, today + datetime.timedelta(days=30))
    soon = add_working_days(today, 2, calendar)
    filters = inbox_filters(today, soon)
    assignments = access.assignments_for(request.user)
    counts = assignments.aggregate(**{key: Count("id", filter=q) for key, q in filters.items()})
    tab = request.GET.get("tab") if request.GET.get("tab") in filters else "pending"
    rows = assignments.filter(filters[tab]).select_related("issue", "department", "issue__category")
    if request.GET.get("q"):
        q = request.GET["q"].strip()
        rows = rows.filter(Q(issue__ref__icontains=q) | Q(issue__title__icontains=q))
    rows = rows.order_by("due_date", "id") if tab != "replied" else rows.order_by("-replied_on", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/inbox.html", {
        "tabs": [(key, label, counts[key]) for key, label in INBOX_TABS],
        "tab": tab, "page": page, "today": today, "q": request.GET.get("q", ""),
        "department": scope.department,
    })


@login_required
@require_POST
def assignment_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user), pk=pk)
    if run_service(request, None, lambda: services.acknowledge_assignment(actor=request.user,
                                                                           assignment=assignment)):
        messages.success(request, f"已签收 {assignment.issue.ref}。")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/")
                    and not request.POST["next"].startswith("//") else "inbox")


@login_required
def reply_upload(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(
        access.assignments_for(request.user).select_related("issue", "department"), pk=pk)
    if not access.is_member_of(request.user, assignment.department):
        raise Http404("只有承办单位可以上传书面回复。")
    form = ReplyForm(request.POST or None, request.FILES or None, assignment=assignment)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reply = run_service(request, form, lambda: services.submit_reply(
            actor=request.user, assignment=assignment, file=data["file"], signer_name=data["signer_name"],
            signer_title=data["signer_title"], signed_on=data["signed_on"], result=data["result"],
            summary=data["summary"]))
        if reply is not None:
            messages.success(request, "书面回复已提交，等待直通车办公室审核。")
            return redirect("issue_detail", pk=assignment.issue_id)
    return render(request, "feedback/reply_form.html", {"form": form, "assignment": assignment})


def _reviewable_reply(request: HttpRequest, pk: int) -> SignedReply:
    reply = access.get_or_404(access.replies_for(request.user).select_related("assignment__issue"), pk=pk)
    if not access.can_manage_issue(request.user, reply.assignment.issue):
        raise Http404("未找到该记录，或您无权操作。")
    return reply


@login_required
@require_POST
def reply_accept(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _reviewable_reply(request, pk)
    if run_service(request, None, lambda: services.accept_reply(actor=request.user, reply=reply)):
        messages.success(request, "回复已审核通过。")
    return redirect("issue_detail", pk=reply.assignment.issue_id)


@login_required
@require_POST
def reply_return(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _reviewable_reply(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and run_service(request, None, lambda: services.return_reply(
            actor=request.user, reply=reply, reason=form.cleaned_data["reason"])):
        messages.success(request, "已退回，承办单位需重新办理并提交。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=reply.assignment.issue_id)


@login_required
def reply_download(request: HttpRequest, pk: int) -> FileResponse:
    return reply_file_response(access.get_or_404(access.replies_for(request.user), pk=pk))


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notes = Notification.objects.filter(recipient=request.user).select_related("issue")
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    # Reading one's own notifications is not a workflow transition; no service needed.
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications")


@login_required
@require_POST
def extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user), pk=pk)
    form = ExtensionForm(request.POST)
    if form.is_valid() and run_service(request, None, lambda: services.request_extension(
            actor=request.user, assignment=assignment, **form.cleaned_data)):
        messages.success(request, "延期申请已提交，等待直通车办公室审批。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=assignment.issue_id)


@login_required
@require_POST
def extension_decide(request: HttpRequest, pk: int, verdict: str) -> HttpResponse:
    extension = access.get_or_404(access.extensions_for(request.user).select_related("assignment"), pk=pk)
    if verdict not in ("approve", "reject"):
        raise Http404("未知操作。")
    form = DecisionForm(request.POST)
    if form.is_valid() and run_service(request, None, lambda: services.decide_extension(
            actor=request.user, request=extension, approve=verdict == "approve", note=form.cleaned_data["note"])):
        messages.success(request, "已批准延期。" if verdict == "approve" else "已记录：不批准延期。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=extension.assignment.issue_id)
