"""The channel's figures: enterprise problems solved per month and per year.

"Solved" is the county report's definition (feedback.report.lead_result_is: the lead department's
latest accepted written reply says 已解决), counted by the month the problem was received, so a
year's total equals the report's 解决企业问题 for that year. One query per table.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractMonth, ExtractYear

from feedback.figures.report import lead_result_is
from feedback.models import Channel, Issue, SignedReply


@dataclass(frozen=True)
class SolvedCount:
    year: int
    month: int | None  # None on the yearly rows
    solved: int

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month or 1, 1)

    @property
    def last_day(self) -> datetime.date:
        """The end of the period, so that a figure can link to the issue list of exactly its issues."""
        month = self.month or 12
        return datetime.date(self.year, month, calendar.monthrange(self.year, month)[1])


def _solved(issues: QuerySet[Issue]) -> QuerySet[Issue]:
    return issues.filter(lead_result_is(SignedReply.Result.RESOLVED), channel=Channel.ENTERPRISE).order_by()


def solved_per_month(issues: QuerySet[Issue]) -> list[SolvedCount]:
    rows = (
        _solved(issues)
        .annotate(y=ExtractYear("received_on"), m=ExtractMonth("received_on"))
        .values("y", "m")
        .annotate(n=Count("pk"))
        .order_by("-y", "-m")
    )
    return [SolvedCount(r["y"], r["m"], r["n"]) for r in rows]


def solved_per_year(issues: QuerySet[Issue]) -> list[SolvedCount]:
    rows = _solved(issues).annotate(y=ExtractYear("received_on")).values("y").annotate(n=Count("pk")).order_by("-y")
    return [SolvedCount(r["y"], None, r["n"]) for r in rows]
