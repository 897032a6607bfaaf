"""Printable documents of an assignment: 交办单, 催办通知书, and the 回复函 Word template."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from feedback import access
from feedback.documents import printed as documents
from feedback.models import Assignment


def _document_assignment(request: HttpRequest, pk: int) -> Assignment:
    return access.get_or_404(
        access.assignments_for(request.user).select_related(
            "issue__requester", "issue__category__parent", "department", "policy"
        ),
        pk=pk,
    )


@login_required
def assignment_slip(request: HttpRequest, pk: int) -> HttpResponse:
    """交办单, a print page (A4, @media print in portal.css)."""
    slip = documents.assignment_slip(_document_assignment(request, pk))
    return render(request, "feedback/print/assignment_slip.html", {"doc": slip, "issue": slip.issue})


@login_required
def assignment_chase_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """催办通知书 of an overdue assignment (dated by the ladder's chase step when it was taken)."""
    notice = documents.chase_notice(_document_assignment(request, pk))
    if notice is None:
        raise Http404("该交办没有超期，无需催办。")
    return render(request, "feedback/print/chase_notice.html", {"doc": notice, "issue": notice.issue})


@login_required
def assignment_reply_template(request: HttpRequest, pk: int) -> HttpResponse:
    """回复函 template (DOCX) filled in with the request, for the department to print, sign and stamp."""
    assignment = _document_assignment(request, pk)
    response = HttpResponse(documents.reply_letter_docx(assignment), content_type=documents.DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, documents.reply_letter_filename(assignment))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
