from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from feedback import similar
from feedback.access import can_register, get_or_404, issues_for, registrable_channels
from feedback.errors import InvalidInput, WorkflowError
from feedback.figures import statistics
from feedback.forms import add_service_error, bind_batch, department_choices, submit_batch
from feedback.models import Channel, Issue
from feedback.wording import title_from

from . import services
from .access import can_manage_forums, can_read_forums, forums_for, submissions_for
from .forms import DeclineForm, ForumForm, ForumRequestFormSet, MergeForm, PublishForm, grid_options
from .models import Forum, NetIntake, PublicSubmission


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The channel's page: this year's figures over the issues the user may see, then the forums."""
    today = timezone.localdate()
    issues = issues_for(request.user).filter(channel=Channel.NET)
    figures = statistics.summary(
        statistics.cohort(
            issues, channel=Channel.NET, received_from=datetime.date(today.year, 1, 1), received_to=today
        ),
        as_of=today,
    )
    forums = forums_for(request.user).annotate(request_count=Count("intakes")).select_related("chair")
    return render(
        request,
        "channels/net_home.html",
        {
            "channel": Channel.NET,
            "channel_label": Channel.NET.label,
            "figures": figures,
            "year": today.year,
            "coming": forums.filter(held_on__gte=today).order_by("held_on")[:4],
            "past": forums.filter(held_on__lt=today).order_by("-held_on")[:12],
            "can_read_forums": can_read_forums(request.user),
            "can_manage": can_manage_forums(request.user),
            "issues": issues.select_related("category", "requester").order_by("-received_on", "-id")[:20],
            "issue_count": issues.count(),
        },
    )


@login_required
def forum_detail(request: HttpRequest, pk: int) -> HttpResponse:
    forum = get_or_404(
        forums_for(request.user)
        .select_related("chair")
        .prefetch_related(
            "leaders",
            "departments_present",
            "representatives",
            Prefetch(
                "intakes",
                queryset=NetIntake.objects.select_related("issue", "issue__category")
                .prefetch_related("issue__assignments__department")
                .order_by("issue__ref"),
            ),
        ),
        pk=pk,
    )
    return render(
        request,
        "channels/net_forum_detail.html",
        {
            "forum": forum,
            "can_manage": can_manage_forums(request.user),
            "held": forum.held_on <= timezone.localdate(),
        },
    )


def _forum_data(form: ForumForm) -> services.ForumData:
    data: dict[str, Any] = dict(form.cleaned_data)
    data["representatives"] = [services.RepresentativeData(*row) for row in data["representatives"]]
    return services.ForumData(**data)


def _initial(forum: Forum) -> dict[str, Any]:
    reps = "\n".join("，".join(p for p in (r.handle, r.real_name, r.phone)) for r in forum.representatives.all())
    return {
        "title": forum.title,
        "held_on": forum.held_on,
        "place": forum.place,
        "chair": forum.chair,
        "chair_title": forum.chair_title,
        "leaders": list(forum.leaders.all()),
        "departments_present": list(forum.departments_present.all()),
        "representatives": reps,
        "collect_from": forum.collect_from,
        "collect_until": forum.collect_until,
        "minutes": forum.minutes,
    }


@login_required
def forum_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Plan a forum (pk None) or record who attended and the minutes."""
    if not can_manage_forums(request.user):
        raise Http404("未找到该记录，或您无权查看。")
    forum = get_or_404(forums_for(request.user), pk=pk) if pk is not None else None
    form = ForumForm(request.POST or None, initial=_initial(forum) if forum else None)
    if request.method == "POST" and form.is_valid():
        try:
            if forum is None:
                forum = services.plan_forum(actor=request.user, data=_forum_data(form))
                messages.success(request, f"已安排“{forum.title}”。")
            else:
                forum = services.record_forum(actor=request.user, forum=forum, data=_forum_data(form))
                messages.success(request, "已保存。")
            return redirect("channels_net:forum_detail", forum.pk)
        except WorkflowError as exc:
            add_service_error(form, exc)
    return render(request, "channels/net_forum_form.html", {"form": form, "forum": forum})


def _forum_request(form: Any) -> services.ForumRequest:
    return services.ForumRequest(**form.cleaned_data)


@login_required
def forum_intake(request: HttpRequest, pk: int) -> HttpResponse:
    """Batch intake right after a forum: every row registered and assigned, or none."""
    if not can_manage_forums(request.user):
        raise Http404("未找到该记录，或您无权查看。")
    forum = get_or_404(forums_for(request.user), pk=pk)
    options = grid_options()
    formset, adding = bind_batch(ForumRequestFormSet, request.POST or None, form_kwargs=options)
    batch_error = ""
    if request.method == "POST" and not adding and formset.is_valid():
        filled = formset.filled_forms()
        issues, batch_error = submit_batch(
            filled,
            lambda: services.record_forum_requests(
                actor=request.user, forum=forum, rows=[_forum_request(f) for f in filled]
            ),
        )
        if issues is not None:
            messages.success(request, f"已登记并交办 {len(issues)} 件诉求。")
            return redirect("channels_net:forum_detail", forum.pk)
    return render(
        request,
        "channels/net_forum_intake.html",
        {
            "forum": forum,
            "formset": formset,
            "batch_error": batch_error,
            "departments": department_choices(options["departments"]),
        },
    )


def _require_net_office(request: HttpRequest) -> None:
    if not (can_register(request.user) and Channel.NET in registrable_channels(request.user)):
        raise Http404("未找到该记录，或您无权查看。")


MERGE_SUGGESTIONS = 300


@login_required
def submission_list(request: HttpRequest) -> HttpResponse:
    """Triage of suggestions sent through the public portal (网信办)."""
    _require_net_office(request)
    rows = submissions_for(request.user).select_related("category", "issue", "merged_into", "forum")
    # Issues a suggestion may be merged into (并单), offered as the reference field's suggestions:
    # the open net issues the user may see, most recent first (the service checks again).
    targets = (
        issues_for(request.user)
        .filter(channel=Channel.NET)
        .exclude(status=Issue.Status.CLOSED)
        .select_related("category")
        .order_by("-received_on", "-id")[:MERGE_SUGGESTIONS]
    )
    pending = list(rows.pending().order_by("submitted_at")[:100])
    return render(
        request,
        "channels/submissions.html",
        {
            "pending": [
                (s, hits) for s, hits in zip(pending, submission_duplicates(request.user, pending), strict=True)
            ],
            "decided": rows.exclude(status=PublicSubmission.Status.RECEIVED).order_by("-decided_at")[:50],
            "merge_targets": targets,
            "decline_form": DeclineForm(),
            "publish_form": PublishForm(),
        },
    )


def submission_duplicates(user: Any, pending: list[PublicSubmission]) -> list[list[similar.Suggestion]]:
    """For each pending suggestion, the open 政网 issues it may repeat, best first, the probable ones marked
    (issue 19): the office merges it into one with one click. One set of queries for the whole list."""
    requests = [
        similar.Request(
            title=title_from(s.content, services.TITLE_LENGTH),
            content=s.content,
            channel=Channel.NET,
            requester_phone=s.phone,
            category_id=s.category_id,
            received_on=timezone.localdate(s.submitted_at),
        )
        for s in pending
    ]
    found = similar.suggest_many(user, requests, limit=5)
    # Only an open net issue can take a suggestion (services.merge_submission).
    return [[h for h in hits if h.issue.status != Issue.Status.CLOSED][:3] for hits in found]


@login_required
@require_POST
def submission_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require_net_office(request)
    submission = get_object_or_404(PublicSubmission, pk=pk)
    try:
        if action == "accept":
            issue = services.accept_submission(actor=request.user, submission=submission)
            messages.success(request, f"已受理，登记为诉求 {issue.ref}。")
        elif action == "merge":
            form = MergeForm(request.POST)
            if not form.is_valid():
                raise InvalidInput("请填写要并入的诉求编号。")
            issue = services.merge_submission(
                actor=request.user,
                submission=submission,
                issue_ref=form.cleaned_data["issue_ref"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, f"已并入诉求 {issue.ref}。")
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
