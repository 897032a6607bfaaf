"""Server-rendered pages. Thin: validate with a form, fetch through access, call a service, render."""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from . import access, documents, notifications, previews, services
from .access import Role, scope_of
from .deadlines import add_working_days, compute_deadline
from .downloads import reply_file_response
from .errors import WorkflowError
from .exports import importable_ledger_csv, inbox_workbook, issues_workbook
from .forms import (
    SORTS,
    AssignForm,
    CloseForm,
    DecisionForm,
    ExtensionForm,
    FollowUpForm,
    IssueFilterForm,
    IssueForm,
    LedgerUploadForm,
    ObjectionAcceptForm,
    ObjectionForm,
    ObjectionRejectForm,
    PortalLoginForm,
    ReasonForm,
    ReplyForm,
    add_service_error,
)
from .ledger import LedgerCheck, LedgerError, check_ledger
from .models import Assignment, Channel, DeadlineStep, HistoryEntry, Issue, Notification, Objection, SignedReply
from .security import preview_jobs
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
        if form is not None:
            add_service_error(form, exc)
        else:
            messages.error(request, exc.message)
        return None


def query_without_page(request: HttpRequest) -> str:
    """The list's query string for the pager's links (its own ``page`` left out)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = scope_of(request.user).role
    if role == Role.DEPARTMENT:
        return redirect("inbox")
    if role == Role.LEADER:
        return redirect("dashboard")
    return redirect("issue_list")


def filtered_issues(user: Any, data: dict[str, Any]) -> QuerySet[Issue]:
    issues = access.issues_for(user).select_related("category", "requester")
    if data.get("q"):
        q = data["q"].strip()
        issues = issues.filter(Q(ref__icontains=q) | Q(title__icontains=q) | Q(content__icontains=q)
                               | Q(requester__name__icontains=q))
    for field in ("channel", "status", "category", "nature"):
        if data.get(field):
            issues = issues.filter(**{field: data[field]})
    if data.get("result"):
        from .report import lead_result_is

        issues = issues.filter(lead_result_is(data["result"]))
    if data.get("replied"):
        from .report import fully_replied_q

        issues = issues.filter(fully_replied_q()) if data["replied"] == "1" else issues.exclude(fully_replied_q())
    if data.get("department"):
        # Withdrawn assignments (handed over after an objection) don't count, as on the dashboard.
        issues = issues.filter(Exists(Assignment.objects.live().filter(issue=OuterRef("pk"),
                                                                       department=data["department"])))
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
    return render(request, "feedback/issue_list.html", {
        "form": form, "page": page, "query": query_without_page(request),
        "can_register": access.can_register(request.user),
    })


def _lead_names(issue_ids: list[int]) -> dict[int, str]:
    rows = (Assignment.objects.filter(issue_id__in=issue_ids, role=Assignment.Role.LEAD)
            .exclude(status=Assignment.Status.WITHDRAWN).values_list("issue_id", "department__name"))
    return dict(rows)


@login_required
def issue_export(request: HttpRequest) -> HttpResponse:
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = filtered_issues(request.user, data).prefetch_related("assignments__department")
    # Large lists are built by a worker with progress (feedback.export_jobs); small ones at once.
    rows = list(issues.values_list("pk", flat=True)[:services.EXPORT_SYNC_LIMIT + 1])
    if len(rows) > services.EXPORT_SYNC_LIMIT:
        job = services.request_export(actor=request.user, params=request.GET.dict())
        return redirect("export_job", pk=job.pk)
    response = HttpResponse(
        issues_workbook(issues.filter(pk__in=rows)),
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
        accused_department=data["accused_department"],
    )


@login_required
def issue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _issue_page(request, pk)


def _issue_page(request: HttpRequest, pk: int, *, follow_up_form: FollowUpForm | None = None) -> HttpResponse:
    """The issue page; a refused follow-up is shown on it with what the clerk entered."""
    issue = access.get_or_404(access.issues_for(request.user).select_related("category", "requester"), pk=pk)
    scope = scope_of(request.user)
    assignments = list(access.assignments_for(request.user).filter(issue=issue)
                       .select_related("department", "policy").prefetch_related("extensions", OBJECTIONS,
                                                                                PENDING_STEPS)
                       .order_by("-role", "id"))  # lead first
    # Through access: a lead department also sees its co-handlers' replies (access.replies_for).
    replies = (access.replies_for(request.user).filter(assignment__issue=issue)
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
    member_department = scope.department if scope.role == Role.DEPARTMENT else None
    objection_forms = _objection_forms(assignments, member_department=member_department, manage=manage, today=today)
    return render(request, "feedback/issue_detail.html", {
        "issue": issue,
        "assignments": assignments,
        "replies": replies,
        "timeline": [(h, action_label(h.action)) for h in history],
        "manage": manage,
        "today": today,
        "assign_form": AssignForm() if manage and issue.status == Issue.Status.REGISTERED else None,
        "follow_up_form": (follow_up_form or FollowUpForm()) if manage and issue.status == Issue.Status.REPLIED
        else None,
        "close_form": CloseForm() if manage and issue.status in (Issue.Status.REPLIED,
                                                                  Issue.Status.FOLLOWED_UP) else None,
        "reopen_form": ReasonForm() if manage and issue.status in (Issue.Status.REPLIED, Issue.Status.FOLLOWED_UP,
                                                                    Issue.Status.CLOSED) else None,
        "return_form": ReasonForm(),
        "extension_form": ExtensionForm(),
        "member_department": member_department,
        **objection_forms,
    }, status=400 if follow_up_form is not None else 200)


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
    if not form.is_valid() and issue.status == Issue.Status.REPLIED:
        # Re-rendered rather than flashed after a redirect: the error sits under 回访结果 and the
        # comment typed during the call is kept. (From a stale page, where the page no longer shows
        # the form, the errors are flashed as for the other actions.)
        return _issue_page(request, issue.pk, follow_up_form=form)
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


def _inbox_assignments(request: HttpRequest) -> QuerySet[Assignment]:
    """The user's assignments, of the channel chosen (``channel``) if any: what the tabs count."""
    rows = access.assignments_for(request.user)
    channel = request.GET.get("channel", "")
    return rows.filter(issue__channel=channel) if channel in Channel.values else rows


def _inbox_rows(request: HttpRequest) -> tuple[str, dict[str, Q], QuerySet[Assignment]]:
    """The inbox's tab, its filters and the rows for this request (tab, channel, search and order),
    shared by the page and its Excel export."""
    if scope_of(request.user).role not in (Role.DEPARTMENT, Role.ADMIN, Role.LEADER, Role.OFFICE):
        raise Http404("没有可查看的交办事项。")
    today = timezone.localdate()
    soon = add_working_days(today, 2, load_calendar(today, today + datetime.timedelta(days=30)))
    filters = inbox_filters(today, soon)
    tab = request.GET.get("tab") if request.GET.get("tab") in filters else "pending"
    rows = _inbox_assignments(request).filter(filters[tab])
    if request.GET.get("q"):
        q = request.GET["q"].strip()
        rows = rows.filter(Q(issue__ref__icontains=q) | Q(issue__title__icontains=q))
    rows = rows.order_by("due_date", "id") if tab != "replied" else rows.order_by("-replied_on", "-id")
    return tab, filters, rows


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    tab, filters, rows = _inbox_rows(request)
    counts = _inbox_assignments(request).aggregate(**{key: Count("id", filter=q) for key, q in filters.items()})
    rows = (rows.select_related("issue", "department", "issue__category")
            .annotate(objection_pending=Exists(Objection.objects.filter(assignment=OuterRef("pk"),
                                                                        status=Objection.Status.PENDING))))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/inbox.html", {
        "tabs": [(key, label, counts[key]) for key, label in INBOX_TABS],
        "tab": tab, "page": page, "today": timezone.localdate(), "q": request.GET.get("q", ""),
        "department": scope_of(request.user).department,
        "channel": request.GET.get("channel", "") if request.GET.get("channel") in Channel.values else "",
        "channels": Channel.choices, "query": query_without_page(request),
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
    notifications.mark_all_read(user=request.user)
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


# --- Objections (异议) --------------------------------------------------------------------------------

# What the deadline sweep will do next, and when (the ladder's pending rows, feedback.sweeps).
PENDING_STEPS = Prefetch("steps", queryset=DeadlineStep.objects.filter(taken_at__isnull=True).order_by("scheduled_for"),
                         to_attr="pending_steps")
OBJECTIONS = Prefetch("objections", queryset=Objection.objects.select_related(
    "suggested_department", "raised_by", "decided_by", "new_assignment__department").order_by("raised_at", "id"))


def _objection_forms(assignments: list[Assignment], *, member_department: Any, manage: bool,
                     today: datetime.date) -> dict[str, Any]:
    """Mark each assignment with what its viewer may do about objections, and build the forms.

    The department sees the form while ``services.objection_refusal`` has nothing against it (the same
    rule the service applies); the office gets accept and reject forms for each pending objection."""
    offer = False
    for a in assignments:
        objections = list(a.objections.all())
        a.objection_pending = next((o for o in objections if o.status == Objection.Status.PENDING), None)
        if member_department is not None and a.department_id == member_department.pk and a.is_open:
            a.objection_last_day = services.objection_last_day(a)
            a.objection_allowed = services.objection_refusal(
                a, objections, last_day=a.objection_last_day, today=today) is None
            offer = offer or a.objection_allowed
        if manage and a.objection_pending is not None:
            a.objection_pending.accept_form = ObjectionAcceptForm(objection=a.objection_pending,
                                                                  prefix=f"obj{a.objection_pending.pk}")
    return {
        "objection_form": ObjectionForm(exclude=member_department) if offer else None,
        "objection_reject_form": ObjectionRejectForm() if manage else None,
    }


@login_required
@require_POST
def objection_raise(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user).select_related("department"), pk=pk)
    form = ObjectionForm(request.POST, exclude=assignment.department)
    if form.is_valid() and run_service(request, None, lambda: services.raise_objection(
            actor=request.user, assignment=assignment, reason=form.cleaned_data["reason"],
            suggested_department=form.cleaned_data["suggested_department"])):
        messages.success(request, "异议已提出，等待直通车办公室决定；决定之前请继续按原期限办理。")
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=assignment.issue_id)


@login_required
@require_POST
def objection_decide(request: HttpRequest, pk: int, verdict: str) -> HttpResponse:
    objection = access.get_or_404(access.objections_for(request.user).select_related("assignment"), pk=pk)
    if verdict == "accept":
        form: forms.Form = ObjectionAcceptForm(request.POST, objection=objection, prefix=f"obj{objection.pk}")

        def decide() -> Objection:
            data = form.cleaned_data
            return services.accept_objection(actor=request.user, objection=objection, department=data["department"],
                                             clock=data["clock"], note=data["note"])
        done = "已同意异议并改派。"
    elif verdict == "reject":
        form = ObjectionRejectForm(request.POST)

        def decide() -> Objection:
            return services.reject_objection(actor=request.user, objection=objection, note=form.cleaned_data["note"])
        done = "已驳回异议，原承办单位须按期办理。"
    else:
        raise Http404("未知操作。")
    if form.is_valid() and run_service(request, None, decide):
        messages.success(request, done)
    _flash_form_errors(request, form)
    return redirect("issue_detail", pk=objection.assignment.issue_id)


# --- 台账导入 (ledger import) and the importable export ------------------------------------------------

privacy_log = logging.getLogger("feedback.privacy")
IMPORT_SESSION_KEY = "ledger_import"
IMPORT_KEEP_SECONDS = 24 * 3600  # an upload never confirmed is removed by the next upload after a day
PREVIEW_ROWS = 200
PREVIEW_PROBLEMS = 500


def _import_dir() -> Path:
    # Under MEDIA_ROOT, which the portal never serves directly (no MEDIA_URL route).
    return Path(settings.MEDIA_ROOT) / "tmp" / "ledger-imports"


def _keep_upload(request: HttpRequest, data: bytes, name: str) -> str:
    """Keep the checked upload for the confirm step: a file named by a random token, and in the session
    only the token, the file's SHA-256 and its name. The path is never taken from the request."""
    _discard_upload(request)
    folder = _import_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - IMPORT_KEEP_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another request cleaned it up first
            pass
    token = secrets.token_hex(16)
    kept = folder / token
    kept.touch(mode=0o600)  # it holds phone numbers
    kept.write_bytes(data)
    request.session[IMPORT_SESSION_KEY] = {"token": token, "sha256": hashlib.sha256(data).hexdigest(),
                                           "name": Path(name).name[:200]}
    return token


def _discard_upload(request: HttpRequest) -> None:
    kept = request.session.pop(IMPORT_SESSION_KEY, None)
    if kept:
        (_import_dir() / kept["token"]).unlink(missing_ok=True)


def _kept_upload(request: HttpRequest) -> tuple[bytes, str] | None:
    kept = request.session.get(IMPORT_SESSION_KEY)
    if not kept or request.POST.get("token") != kept["token"]:
        return None
    try:
        data = (_import_dir() / kept["token"]).read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(data).hexdigest() != kept["sha256"]:
        return None
    return data, kept["name"]


def _import_page(request: HttpRequest, form: LedgerUploadForm, ledger: LedgerCheck | None = None,
                 name: str = "", token: str = "") -> HttpResponse:
    context: dict[str, Any] = {"form": form, "ledger": ledger, "name": name, "token": token}
    if ledger is not None:
        context.update(
            to_create=ledger.to_create[:PREVIEW_ROWS], more_rows=max(0, len(ledger.to_create) - PREVIEW_ROWS),
            problems=ledger.problems[:PREVIEW_PROBLEMS],
            more_problems=max(0, len(ledger.problems) - PREVIEW_PROBLEMS),
        )
    return render(request, "feedback/import.html", context)


@login_required
def issue_import(request: HttpRequest) -> HttpResponse:
    """Upload → checked preview (nothing written) → confirm → one transaction."""
    channels = access.registrable_channels(request.user)
    if not channels:
        raise Http404("只有直通车办公室可以导入台账。")
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _import_confirm(request, channels)
    form = LedgerUploadForm(request.POST, request.FILES) if request.method == "POST" else LedgerUploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        ledger = check_ledger(data, upload.name, channels=channels)
        token = _keep_upload(request, data, upload.name) if ledger.ok and ledger.to_create else ""
        return _import_page(request, LedgerUploadForm(), ledger, upload.name, token)
    return _import_page(request, form)


def _import_confirm(request: HttpRequest, channels: list[str]) -> HttpResponse:
    kept = _kept_upload(request)
    if kept is None:
        messages.error(request, "该导入已完成或已失效，请重新上传台账文件。")
        return redirect("issue_import")
    data, name = kept
    # Checked again: the database may have changed since the preview (a department retired, a ref registered).
    ledger = check_ledger(data, name, channels=channels)
    if ledger.ok:
        try:
            result = services.import_ledger(actor=request.user, ledger=ledger)
        except LedgerError as exc:
            ledger.problems = exc.problems
    _discard_upload(request)
    if not ledger.ok:
        return _import_page(request, LedgerUploadForm(), ledger, name)
    messages.success(request, f"台账“{name}”导入完成：新建 {len(result.created)} 条，"
                              f"已存在 {len(result.present)} 条（跳过）。")
    return redirect("issue_list")


@login_required
def issue_export_ledger(request: HttpRequest) -> HttpResponse:
    """The filtered list in the import format. It carries full phone numbers (the requester's
    identity on re-import), so only those who call requesters back may have it, and it is logged."""
    if not access.can_register(request.user):
        raise Http404("只有直通车办公室可以导出可导入格式的台账。")
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = list(filtered_issues(request.user, data).select_related("category", "requester")
                  .prefetch_related("assignments__department")[:20000])
    privacy_log.info("importable ledger export with phone numbers: user=%s issues=%d filters=%s",
                     request.user.get_username(), len(issues), request.GET.urlencode())
    response = HttpResponse(importable_ledger_csv(issues), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.csv"'
    return response


# --- Printable documents, first-page previews and the inbox in Excel (issue 5, items 7, 4 and 1) ------
# Everything here is fetched through the scoped querysets of feedback.access: out of scope is 404.

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INBOX_EXPORT_LIMIT = 20000


def _document_assignment(request: HttpRequest, pk: int) -> Assignment:
    return access.get_or_404(
        access.assignments_for(request.user).select_related(
            "issue__requester", "issue__category__parent", "department", "policy"),
        pk=pk)


@login_required
def assignment_slip(request: HttpRequest, pk: int) -> HttpResponse:
    """交办单, a print page (A4, @media print in portal.css)."""
    slip = documents.assignment_slip(_document_assignment(request, pk))
    return render(request, "feedback/print/assignment_slip.html", {"doc": slip, "issue": slip.issue})


@login_required
def assignment_chase_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """催办通知书 of an overdue assignment (dated by the ladder's chase step when it was taken)."""
    notice = documents.chase_notice(_document_assignment(request, pk))
    if notice is None:
        raise Http404("该交办没有超期，无需催办。")
    return render(request, "feedback/print/chase_notice.html", {"doc": notice, "issue": notice.issue})


@login_required
def assignment_reply_template(request: HttpRequest, pk: int) -> HttpResponse:
    """回复函 template (DOCX) filled in with the request, for the department to print, sign and stamp."""
    assignment = _document_assignment(request, pk)
    response = HttpResponse(documents.reply_letter_docx(assignment), content_type=documents.DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, documents.reply_letter_filename(assignment))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def reply_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The first page of a reply scan as a PNG, rendered on request; same scope as the download."""
    reply = access.get_or_404(access.replies_for(request.user), pk=pk)
    # Issue 15: rendered by a Celery task in a memory- and time-limited child process, never here.
    state, png = preview_jobs.stored_png(reply)
    if state is preview_jobs.State.PENDING:
        preview_jobs.request_render(reply)
        response = HttpResponse(preview_jobs.MSG_PENDING, status=202, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "private, no-store"
        response["Retry-After"] = "2"
    elif state is preview_jobs.State.FAILED:
        response = HttpResponse(previews.MSG_UNAVAILABLE, status=422, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "private, no-store"
    else:
        response = HttpResponse(png, content_type="image/png")
        response["Content-Disposition"] = content_disposition_header(False, f"preview-{reply.pk}.png")
        # A stored reply never changes (a correction is a new version), so the browser may keep it.
        response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def inbox_export(request: HttpRequest) -> HttpResponse:
    """The inbox's current tab and search as an Excel ledger; one query for the rows, whatever their number."""
    tab, _, rows = _inbox_rows(request)
    label = dict(INBOX_TABS)[tab]
    rows = rows.select_related("issue")
    response = HttpResponse(inbox_workbook(rows[:INBOX_EXPORT_LIMIT], title=label), content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = content_disposition_header(True, f"待办事项-{label}-{stamp}.xlsx")
    response["X-Content-Type-Options"] = "nosniff"
    return response
