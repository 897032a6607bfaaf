from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from feedback.access import can_register, issues_for, registrable_channels
from feedback.errors import InvalidInput, WorkflowError
from feedback.models import Channel

from . import services
from .forms import DeclineForm, PublishForm
from .models import Forum, PublicSubmission


@login_required
def home(request: HttpRequest) -> HttpResponse:
    issues = issues_for(request.user).filter(channel=Channel.NET)
    return render(request, "channels/home.html", {
        "channel": Channel.NET,
        "channel_label": Channel.NET.label,
        "sessions": Forum.objects.order_by("-held_on")[:12],
        "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:20],
        "issue_count": issues.count(),
    })


def _require_net_office(request: HttpRequest) -> None:
    if not (can_register(request.user) and Channel.NET in registrable_channels(request.user)):
        raise Http404("未找到该记录，或您无权查看。")


@login_required
def submission_list(request: HttpRequest) -> HttpResponse:
    """Triage of suggestions sent through the public portal (网信办)."""
    _require_net_office(request)
    rows = PublicSubmission.objects.select_related("category", "issue", "forum")
    return render(request, "channels/submissions.html", {
        "pending": rows.pending().order_by("submitted_at")[:100],
        "decided": rows.exclude(status=PublicSubmission.Status.RECEIVED).order_by("-decided_at")[:50],
        "decline_form": DeclineForm(),
        "publish_form": PublishForm(),
    })


@login_required
@require_POST
def submission_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require_net_office(request)
    submission = get_object_or_404(PublicSubmission, pk=pk)
    try:
        if action == "accept":
            issue = services.accept_submission(actor=request.user, submission=submission)
            messages.success(request, f"已受理，登记为诉求 {issue.ref}。")
        elif action == "decline":
            form = DeclineForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("请填写不予受理的理由。")
            services.decline_submission(actor=request.user, submission=submission, reason=form.cleaned_data["reason"])
            messages.success(request, "已不予受理。")
        elif action == "publish":
            form = PublishForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("请填写公开答复摘要。")
            services.publish_reply(actor=request.user, submission=submission, summary=form.cleaned_data["summary"])
            messages.success(request, "答复已公开。")
        elif action == "unpublish":
            services.unpublish_reply(actor=request.user, submission=submission)
            messages.success(request, "已撤回公开。")
        else:
            raise Http404("未找到该操作。")
    except WorkflowError as exc:
        messages.error(request, exc.message)
    return redirect("channels_net:submission_list")
