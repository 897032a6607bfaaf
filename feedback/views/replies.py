"""Signed replies: upload, review (accept or return), download and first-page preview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from feedback import access, services
from feedback.documents import previews
from feedback.documents.downloads import reply_file_response
from feedback.forms import (
    ReasonForm,
    ReplyForm,
)
from feedback.models import SignedReply
from feedback.security import preview_jobs
from feedback.views.common import flash_form_errors, run_service


@login_required
def reply_upload(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_or_404(access.assignments_for(request.user).select_related("issue", "department"), pk=pk)
    if not access.is_member_of(request.user, assignment.department):
        raise Http404("只有承办单位可以上传书面回复。")
    form = ReplyForm(request.POST or None, request.FILES or None, assignment=assignment)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reply = run_service(
            request,
            form,
            lambda: services.submit_reply(
                actor=request.user,
                assignment=assignment,
                file=data["file"],
                signer_name=data["signer_name"],
                signer_title=data["signer_title"],
                signed_on=data["signed_on"],
                result=data["result"],
                summary=data["summary"],
            ),
        )
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
    if form.is_valid() and run_service(
        request,
        None,
        lambda: services.return_reply(actor=request.user, reply=reply, reason=form.cleaned_data["reason"]),
    ):
        messages.success(request, "已退回，承办单位需重新办理并提交。")
    flash_form_errors(request, form)
    return redirect("issue_detail", pk=reply.assignment.issue_id)


@login_required
def reply_download(request: HttpRequest, pk: int) -> FileResponse:
    return reply_file_response(access.get_or_404(access.replies_for(request.user), pk=pk))


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
