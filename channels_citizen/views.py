"""The 政民 channel's pages: no-meeting weeks and their roster, visits (集中接访 / 进村走访) with the
requests raised there, villages and the 无访村 trend.

Thin views: parse with a form, fetch through ``access`` (out of scope is 404), call a service, render.
Issues are always read through ``feedback.access.issues_for`` (departments see only their own;
an accused unit never sees the accusation).
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from feedback.access import get_or_404, issues_for
from feedback.assets import ECHARTS, available
from feedback.errors import InvalidInput, WorkflowError
from feedback.figures import statistics
from feedback.forms import add_service_error, bind_batch, department_choices, submit_batch
from feedback.models import Assignment, Channel, Department, Issue

from . import services
from .access import can_plan, can_read, roster_for, villages_for, visits_for, weeks_for
from .forms import (
    CaseOfWeekForm,
    CourtyardForm,
    IntakeOptions,
    RosterForm,
    VillageEditForm,
    VillageForm,
    VisitForm,
    VisitRequestFormSet,
    WeekConfirmForm,
    WeekPlanForm,
)
from .models import IntakePhoto, NoMeetingWeek, RosterEntry, Village, Visit

FIRST_YEAR = 2021  # the channel started in September 2021 (DOMAIN.md)
NOT_FOUND = "未找到该记录，或您无权查看。"
UPCOMING_MONTHS = 3  # the week list offers the default dates of this many months not yet planned


def _require_reader(request: HttpRequest) -> None:
    if not can_read(request.user):
        raise Http404(NOT_FOUND)


def _require_planner(request: HttpRequest) -> None:
    # Leaders read but never write: the write pages do not exist for them.
    if not can_plan(request.user):
        raise Http404(NOT_FOUND)


def _citizen_issues(request: HttpRequest) -> Any:
    return issues_for(request.user).filter(channel=Channel.CITIZEN)


def _with_handlers(issues: Any) -> Any:
    return issues.select_related("category", "requester").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.live().select_related("department").order_by("-role", "id"))
    )  # lead ("lead" > "co") first


# --- home ------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """This year's figures (over the issues the user may see, and the channel's own activity for
    those who read its planning), the current weeks, the latest visits and issues."""
    today = timezone.localdate()
    year_start = datetime.date(today.year, 1, 1)
    issues = _citizen_issues(request)
    figures = statistics.summary(
        statistics.cohort(issues, channel=Channel.CITIZEN, received_from=year_start, received_to=today), as_of=today
    )
    reader = can_read(request.user)
    context: dict[str, Any] = {
        "channel": Channel.CITIZEN,
        "channel_label": Channel.CITIZEN.label,
        "year": today.year,
        "figures": figures,
        "reader": reader,
        "can_plan": can_plan(request.user),
        "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:20],
        "issue_count": issues.count(),
    }
    if reader:
        context.update(
            {
                "activity": services.visit_figures(year_start, today),
                "quiet": services.quiet_villages([today.year])[0],
                "weeks": weeks_for(request.user).order_by("-month")[:4],
                "visits": visits_for(request.user)
                .select_related("township", "village", "leader")
                .order_by("-held_on", "-id")[:8],
            }
        )
    return render(request, "channels/citizen_home.html", context)


# --- weeks -----------------------------------------------------------------------------------------


def _next_months(today: datetime.date, count: int) -> list[datetime.date]:
    months, first = [], today.replace(day=1)
    for _ in range(count):
        months.append(first)
        first = first + datetime.timedelta(days=pycalendar.monthrange(first.year, first.month)[1])
    return months


@login_required
def week_list(request: HttpRequest) -> HttpResponse:
    """Every week (newest first), with the default dates of the coming months not yet planned."""
    _require_reader(request)
    today = timezone.localdate()
    weeks = (
        weeks_for(request.user)
        .select_related("confirmed_by")
        .annotate(roster_count=Count("roster", distinct=True), visit_count=Count("visits", distinct=True))
        .order_by("-month")
    )
    page = Paginator(weeks, 24).get_page(request.GET.get("page"))
    months = _next_months(today, UPCOMING_MONTHS)
    planned = set(weeks_for(request.user).filter(month__in=months).values_list("month", flat=True))
    proposals = [(month, services.default_week(month)) for month in months if month not in planned]
    return render(
        request,
        "channels/citizen_weeks.html",
        {
            "page": page,
            "proposals": proposals,
            "today": today,
            "can_plan": can_plan(request.user),
            "plan_form": WeekPlanForm(initial={"month": months[-1]}),
        },
    )


@login_required
@require_POST
def week_plan(request: HttpRequest) -> HttpResponse:
    _require_planner(request)
    form = WeekPlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择要生成无会周的月份。")
        return redirect("channels_citizen:week_list")
    try:
        week = services.plan_week(actor=request.user, month=form.cleaned_data["month"])
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("channels_citizen:week_list")
    messages.success(request, f"{week}：{week.starts_on:%Y-%m-%d} 至 {week.ends_on:%Y-%m-%d}，待确认。")
    return redirect("channels_citizen:week_detail", pk=week.pk)


def _week(request: HttpRequest, pk: int) -> NoMeetingWeek:
    _require_reader(request)
    return get_or_404(weeks_for(request.user).select_related("confirmed_by"), pk=pk)


def _week_page(
    request: HttpRequest,
    week: NoMeetingWeek,
    *,
    confirm_form: WeekConfirmForm | None = None,
    case_form: CaseOfWeekForm | None = None,
    status: int = 200,
) -> HttpResponse:
    issues = _citizen_issues(request)
    visits = (
        visits_for(request.user)
        .filter(week=week)
        .select_related("township", "village", "leader")
        .annotate(
            meeting_count=Count("courtyard_meetings", distinct=True),
            case_count=Count("cases", distinct=True),
            request_count=Count("intakes", distinct=True),
        )
        .order_by("held_on", "id")
    )
    case_of_week = issues.filter(pk=week.case_of_week_id).first() if week.case_of_week_id else None
    return render(
        request,
        "channels/citizen_week.html",
        {
            "week": week,
            "roster": roster_for(request.user)
            .filter(week=week)
            .select_related("leader", "township")
            .prefetch_related("departments"),
            "visits": visits,
            # 一周一案 shown only when the viewer may see that issue (access rules, accusations).
            "case_of_week": case_of_week,
            "can_plan": can_plan(request.user),
            "form": confirm_form or WeekConfirmForm(initial={"starts_on": week.starts_on, "ends_on": week.ends_on}),
            "case_form": case_form
            or CaseOfWeekForm(issues=issues, initial={"ref": case_of_week.ref if case_of_week else ""}),
        },
        status=status,
    )


@login_required
def week_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _week_page(request, _week(request, pk))


@login_required
@require_POST
def week_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    week = _week(request, pk)
    _require_planner(request)
    form = WeekConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.confirm_week(actor=request.user, week=week, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                f"{week}已确认：{form.cleaned_data['starts_on']:%Y-%m-%d} 至 {form.cleaned_data['ends_on']:%Y-%m-%d}。",
            )
            return redirect("channels_citizen:week_detail", pk=week.pk)
    messages.error(request, "无会周未确认，请按提示修改。")
    return _week_page(request, week, confirm_form=form, status=400)


@login_required
@require_POST
def week_case(request: HttpRequest, pk: int) -> HttpResponse:
    """一周一案: picked by reference among the citizen issues the user may see (blank clears it)."""
    week = _week(request, pk)
    _require_planner(request)
    form = CaseOfWeekForm(request.POST, issues=_citizen_issues(request))
    if form.is_valid():
        try:
            services.set_case_of_week(actor=request.user, week=week, issue=form.cleaned_data["ref"])
        except WorkflowError as exc:
            form.add_error("ref", exc.message)
        else:
            issue = form.cleaned_data["ref"]
            messages.success(request, f"一周一案：{issue.ref}。" if issue else "已取消本周的一周一案。")
            return redirect("channels_citizen:week_detail", pk=week.pk)
    return _week_page(request, week, case_form=form, status=400)


# --- roster ----------------------------------------------------------------------------------------


def _roster_form_page(
    request: HttpRequest, week: NoMeetingWeek, form: RosterForm, entry: RosterEntry | None
) -> HttpResponse:
    return render(
        request,
        "channels/citizen_roster_form.html",
        {"week": week, "form": form, "entry": entry},
        status=400 if form.is_bound else 200,
    )


@login_required
def roster_create(request: HttpRequest, pk: int) -> HttpResponse:
    week = _week(request, pk)
    _require_planner(request)
    form = RosterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.add_roster_entry(actor=request.user, week=week, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已安排{services.leader_name(entry.leader)}到{entry.township.name}。")
            return redirect("channels_citizen:week_detail", pk=week.pk)
    return _roster_form_page(request, week, form, None)


def _roster_entry(request: HttpRequest, pk: int) -> RosterEntry:
    _require_planner(request)
    return get_or_404(
        roster_for(request.user).select_related("week", "leader", "township").prefetch_related("departments"), pk=pk
    )


@login_required
def roster_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _roster_entry(request, pk)
    initial = {"leader": entry.leader, "township": entry.township, "departments": list(entry.departments.all())}
    form = RosterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_roster_entry(actor=request.user, entry=entry, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "下访安排已修改。")
            return redirect("channels_citizen:week_detail", pk=entry.week_id)
    return _roster_form_page(request, entry.week, form, entry)


@login_required
@require_POST
def roster_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _roster_entry(request, pk)
    services.remove_roster_entry(actor=request.user, entry=entry)
    messages.success(request, f"已删除{entry.township.name}的下访安排。")
    return redirect("channels_citizen:week_detail", pk=entry.week_id)


# --- visits ----------------------------------------------------------------------------------------


def _visit(request: HttpRequest, pk: int) -> Visit:
    _require_reader(request)
    return get_or_404(
        visits_for(request.user).select_related("week", "township", "village", "leader", "created_by"), pk=pk
    )


def _visit_arguments(form: VisitForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    place = data.pop("meeting_place", "")
    attendance = data.pop("meeting_attendance", None)
    outcome = data.pop("meeting_outcome", "")
    if attendance is not None or outcome or place:
        data["meetings"] = [services.MeetingData(attendance=attendance or 0, outcome=outcome, place=place)]
    return data


def _meeting_error(form: VisitForm, exc: WorkflowError) -> None:
    # The courtyard meeting's fields are named meeting_* on the visit form.
    field = {"attendance": "meeting_attendance", "outcome": "meeting_outcome"}.get(exc.field or "", exc.field)
    add_service_error(form, InvalidInput(exc.message, field=field))


@login_required
def visit_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a collective reception or a village visit of the week."""
    week = _week(request, pk)
    _require_planner(request)
    issues = _citizen_issues(request)
    roster = list(week.roster.select_related("leader", "township"))
    initial: dict[str, Any] = {"held_on": min(max(timezone.localdate(), week.starts_on), week.ends_on)}
    if len(roster) == 1:
        initial.update(township=roster[0].township, leader=roster[0].leader)
    form = VisitForm(request.POST or None, issues=issues, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            visit = services.record_visit(actor=request.user, week=week, **_visit_arguments(form))
        except WorkflowError as exc:
            _meeting_error(form, exc)
        else:
            messages.success(request, f"已登记{visit}。")
            return redirect("channels_citizen:visit_detail", pk=visit.pk)
    return render(
        request,
        "channels/citizen_visit_form.html",
        {
            "week": week,
            "form": form,
            "visit": None,
            "roster": roster,
            "open_cases": issues.exclude(status=Issue.Status.CLOSED).order_by("-received_on", "-id")[:15],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def visit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    _require_planner(request)
    issues = _citizen_issues(request)
    # Cases the user may not see stay linked, untouched: the form shows and replaces only the visible ones.
    visible_cases = list(issues.filter(pk__in=visit.cases.values("pk")).order_by("ref"))
    hidden_cases = list(visit.cases.exclude(pk__in=[c.pk for c in visible_cases]))
    initial = {
        "kind": visit.kind,
        "township": visit.township,
        "village": visit.village,
        "held_on": visit.held_on,
        "leader": visit.leader,
        "lawyer_present": visit.lawyer_present,
        "lawyer_name": visit.lawyer_name,
        "cases": "；".join(c.ref for c in visible_cases),
        "notes": visit.notes,
    }
    form = VisitForm(request.POST or None, issues=issues, initial=initial, with_meeting=False)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["cases"] = [*data["cases"], *hidden_cases]
        try:
            services.update_visit(actor=request.user, visit=visit, **data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "接访活动已修改。")
            return redirect("channels_citizen:visit_detail", pk=visit.pk)
    return render(
        request,
        "channels/citizen_visit_form.html",
        {
            "week": visit.week,
            "form": form,
            "visit": visit,
            "roster": [],
            "open_cases": issues.exclude(status=Issue.Status.CLOSED).order_by("-received_on", "-id")[:15],
        },
        status=400 if form.is_bound else 200,
    )


def _visit_page(
    request: HttpRequest, visit: Visit, *, meeting_form: CourtyardForm | None = None, status: int = 200
) -> HttpResponse:
    issues = _citizen_issues(request)
    return render(
        request,
        "channels/citizen_visit.html",
        {
            "visit": visit,
            "week": visit.week,
            "cases": _with_handlers(issues.filter(pk__in=visit.cases.values("pk"))).order_by("ref"),
            "requests": _with_handlers(issues.filter(citizen_intake__visit=visit))
            .select_related("citizen_intake__village", "accused_department")
            .order_by("ref"),
            "meetings": visit.courtyard_meetings.all(),
            # Photos of the requests the viewer may see (issue 20: taken on the phone at the visit).
            "photos": IntakePhoto.objects.filter(issue__in=issues.filter(citizen_intake__visit=visit))
            .select_related("issue")
            .order_by("issue__ref", "id"),
            # 一周一案 shown only when the viewer may see that issue (access rules, accusations).
            "case_of_week": issues.filter(pk=visit.week.case_of_week_id).first()
            if visit.week.case_of_week_id
            else None,
            "can_plan": can_plan(request.user),
            "held": visit.held_on <= timezone.localdate(),
            "meeting_form": meeting_form or CourtyardForm(),
        },
        status=status,
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _visit_page(request, _visit(request, pk))


@login_required
@require_POST
def courtyard_create(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit(request, pk)
    _require_planner(request)
    form = CourtyardForm(request.POST)
    if form.is_valid():
        try:
            services.record_courtyard_meeting(actor=request.user, visit=visit, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "已登记院落会议。")
            return redirect("channels_citizen:visit_detail", pk=visit.pk)
    return _visit_page(request, visit, meeting_form=form, status=400)


def _visit_request(form: Any) -> services.VisitRequest:
    return services.VisitRequest(**form.cleaned_data)


@login_required
def visit_intake(request: HttpRequest, pk: int) -> HttpResponse:
    """Batch intake right after a visit: every row registered and assigned, or none."""
    visit = _visit(request, pk)
    _require_planner(request)
    options = IntakeOptions.load(township=visit.township)
    formset, adding = bind_batch(VisitRequestFormSet, request.POST or None, form_kwargs={"options": options})
    batch_error = ""
    if request.method == "POST" and adding:
        pass
    elif request.method == "POST" and formset.is_valid():
        filled = formset.filled_forms()
        issues, batch_error = submit_batch(
            filled,
            lambda: services.record_visit_requests(
                actor=request.user, visit=visit, rows=[_visit_request(f) for f in filled]
            ),
        )
        if issues is not None:
            messages.success(request, f"已登记并交办 {len(issues)} 件诉求：{'、'.join(i.ref for i in issues)}。")
            return redirect("channels_citizen:visit_detail", pk=visit.pk)
    elif request.method == "POST":
        batch_error = "有填写错误，本批诉求均未登记，请按提示修改后重新提交。"
    return render(
        request,
        "channels/citizen_visit_intake.html",
        {
            "visit": visit,
            "formset": formset,
            "batch_error": batch_error,
            "held": visit.held_on <= timezone.localdate(),
            "departments": department_choices(options.departments),
        },
        status=400 if request.method == "POST" and not adding else 200,
    )


# --- villages --------------------------------------------------------------------------------------


def _quiet_chart(years: list[services.QuietVillageYear]) -> dict[str, Any]:
    """The years the channel recorded anything in (an empty year is no record, not a quiet one)."""
    shown = [y for y in years if y.quiet is not None]
    return {
        "years": [str(y.year) for y in shown],
        "quiet": [y.quiet for y in shown],
        "villages": [y.villages for y in shown],
    }


@login_required
def village_list(request: HttpRequest) -> HttpResponse:
    """Townships and their villages (with this year's petitions per village), the yearly 无访村 count
    and its trend; planners add villages here."""
    _require_reader(request)
    today = timezone.localdate()
    form = VillageForm(request.POST or None)
    if request.method == "POST":
        _require_planner(request)
        if form.is_valid():
            try:
                village = services.add_village(actor=request.user, **form.cleaned_data)
            except WorkflowError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"已新增{village}。")
                return redirect("channels_citizen:village_list")
    # Petitions this year per village, counted over the issues the user may see.
    visible = _citizen_issues(request).filter(received_on__year=today.year).values("pk")
    villages = (
        villages_for(request.user)
        .select_related("township")
        .annotate(petitions=Count("intakes", filter=Q(intakes__issue__in=visible)))
    )
    by_township: dict[int, list[Village]] = {}
    for village in villages:
        by_township.setdefault(village.township_id, []).append(village)
    towns = Department.objects.filter(Q(kind=Department.Kind.TOWNSHIP) & (Q(active=True) | Q(villages__isnull=False)))
    groups = []
    for town in towns.distinct().order_by("sort_order", "code"):
        rows = by_township.get(town.pk, [])
        active = [v for v in rows if v.active]
        groups.append(
            {
                "township": town,
                "villages": rows,
                "active": len(active),
                "quiet": sum(1 for v in active if not v.petitions),
            }
        )
    years = services.quiet_villages(list(range(FIRST_YEAR, today.year + 1)))
    return render(
        request,
        "channels/citizen_villages.html",
        {
            "groups": groups,
            "years": years,
            "year": today.year,
            "form": form,
            "can_plan": can_plan(request.user),
            "chart_data": _quiet_chart(years),
            "echarts": available(ECHARTS),
            "echarts_path": ECHARTS,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def village_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_planner(request)
    village = get_or_404(villages_for(request.user).select_related("township"), pk=pk)
    form = VillageEditForm(request.POST or None, initial={"name": village.name, "active": village.active})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_village(actor=request.user, village=village, **form.cleaned_data)
        except WorkflowError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("channels_citizen:village_list")
    return render(
        request,
        "channels/citizen_village_form.html",
        {"village": village, "form": form},
        status=400 if form.is_bound else 200,
    )


# --- offline visit capture (issue 20) --------------------------------------------------------------

# Bumped when the page's or the service worker's files change: the new worker replaces the old
# cache at once (docs/decisions/0640-offline-visit-capture.md).
OFFLINE_VERSION = "1"


@login_required
def offline_page(request: HttpRequest) -> HttpResponse:
    """The visit team's installable page: works without a signal once loaded (static/js/offline_visit.js)."""
    _require_planner(request)
    return render(request, "channels/citizen_offline.html", {"version": OFFLINE_VERSION})


def service_worker(request: HttpRequest) -> HttpResponse:
    """Served under /citizen/offline/ so that its scope covers the page (a worker under /static/ could
    only control /static/). Public like any script: it holds no data, only the list of files to keep."""
    response = render(
        request,
        "channels/citizen_offline_sw.js",
        {"version": OFFLINE_VERSION},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"  # the browser checks for a new worker on every visit
    response["Service-Worker-Allowed"] = reverse("channels_citizen:offline_page")
    return response


def offline_manifest(request: HttpRequest) -> JsonResponse:
    page = reverse("channels_citizen:offline_page")
    manifest = {
        "name": "政民直通车 下访离线登记",
        "short_name": "下访登记",
        "lang": "zh-CN",
        "start_url": page,
        "scope": page,
        "display": "standalone",
        "background_color": "#f6f6f4",
        "theme_color": "#b22222",
        "icons": [{"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = JsonResponse(manifest, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@login_required
def photo_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo taken at a visit: whoever may see its issue (feedback.access) may see the photo."""
    photo = get_or_404(IntakePhoto.objects.filter(issue__in=issues_for(request.user)).select_related("issue"), pk=pk)
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件不存在，请联系管理员。") from None
    ext = "png" if photo.content_type == "image/png" else "jpg"
    response = FileResponse(
        handle, filename=f"{photo.issue.ref}-现场照片{photo.pk}.{ext}", content_type=photo.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
