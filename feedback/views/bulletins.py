"""Bulletin pages: list, draft, detail, print page, Word document, publish."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from feedback import access
from feedback.access import Role, get_or_404, scope_of
from feedback.documents.bulletin_docx import DOCX_CONTENT_TYPE, bulletin_docx_bytes, bulletin_filename
from feedback.figures import lists
from feedback.figures.bulletins import (
    VIEW_ROLES,
    bulletin_tables,
    bulletins_for,
    can_publish,
    issuer_of,
    previous_month,
    unlinked_note,
)
from feedback.models import Bulletin, Channel, Department, Requester
from feedback.services import draft_bulletin, publish_bulletin
from feedback.views.common import query_without_page, run_service


def _context(bulletin: Bulletin, *, link_items: bool) -> dict[str, Any]:
    return {
        "b": bulletin,
        "f": bulletin.figures,
        "tables": bulletin_tables(bulletin.figures, link_items=link_items, bulletin_id=bulletin.pk),
        "issuer": issuer_of(bulletin),
        "unlinked": unlinked_note(bulletin.figures),
    }


ITEMS_PAGE_SIZE = 50


@login_required
def bulletin_items(request: HttpRequest, pk: int) -> HttpResponse:
    """The records behind one number of a bulletin, as they were listed when it was computed (frozen
    with it on publication: later corrections change neither the number nor its list). ``period``
    (month, year) and ``figure``, or ``unit`` (a department's row) and ``figure``."""
    _viewer(request)
    bulletin = get_or_404(bulletins_for(request.user), pk=pk)
    frozen = bulletin.figures.get("lists")
    figure, unit, period = request.GET.get("figure", ""), request.GET.get("unit", ""), request.GET.get("period", "")
    if frozen is None or (figure not in lists.FIGURES and figure != lists.REQUESTERS):
        raise Http404("该通报没有这个数字的清单。")
    ids = (frozen.get("departments", {}).get(unit, {}) if unit else frozen.get(period, {})).get(figure)
    if ids is None:
        raise Http404("该通报没有这个数字的清单。")
    is_issues = lists.is_issue_figure(figure)
    # Only what the user may read, in the order frozen (a requester: of an issue the user may read).
    if figure == lists.REQUESTERS:
        rows: Any = Requester.objects.filter(pk__in=ids, issues__in=access.issues_for(request.user)).distinct()
    elif is_issues:
        rows = access.issues_for(request.user).filter(pk__in=ids)
    else:
        rows = access.assignments_for(request.user).select_related("issue", "department").filter(pk__in=ids)
    order = {pk: n for n, pk in enumerate(ids)}
    records = sorted(rows, key=lambda r: order[r.pk])
    page = Paginator(records, ITEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    unit_name = Department.objects.filter(code=unit).values_list("name", flat=True).first() if unit else ""
    return render(
        request,
        "feedback/bulletin_items.html",
        {
            "b": bulletin,
            "title": lists.FIGURES.get(figure, lists.REQUESTERS_TITLE),
            "count": len(ids),
            "hidden": len(ids) - len(records),
            "page": page,
            "issue_list": is_issues,
            "requester_list": figure == lists.REQUESTERS,
            "unit_name": unit_name,
            "period_label": {"month": "本月受理", "year": "本年累计"}.get(period, "本月受理"),
            "query": query_without_page(request),
        },
    )


def _viewer(request: HttpRequest) -> None:
    if scope_of(request.user).role not in VIEW_ROLES:
        raise Http404("月度通报供县领导、直通车办公室和管理员查看。")


@login_required
def bulletin_list(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    scope = scope_of(request.user)
    channels = [("", "三个直通车合并")] + (
        [(scope.channel, Channel(scope.channel).label)] if scope.role == Role.OFFICE else list(Channel.choices)
    )
    if scope.role != Role.ADMIN:
        channels = [c for c in channels if can_publish(request.user, c[0])]
    return render(
        request,
        "feedback/bulletin_list.html",
        {
            "bulletins": bulletins_for(request.user).select_related("published_by"),
            "draft_channels": channels,
            "last_month": f"{previous_month(timezone.localdate()):%Y-%m}",
        },
    )


@login_required
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    bulletin = get_or_404(bulletins_for(request.user).select_related("published_by"), pk=pk)
    return render(
        request,
        "feedback/bulletin_detail.html",
        {
            **_context(bulletin, link_items=True),
            "can_publish": bulletin.status == Bulletin.Status.DRAFT and can_publish(request.user, bulletin.channel),
        },
    )


@login_required
def bulletin_print(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    bulletin = get_or_404(bulletins_for(request.user).select_related("published_by"), pk=pk)
    return render(request, "feedback/bulletin_print.html", _context(bulletin, link_items=True))


@login_required
def bulletin_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The published bulletin as a Word document, built from its frozen figures; same access as the page.
    A draft has no document: its figures still change (404, the page says so)."""
    _viewer(request)
    bulletin = get_or_404(bulletins_for(request.user).filter(status=Bulletin.Status.PUBLISHED), pk=pk)
    response = HttpResponse(bulletin_docx_bytes(bulletin, issuer=issuer_of(bulletin)), content_type=DOCX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, bulletin_filename(bulletin))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def bulletin_draft(request: HttpRequest) -> HttpResponse:
    """Draft (or recompute the draft of) a month's bulletin by hand: ``month=YYYY-MM``, ``channel``."""
    _viewer(request)
    channel = request.POST.get("channel", "")
    try:
        year, number = (int(part) for part in request.POST.get("month", "").split("-"))
        month = datetime.date(year, number, 1)
    except ValueError:
        messages.error(request, "月份格式应为 YYYY-MM。")
        return redirect("bulletin_list")
    bulletin = run_service(request, None, lambda: draft_bulletin(actor=request.user, month=month, channel=channel))
    if bulletin is None:
        return redirect("bulletin_list")
    messages.success(request, f"已生成{bulletin}（草稿）。")
    return redirect("bulletin_detail", pk=bulletin.pk)


@login_required
@require_POST
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    _viewer(request)
    bulletin = get_or_404(bulletins_for(request.user), pk=pk)
    if run_service(request, None, lambda: publish_bulletin(actor=request.user, bulletin=bulletin)) is not None:
        messages.success(request, f"已发布{bulletin}，数据自此冻结。")
    return redirect("bulletin_detail", pk=pk)
