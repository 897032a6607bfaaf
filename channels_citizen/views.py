from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from feedback import statistics
from feedback.access import Role, issues_for, scope_of
from feedback.errors import WorkflowError
from feedback.models import Channel

from . import services
from .forms import WeekConfirmForm
from .models import NoMeetingWeek

FIRST_YEAR = 2021  # the channel started in September 2021 (DOMAIN.md)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    issues = issues_for(request.user).filter(channel=Channel.CITIZEN)
    this_year = timezone.localdate().year
    return render(request, "channels/citizen_home.html", {
        "channel": Channel.CITIZEN,
        "channel_label": Channel.CITIZEN.label,
        "figures": statistics.summary(statistics.cohort(issues, channel=Channel.CITIZEN)),
        "quiet_years": services.quiet_villages(list(range(FIRST_YEAR, this_year + 1))),
        "sessions": NoMeetingWeek.objects.order_by("-month")[:12],
        "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:20],
        "issue_count": issues.count(),
        "can_plan": services.can_plan(request.user),
    })


def _readable_week(request: HttpRequest, pk: int) -> NoMeetingWeek:
    if not services.can_read(request.user):
        raise PermissionDenied("只有县信访局、系统管理员和县领导可以查看无会周安排。")
    return get_object_or_404(NoMeetingWeek, pk=pk)


@login_required
def week_detail(request: HttpRequest, pk: int) -> HttpResponse:
    week = _readable_week(request, pk)
    return render(request, "channels/citizen_week.html", {
        "week": week,
        "roster": week.roster.select_related("leader", "township").prefetch_related("departments"),
        "visits": week.visits.select_related("township", "village", "leader")
                             .prefetch_related("cases", "courtyard_meetings"),
        # 一周一案 shown only when the viewer may see that issue (access rules, accusations).
        "case_of_week": issues_for(request.user).filter(pk=week.case_of_week_id).first(),
        "is_admin": scope_of(request.user).role == Role.ADMIN,
        "form": WeekConfirmForm(initial={"starts_on": week.starts_on, "ends_on": week.ends_on}),
    })


@login_required
@require_POST
def week_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    week = _readable_week(request, pk)
    form = WeekConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写有效的开始和结束日期。")
        return redirect("channels_citizen:week_detail", pk=week.pk)
    try:
        services.confirm_week(actor=request.user, week=week, **form.cleaned_data)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{week}已确认：{form.cleaned_data['starts_on']:%Y-%m-%d} 至 "
                                  f"{form.cleaned_data['ends_on']:%Y-%m-%d}。")
    return redirect("channels_citizen:week_detail", pk=week.pk)
