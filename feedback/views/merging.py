"""并单 and 拆分 on the issue page, and the duplicate suggestions at intake (issue 19)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from feedback import access, services, similar
from feedback.errors import InvalidInput
from feedback.forms import PortalForm, ReasonForm
from feedback.models import Department, Issue, SignedReply
from feedback.views.common import flash_form_errors, run_service


class MergeForm(PortalForm):
    into = forms.CharField(label="并入诉求编号", max_length=40, help_text="填写主诉求（由其统一办理）的编号")
    note = forms.CharField(label="说明", max_length=500, required=False)


def lead_by_ref(user: Any, ref: str) -> Issue:
    """The lead a clerk named, among the issues the user can see (else the same message as a typo)."""
    lead = access.issues_for(user).filter(ref=ref.strip()).first()
    if lead is None:
        raise InvalidInput(f"未找到编号为“{ref.strip()}”的诉求，或您无权查看。", field="into")
    return lead


def reference_taken(ref: str) -> bool:
    return bool(ref.strip()) and Issue.objects.filter(ref=ref.strip()).exists()


def likely_duplicates(user: Any, data: dict[str, Any]) -> list[similar.Suggestion]:
    """The suggestions for a register form's data (server side, when the form is saved)."""
    lead = data.get("lead")
    township = lead if isinstance(lead, Department) and lead.kind == Department.Kind.TOWNSHIP else None
    return similar.suggest(
        user,
        similar.Request(
            title=data["title"],
            content=data["content"],
            channel=data["channel"],
            township=township,
            requester_phone=data.get("requester_phone", ""),
            category_id=data["category"].pk if data.get("category") else None,
            received_on=data.get("received_on"),
        ),
        limit=5,
    )


def page_context(user: Any, issue: Issue, *, manage: bool) -> dict[str, Any]:
    """What the issue page shows of 并单: the lead (and its replies) or the issues merged into it."""
    visible = access.issues_for(user)
    lead = visible.filter(pk=issue.merged_into_id).first() if issue.merged_into_id else None
    merged = (
        list(visible.filter(merged_into=issue).select_related("requester").order_by("received_on", "pk"))
        if getattr(issue, "has_merged", True)
        else []
    )
    lead_replies = (
        list(
            access.replies_for(user)
            .filter(assignment__issue=lead, review_status=SignedReply.Review.ACCEPTED)
            .select_related("assignment__department")
            .order_by("assignment_id", "-version")
        )
        if lead is not None
        else []
    )
    can_merge = (
        manage and issue.merged_into_id is None and issue.status in (Issue.Status.REGISTERED, Issue.Status.ASSIGNED)
    )
    return {
        "merge_lead": lead,
        "merged_issues": merged,
        "lead_replies": lead_replies,
        "merge_form": MergeForm() if can_merge and not merged else None,
        "split_form": ReasonForm(prefix="split") if manage and issue.merged_into_id else None,
    }


def _managed(request: HttpRequest, pk: int) -> Issue:
    issue = access.get_or_404(access.issues_for(request.user), pk=pk)
    if not access.can_manage_issue(request.user, issue):
        raise Http404("未找到该记录，或您无权操作。")
    return issue


@login_required
@require_POST
def issue_merge(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed(request, pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = run_service(
            request,
            None,
            lambda: services.merge_issue(
                actor=request.user, issue=issue, into=lead_by_ref(request.user, data["into"]), note=data["note"]
            ),
        )
        if done is not None:
            messages.success(request, f"已并入 {done.merged_into.ref}，由该件统一办理。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)


@login_required
@require_POST
def issue_split(request: HttpRequest, pk: int) -> HttpResponse:
    issue = _managed(request, pk)
    form = ReasonForm(request.POST, prefix="split")
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.split_issue(actor=request.user, issue=issue, reason=form.cleaned_data["reason"]),
    ):
        messages.success(request, "已拆分，本件恢复为“已登记”，请单独交办。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=pk)
