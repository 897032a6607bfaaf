"""Extensions (延期) and objections (异议): requested by a department, decided by the office."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from feedback import access, services
from feedback.forms import (
    DecisionForm,
    ExtensionForm,
    ObjectionAcceptForm,
    ObjectionForm,
    ObjectionRejectForm,
)
from feedback.models import Objection
from feedback.views.common import flash_form_errors, run_service


@login_required
@require_POST
def extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user), pk=pk)
    form = ExtensionForm(request.POST)
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.request_extension(actor=request.user, assignment=assignment, **form.cleaned_data),
    ):
        messages.success(request, "延期申请已提交，等待直通车办公室审批。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=assignment.issue_id)


@login_required
@require_POST
def extension_decide(request: HttpRequest, pk: int, verdict: str) -> HttpResponse:
    extension = access.get_or_404(access.extensions_for(request.user).select_related("assignment"), pk=pk)
    if verdict not in ("approve", "reject"):
        raise Http404("未知操作。")
    form = DecisionForm(request.POST)
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.decide_extension(
            actor=request.user, request=extension, approve=verdict == "approve", note=form.cleaned_data["note"]
        ),
    ):
        messages.success(request, "已批准延期。" if verdict == "approve" else "已记录：不批准延期。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=extension.assignment.issue_id)


# --- Objections (异议) --------------------------------------------------------------------------------


@login_required
@require_POST
def objection_raise(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user).select_related("department"), pk=pk)
    form = ObjectionForm(request.POST, exclude=assignment.department, issue=assignment.issue)
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.raise_objection(
            actor=request.user,
            assignment=assignment,
            reason=form.cleaned_data["reason"],
            suggested_department=form.cleaned_data["suggested_department"],
        ),
    ):
        messages.success(request, "异议已提出，等待直通车办公室决定；决定之前请继续按原期限办理。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=assignment.issue_id)


@login_required
@require_POST
def objection_decide(request: HttpRequest, pk: int, verdict: str) -> HttpResponse:
    objection = access.get_or_404(access.objections_for(request.user).select_related("assignment"), pk=pk)
    if verdict == "accept":
        form: forms.Form = ObjectionAcceptForm(request.POST, objection=objection, prefix=f"obj{objection.pk}")

        def decide() -> Objection:
            data = form.cleaned_data
            return services.accept_objection(
                actor=request.user,
                objection=objection,
                department=data["department"],
                clock=data["clock"],
                note=data["note"],
            )

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
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=objection.assignment.issue_id)


# --- 台账导入 (ledger import) and the importable export ------------------------------------------------
