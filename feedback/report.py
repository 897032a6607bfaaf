"""The county's report, reproduced (县级报告, ``/report/?from=&to=``): the figures of the September 2024
report (DOMAIN.md) computed from the portal's own data, each linked to the list behind it.

Definitions (docs/user-guide.md "县级报告"): the cohort is the issues *received* in the period (dates
inclusive), judged as they stand today, so a figure may still rise as replies come in:

* 诉求人 — distinct requesters of the cohort (CONTRACT.md: one requester per phone, else per name);
* 诉求 — the cohort's issues; 回复率 — the dashboard's 办理回复率 (statistics.FORMULAS);
* 收集建议 / 办理建议 — issues of nature 建议; handled = replied in the dashboard's sense (every
  counted assignment has its accepted written reply);
* 解决企业问题 — 政企 issues whose lead department's accepted written reply (its latest accepted
  version, the lead still in the accepted state, so not re-handled since) says 已解决. A co-handler's
  result does not decide: the lead answers for the issue;
* 县级领导带队场次 and 无访村 need the channel apps' session data (issue 4), which does not exist
  yet: they show "—" and say so, never a made-up number.

A constant number of queries whatever the data (tests/feedback/test_report.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from . import statistics
from .access import Role, scope_of
from .models import Assignment, Channel, Issue, SignedReply
from .statistics import COUNTED, FORMULAS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PENDING_CHANNEL_DATA = "待政民/政企场次数据（议题4）"


def lead_result_is(result: str) -> Q:
    """Issues whose lead assignment is accepted and whose latest accepted reply has ``result``."""
    latest = (SignedReply.objects.filter(assignment=OuterRef("pk"), review_status=SignedReply.Review.ACCEPTED)
              .order_by("-version").values("result")[:1])
    leads = (Assignment.objects.filter(issue=OuterRef("pk"), role=Assignment.Role.LEAD,
                                       status=Assignment.Status.ACCEPTED)
             .annotate(latest_result=Subquery(latest)).filter(latest_result=result))
    return Q(Exists(leads))


def fully_replied_q() -> Q:
    """Replied as the dashboard counts it today: an assignment, and none still without an accepted reply."""
    mine = Assignment.objects.filter(issue=OuterRef("pk"), status__in=COUNTED)
    return Q(Exists(mine)) & ~Q(Exists(mine.filter(replied_on__isnull=True)))


class ReportForm(forms.Form):
    # ``from`` is a Python keyword: the field is declared under another name and renamed below.
    start = forms.DateField(label="受理日期从", required=False, widget=DATE_WIDGET)
    to = forms.DateField(label="至", required=False, widget=DATE_WIDGET)

    def add_prefix(self, field_name: str) -> str:
        return "from" if field_name == "start" else field_name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("to")
        if start and end and start > end:
            self.add_error("to", "结束日期不能早于开始日期。")
        return data


@dataclass(frozen=True)
class Line:
    label: str
    value: str
    link: str = ""
    formula: str = ""
    note: str = ""


def _pct(value: Any) -> str:
    return f"{value}%" if value is not None else "—"


def _issues_url(**params: Any) -> str:
    return reverse("issue_list") + "?" + urlencode({k: v for k, v in params.items() if v})


def report_lines(issues: Any, *, start: datetime.date, end: datetime.date, as_of: datetime.date) -> list[Line]:
    """Seven queries: two summaries (all issues, suggestions) and one count."""
    cohort = statistics.cohort(issues, received_from=start, received_to=end)
    everything = statistics.summary(cohort, as_of=as_of)
    suggestions = statistics.summary(cohort.filter(nature=Issue.Nature.SUGGESTION), as_of=as_of)
    solved = cohort.filter(lead_result_is(SignedReply.Result.RESOLVED), channel=Channel.ENTERPRISE).count()
    period = {"received_from": start.isoformat(), "received_to": end.isoformat()}
    return [
        Line("诉求人", f"{everything.requesters} 人", _issues_url(**period),
             "受理日期在区间内的诉求的诉求人，按人去重"),
        Line("诉求", f"{everything.issues} 件", _issues_url(**period), "受理日期在区间内的诉求数"),
        Line("回复率", _pct(everything.reply_rate), _issues_url(**period, replied="0"), FORMULAS["reply_rate"],
             f"已回复 {everything.replied} / {everything.issues} 件；点开为尚未全部答复的诉求"),
        Line("收集建议", f"{suggestions.issues} 条", _issues_url(**period, nature=Issue.Nature.SUGGESTION),
             "性质为“建议”的诉求数"),
        Line("办理建议", f"{suggestions.replied} 条",
             _issues_url(**period, nature=Issue.Nature.SUGGESTION, replied="1"),
             "性质为“建议”、全部交办单位的书面回复均已通过审核的诉求数"),
        Line("解决企业问题", f"{solved} 个",
             _issues_url(**period, channel=Channel.ENTERPRISE, result=SignedReply.Result.RESOLVED),
             "政企直通车诉求中，主办单位最新一版通过审核的书面回复办理结果为“已解决”的件数"),
        Line("县级领导带队场次", "—", "", "", PENDING_CHANNEL_DATA),
        Line("无访村", "—", "", "", PENDING_CHANNEL_DATA),
    ]


@login_required
def county_report(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if scope.role not in (Role.LEADER, Role.OFFICE, Role.ADMIN):
        raise Http404("县级报告供县领导、直通车办公室和管理员查看。")
    today = timezone.localdate()
    form = ReportForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    start = data.get("start") or today.replace(month=1, day=1)
    end = data.get("to") or today
    issues, _ = statistics.scoped(request.user)
    period = {"received_from": start.isoformat(), "received_to": end.isoformat()}
    return render(request, "feedback/report.html", {
        "form": form, "lines": report_lines(issues, start=start, end=end, as_of=today) if valid else [],
        "dashboard": reverse("dashboard") + "?" + urlencode(period), "start": start, "end": end, "as_of": today,
    }, status=200 if valid else 400)
