"""The county report page, its print view and its Excel export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from feedback.access import Role, scope_of
from feedback.figures import statistics
from feedback.figures.report import items_table, report_lines
from feedback.forms import PortalForm
from feedback.ledger.export import XLSX_CONTENT_TYPE, report_workbook

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReportForm(PortalForm):
    # ``from`` is a Python keyword: the field is declared under another name and renamed below.
    start = forms.DateField(label="受理日期从", required=False, widget=DATE_WIDGET)
    to = forms.DateField(label="至", required=False, widget=DATE_WIDGET)
    as_of = forms.DateField(
        label="统计截止日", required=False, widget=DATE_WIDGET, help_text="默认今天；此后的回复和办结视为尚未发生"
    )

    def add_prefix(self, field_name: str) -> str:
        return "from" if field_name == "start" else field_name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("to")
        if start and end and start > end:
            self.add_error("to", "结束日期不能早于开始日期。")
        return data


def _require_reader(request: HttpRequest) -> None:
    if scope_of(request.user).role not in (Role.LEADER, Role.OFFICE, Role.ADMIN):
        raise Http404("县级报告供县领导、直通车办公室和管理员查看。")


@login_required
def county_report_export(request: HttpRequest) -> HttpResponse:
    """The report of the period asked for as an Excel sheet; a wrong period answers 400 as the page does."""
    _require_reader(request)
    today = timezone.localdate()
    form = ReportForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            "统计区间有误：" + "；".join(e for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data = form.cleaned_data if form.is_bound else {}
    start, end = data.get("start") or today.replace(month=1, day=1), data.get("to") or today
    as_of = data.get("as_of") or today
    issues, _ = statistics.scoped(request.user)
    lines = report_lines(issues, start=start, end=end, as_of=as_of, user=request.user)
    title = f"县级报告 {start:%Y%m%d}-{end:%Y%m%d}"
    response = HttpResponse(report_workbook(lines, title=title), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{title}.xlsx")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def county_report(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    today = timezone.localdate()
    # Unbound, the form shows the default period it is computed for.
    form = ReportForm(request.GET or None, initial={"start": today.replace(month=1, day=1), "to": today})
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    start = data.get("start") or today.replace(month=1, day=1)
    end = data.get("to") or today
    as_of = data.get("as_of") or today
    issues, _ = statistics.scoped(request.user)
    period = {"received_from": start.isoformat(), "received_to": end.isoformat(), "as_of": as_of.isoformat()}
    lines = report_lines(issues, start=start, end=end, as_of=as_of, user=request.user) if valid else []
    items = None
    if valid and request.GET.get("items"):
        items = items_table(
            request.user, request.GET["items"], request.GET.get("channel", ""), start=start, until=min(end, as_of)
        )
    return render(
        request,
        "feedback/report.html",
        {
            "form": form,
            "valid": valid,
            "lines": lines,
            "items": items,
            "dashboard": reverse("dashboard") + "?" + urlencode(period),
            "start": start,
            "end": end,
            "as_of": as_of,
        },
        status=200 if valid else 400,
    )
