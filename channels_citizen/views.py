from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from feedback.access import issues_for
from feedback.models import Channel

from .models import NoMeetingWeek


@login_required
def home(request: HttpRequest) -> HttpResponse:
    issues = issues_for(request.user).filter(channel=Channel.CITIZEN)
    return render(request, "channels/home.html", {
        "channel": Channel.CITIZEN,
        "channel_label": Channel.CITIZEN.label,
        "sessions": NoMeetingWeek.objects.order_by("-month")[:12],
        "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:20],
        "issue_count": issues.count(),
    })
