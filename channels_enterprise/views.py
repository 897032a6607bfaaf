from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from feedback import statistics
from feedback.access import issues_for
from feedback.models import Channel

from . import access, figures
from .services import can_manage


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The channel's page: this year's figures, problems solved, then the coming and past days."""
    today = timezone.localdate()
    issues = issues_for(request.user).filter(channel=Channel.ENTERPRISE)
    summary = statistics.summary(statistics.cohort(issues, channel=Channel.ENTERPRISE,
                                                   received_from=datetime.date(today.year, 1, 1),
                                                   received_to=today), as_of=today)
    days = (access.days_for(request.user).annotate(problem_count=Count("intakes"))
            .prefetch_related("leaders", "departments", "enterprises"))
    return render(request, "channels/enterprise_home.html", {
        "channel": Channel.ENTERPRISE,
        "channel_label": Channel.ENTERPRISE.label,
        "figures": summary,
        "year": today.year,
        "solved_months": figures.solved_per_month(issues)[:12],
        "solved_years": figures.solved_per_year(issues),
        "can_read_days": access.can_read(request.user),
        "can_manage": can_manage(request.user),
        "coming": days.coming(today)[:3],
        "past": days.past(today)[:12],
        "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:20],
        "issue_count": issues.count(),
    })
