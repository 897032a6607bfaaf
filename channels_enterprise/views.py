"""The enterprise channel's pages. Thin: validate with a form, fetch through channels_enterprise.access
(out of scope is 404), call a service, render. Reading: 经开区, county leaders, administrators (and a
department its own problems); writing: 经开区 and administrators only."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from feedback.access import assignments_for, get_or_404, issues_for
from feedback.errors import WorkflowError
from feedback.figures import statistics
from feedback.forms import add_service_error, bind_batch, department_choices, submit_batch
from feedback.models import Assignment, Channel, SignedReply
from feedback.views.common import query_without_page

from . import access, figures, services
from .exports import EXPORT_LIMIT, registry_workbook
from .forms import (
    ENTERPRISE_SORTS,
    ConsultationForm,
    ConsultationHeldForm,
    DutyForm,
    EnterpriseEditForm,
    EnterpriseFilterForm,
    EnterpriseForm,
    HeldForm,
    PastDayForm,
    ProblemFilterForm,
    ProblemFormSet,
    handling_departments,
    row_choices,
)
from .models import Consultation, Enterprise, EnterpriseIntake
from .services import can_manage

PAGE_SIZE = 25
NOT_FOUND = "未找到该记录，或您无权查看。"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_read(request: HttpRequest) -> None:
    if not access.can_read(request.user):
        raise Http404(NOT_FOUND)


def _require_manage(request: HttpRequest) -> None:
    # A leader reads but never acts: the write pages do not exist for them (404, as out of scope).
    if not can_manage(request.user):
        raise Http404(NOT_FOUND)


# --- the channel's page ---------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """This year's figures, problems solved per month and year, the coming and past days, links."""
    today = timezone.localdate()
    issues = issues_for(request.user).filter(channel=Channel.ENTERPRISE)
    summary = statistics.summary(
        statistics.cohort(
            issues, channel=Channel.ENTERPRISE, received_from=datetime.date(today.year, 1, 1), received_to=today
        ),
        as_of=today,
    )
    days = (
        access.days_for(request.user)
        .annotate(problem_count=Count("intakes", distinct=True), enterprise_count=Count("enterprises", distinct=True))
        .prefetch_related("leaders", "departments")
    )
    problems = access.intakes_for(request.user).aggregate(
        this_year=Count("pk", filter=Q(issue__received_on__year=today.year), distinct=True),
        consulted=Count(
            "pk", filter=Q(issue__received_on__year=today.year, consultations__isnull=False), distinct=True
        ),
    )
    return render(
        request,
        "channels/enterprise_home.html",
        {
            "channel": Channel.ENTERPRISE,
            "channel_label": Channel.ENTERPRISE.label,
            "figures": summary,
            "problems": problems,
            "year": today.year,
            "solved_months": figures.solved_per_month(issues)[:12],
            "solved_years": figures.solved_per_year(issues),
            "resolved": SignedReply.Result.RESOLVED,
            "can_read_days": access.can_read(request.user),
            "can_read_problems": access.can_read_problems(request.user),
            "can_manage": can_manage(request.user),
            "coming": days.coming(today)[:3],
            "past": days.past(today)[:6],
            "today": today,
            "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:10],
            "issue_count": issues.count(),
        },
    )


# --- the registry ---------------------------------------------------------------------------------


def filtered_enterprises(user: Any, data: dict[str, Any]) -> QuerySet[Enterprise]:
    rows = access.enterprises_for(user).annotate(problem_count=Count("intakes"))
    q = (data.get("q") or "").strip()
    if q:
        rows = rows.filter(
            Q(name__icontains=q) | Q(credit_code__icontains=q.upper()) | Q(park__icontains=q) | Q(sector__icontains=q)
        )
    active = data.get("active") or "1"
    if active != "all":
        rows = rows.filter(active=active == "1")
    sort = data.get("sort") if data.get("sort") in ENTERPRISE_SORTS else "name"
    return rows.order_by(sort, "name", "id")


@login_required
def enterprise_list(request: HttpRequest) -> HttpResponse:
    _require_read(request)
    form = EnterpriseFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = Paginator(filtered_enterprises(request.user, data), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/enterprise_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_manage": can_manage(request.user),
        },
    )


@login_required
def enterprise_export(request: HttpRequest) -> HttpResponse:
    """The list as filtered, in Excel (phones masked, as on the page)."""
    _require_read(request)
    form = EnterpriseFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = filtered_enterprises(request.user, data)[:EXPORT_LIMIT]
    response = HttpResponse(registry_workbook(rows), content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = content_disposition_header(True, f"企业名录-{stamp}.xlsx")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _enterprise_page(request: HttpRequest, enterprise: Enterprise, *, full_phone: str = "") -> HttpResponse:
    problems = (
        access.intakes_for(request.user)
        .filter(enterprise=enterprise)
        .select_related("issue", "day")
        .order_by("-issue__received_on", "-id")[:50]
    )
    response = render(
        request,
        "channels/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "problems": problems,
            "full_phone": full_phone,
            "log": enterprise.log.select_related("actor")[:50],
            "can_manage": can_manage(request.user),
            "can_see_phone": services.can_see_phone(request.user),
        },
    )
    if full_phone:
        response["Cache-Control"] = "private, no-store"
    return response


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _enterprise_page(request, get_or_404(access.enterprises_for(request.user), pk=pk))


@login_required
@require_POST
def enterprise_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the contact phone in full, once, to those allowed; recorded in the registry log."""
    enterprise = get_or_404(access.enterprises_for(request.user), pk=pk)
    if not services.can_see_phone(request.user):
        raise Http404(NOT_FOUND)
    phone = services.reveal_phone(actor=request.user, enterprise=enterprise)
    return _enterprise_page(request, enterprise, full_phone=phone or "（未登记）")


@login_required
def enterprise_create(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    form = EnterpriseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.register_enterprise(actor=request.user, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已登记“{enterprise.name}”。")
            return redirect("channels_enterprise:enterprise_detail", enterprise.pk)
    return render(request, "channels/enterprise_form.html", {"form": form, "enterprise": None})


@login_required
def enterprise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    enterprise = get_or_404(access.enterprises_for(request.user), pk=pk)
    initial = {
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "park": enterprise.park,
        "sector": enterprise.sector,
        "contact_name": enterprise.contact_name,
        "active": enterprise.active,
    }
    form = EnterpriseEditForm(request.POST or None, initial=initial, masked_phone=enterprise.masked_phone)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        phone = "" if data.get("clear_phone") else (data["contact_phone"] or enterprise.contact_phone)
        try:
            services.update_enterprise(
                actor=request.user,
                enterprise=enterprise,
                data=services.EnterpriseData(
                    name=data["name"],
                    credit_code=data["credit_code"],
                    park=data["park"],
                    sector=data["sector"],
                    contact_name=data["contact_name"],
                    contact_phone=phone,
                    active=data["active"],
                ),
            )
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("channels_enterprise:enterprise_detail", enterprise.pk)
    return render(request, "channels/enterprise_form.html", {"form": form, "enterprise": enterprise})


# --- enterprise days ------------------------------------------------------------------------------


@login_required
def day_list(request: HttpRequest) -> HttpResponse:
    _require_read(request)
    days = (
        access.days_for(request.user)
        .annotate(problem_count=Count("intakes", distinct=True), enterprise_count=Count("enterprises", distinct=True))
        .prefetch_related("leaders", "departments")
        .order_by("-held_on")
    )
    page = Paginator(days, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/enterprise_day_list.html",
        {
            "page": page,
            "today": timezone.localdate(),
            "can_manage": can_manage(request.user),
        },
    )


@login_required
@require_POST
def day_schedule(request: HttpRequest) -> HttpResponse:
    """Run the scheduler now (it also runs daily): the same services as the task and the API."""
    _require_manage(request)
    days = services.schedule_enterprise_days()
    notified = services.send_enterprise_day_notices()
    if days:
        messages.success(
            request,
            "已安排："
            + "、".join(f"{d.held_on:%Y-%m-%d}{'（暂定）' if d.provisional else ''}" for d in days)
            + f"；发送通知 {notified} 条。",
        )
    else:
        messages.success(request, f"企业家日均已安排，无需新建；发送通知 {notified} 条。")
    return redirect("channels_enterprise:day_list")


@login_required
def day_record(request: HttpRequest) -> HttpResponse:
    """补录 an enterprise day already held (one the scheduler never created)."""
    _require_manage(request)
    form = PastDayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            day = services.record_past_day(actor=request.user, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request, f"已补录{day}（{day.held_on:%Y-%m-%d}）。请安排带队领导、确认已举行，再批量登记现场问题。"
            )
            return redirect("channels_enterprise:day_detail", day.pk)
    return render(request, "channels/enterprise_day_record.html", {"form": form})


def _problem_rows(user: Any, intakes: QuerySet[EnterpriseIntake]) -> QuerySet[EnterpriseIntake]:
    # The departments shown are the assignments the user may see (a co-handler only its own).
    shown = (
        assignments_for(user)
        .exclude(status=Assignment.Status.WITHDRAWN)
        .select_related("department")
        .order_by("-role", "id")
    )  # lead ("lead" > "co") first
    return (
        intakes.select_related("issue", "issue__category", "day", "enterprise")
        .annotate(consultation_count=Count("consultations"))
        .prefetch_related(Prefetch("issue__assignments", queryset=shown, to_attr="shown_assignments"))
    )


@login_required
def day_detail(request: HttpRequest, pk: int) -> HttpResponse:
    day = get_or_404(
        access.days_for(request.user)
        .select_related("held_by")
        .prefetch_related("leaders", "departments", "enterprises"),
        pk=pk,
    )
    problems = _problem_rows(request.user, day.intakes.all()).order_by("id")
    today = timezone.localdate()
    return render(
        request,
        "channels/enterprise_day_detail.html",
        {
            "day": day,
            "problems": problems,
            "today": today,
            "due": day.held_on <= today,
            "can_manage": can_manage(request.user),
        },
    )


@login_required
def day_duty(request: HttpRequest, pk: int) -> HttpResponse:
    """Leaders and departments on duty, the enterprises visited, the on-site office place."""
    _require_manage(request)
    day = get_or_404(access.days_for(request.user), pk=pk)
    initial = {
        "leaders": list(day.leaders.all()),
        "departments": list(day.departments.all()),
        "enterprises": list(day.enterprises.all()),
        "place": day.place,
        "note": day.note,
    }
    form = DutyForm(request.POST or None, initial=initial, day=day)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_day_duty(actor=request.user, day=day, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "已保存带队领导、随行部门和现场办公安排。")
            return redirect("channels_enterprise:day_detail", day.pk)
    return render(request, "channels/enterprise_day_form.html", {"form": form, "day": day, "kind": "duty"})


@login_required
def day_held(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm that the day took place, with what was done on site."""
    _require_manage(request)
    day = get_or_404(access.days_for(request.user), pk=pk)
    form = HeldForm(request.POST or None, initial={"summary": day.summary})
    if request.method == "POST" and form.is_valid():
        try:
            services.mark_day_held(actor=request.user, day=day, summary=form.cleaned_data["summary"])
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已确认{day}已举行。")
            return redirect("channels_enterprise:day_detail", day.pk)
    return render(request, "channels/enterprise_day_form.html", {"form": form, "day": day, "kind": "held"})


def _problem_data(form: Any) -> services.ProblemData:
    return services.ProblemData(**form.cleaned_data)


@login_required
def day_intake(request: HttpRequest, pk: int) -> HttpResponse:
    """Batch intake right after an enterprise day: every row registered and assigned, or none."""
    _require_manage(request)
    day = get_or_404(access.days_for(request.user), pk=pk)
    departments = list(handling_departments())
    formset, adding = bind_batch(
        ProblemFormSet, request.POST or None, form_kwargs={"choices": row_choices(), "departments": departments}
    )
    batch_error = ""
    if request.method == "POST" and not adding and formset.is_valid():
        filled = formset.filled_forms()
        intakes, batch_error = submit_batch(
            filled,
            lambda: services.raise_problems(actor=request.user, day=day, problems=[_problem_data(f) for f in filled]),
        )
        if intakes is not None:
            messages.success(request, f"已登记并交办 {len(intakes)} 个企业问题。")
            return redirect("channels_enterprise:day_detail", day.pk)
    elif request.method == "POST" and not adding and any(formset.errors):
        bad = sum(1 for errors in formset.errors if errors)
        batch_error = f"有 {bad} 行填写不完整或有误，本批问题均未登记，请修改后重新提交。"
    return render(
        request,
        "channels/enterprise_problem_intake.html",
        {
            "day": day,
            "formset": formset,
            "batch_error": batch_error,
            "due": day.held_on <= timezone.localdate(),
            "departments": department_choices(departments),
        },
    )


# --- problems and 三长会诊 ---------------------------------------------------------------------------


@login_required
def problem_list(request: HttpRequest) -> HttpResponse:
    if not access.can_read_problems(request.user):
        raise Http404(NOT_FOUND)
    form = ProblemFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    intakes = access.intakes_for(request.user)
    day = enterprise = None
    if data.get("day"):
        day = get_or_404(access.days_for(request.user), pk=data["day"])
        intakes = intakes.filter(day=day)
    if data.get("enterprise"):
        enterprise = get_or_404(access.enterprises_for(request.user), pk=data["enterprise"])
        intakes = intakes.filter(enterprise=enterprise)
    if data.get("q"):
        q = data["q"].strip()
        intakes = intakes.filter(
            Q(issue__ref__icontains=q) | Q(issue__title__icontains=q) | Q(enterprise_name__icontains=q)
        )
    if data.get("status"):
        intakes = intakes.filter(issue__status=data["status"])
    if data.get("consulted"):
        consulted = Exists(Consultation.objects.filter(intake=OuterRef("pk")))
        intakes = intakes.filter(consulted) if data["consulted"] == "1" else intakes.exclude(consulted)
    rows = _problem_rows(request.user, intakes).order_by("-issue__received_on", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/enterprise_problem_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "day": day,
            "enterprise": enterprise,
            "can_manage": can_manage(request.user),
            "can_read_registry": access.can_read(request.user),
        },
    )


@login_required
def consultation_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a hard problem to 三长会诊 and record who took part and the outcome."""
    _require_manage(request)
    intake = get_or_404(access.intakes_for(request.user).select_related("issue", "day", "enterprise"), pk=pk)
    form = ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_consultation(
                actor=request.user,
                intake=intake,
                held_on=form.cleaned_data["held_on"],
                participants=form.participants(),
                outcome=form.cleaned_data["outcome"],
            )
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            planned = form.cleaned_data["held_on"] > timezone.localdate()
            done = "已提请" if planned else "已记录"
            messages.success(request, f"{done} {intake.issue.ref} 的三长会诊。")
            return redirect("channels_enterprise:consultation_list")
    return render(
        request,
        "channels/enterprise_consultation_form.html",
        {
            "form": form,
            "intake": intake,
            "earlier": intake.consultations.select_related("recorded_by"),
        },
    )


@login_required
@require_POST
def consultation_held(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the outcome of a planned 三长会诊 (planned → held)."""
    _require_manage(request)
    consultation = get_or_404(access.consultations_for(request.user).select_related("intake__issue"), pk=pk)
    form = ConsultationHeldForm(request.POST)
    if form.is_valid():
        try:
            services.mark_consultation_held(
                actor=request.user,
                consultation=consultation,
                outcome=form.cleaned_data["outcome"],
                held_on=form.cleaned_data["held_on"],
            )
        except WorkflowError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已记录 {consultation.intake.issue.ref} 的会诊结果。")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("channels_enterprise:consultation_list")


@login_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    if not access.can_read_problems(request.user):
        raise Http404(NOT_FOUND)
    rows = (
        access.consultations_for(request.user)
        .select_related("intake__issue", "intake__enterprise", "recorded_by")
        .order_by("-held_on", "-id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/enterprise_consultation_list.html",
        {
            "page": page,
            "query": "",
            "can_manage": services.can_manage(request.user),
            "held_form": ConsultationHeldForm(),
            "today": timezone.localdate(),
        },
    )
