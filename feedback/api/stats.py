"""The statistics API (CONTRACT.md): ``/api/v1/stats/summary/``, ``/stats/departments/`` and the
breakdowns by category, township and month. The figures come from ``feedback.figures.statistics``.

Scope: the figures are computed over the issues the user may see (``access.issues_for``): a
county leader or an administrator sees every issue, a channel office its channel's issues, a
department member the issues assigned to its department (with all their assignments: whether an
issue is replied depends on all of them), and in the department table only its own row
(``statistics.scoped``). Bad parameters answer 400 with a message in Chinese.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.api.serializers import CodeOrLabelChoiceField, check_date_range, date_field
from feedback.api.views import ERRORS
from feedback.figures import statistics
from feedback.models import Category, Channel, Department, Issue

# --- parameters --------------------------------------------------------------------------------------


class StatsQuerySerializer(serializers.Serializer):
    channel = CodeOrLabelChoiceField(Channel, required=False, allow_blank=True, error_messages={
        "invalid_choice": "未知渠道“{input}”，"
                          "应为 net（政网直通车）、enterprise（政企直通车）或 citizen（政民直通车）。"})
    department = serializers.CharField(required=False, allow_blank=True,
                                       help_text="承办单位代码：只统计交办给该单位的诉求（含与其他单位共同办理的）")
    category = serializers.CharField(required=False, allow_blank=True, help_text="诉求分类代码")
    received_from = date_field(required=False, allow_null=True, help_text="受理日期起（含），YYYY-MM-DD")
    received_to = date_field(required=False, allow_null=True, help_text="受理日期止（含），YYYY-MM-DD")
    as_of = date_field(required=False, allow_null=True,
                       help_text="统计截止日（含），默认今天：此后的回复和办结视为尚未发生")

    def validate_department(self, value: str) -> Department | None:
        if not value.strip():
            return None
        try:
            return Department.objects.get(code=value.strip())
        except Department.DoesNotExist:
            raise serializers.ValidationError(f"未知单位代码“{value.strip()}”。") from None

    def validate_category(self, value: str) -> Category | None:
        if not value.strip():
            return None
        try:
            return Category.objects.get(code=value.strip())
        except Category.DoesNotExist:
            raise serializers.ValidationError(f"未知分类代码“{value.strip()}”。") from None

    def validate_received_from(self, value: datetime.date | None) -> datetime.date | None:
        return check_date_range(value)

    def validate_received_to(self, value: datetime.date | None) -> datetime.date | None:
        return check_date_range(value)

    def validate_as_of(self, value: datetime.date | None) -> datetime.date | None:
        return check_date_range(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("received_from"), attrs.get("received_to")
        if start and end and start > end:
            raise serializers.ValidationError({"received_to": ["受理日期止不能早于受理日期起。"]})
        return attrs


@dataclass(frozen=True)
class StatsInput:
    issues: QuerySet[Issue]
    only_department: Department | None
    as_of: datetime.date


def stats_input(request: Request) -> StatsInput:
    params = StatsQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    issues, only_department = statistics.scoped(request.user)
    cohort = statistics.cohort(
        issues, channel=data.get("channel") or "", department=data.get("department"),
        category=data.get("category"), received_from=data.get("received_from"),
        received_to=data.get("received_to"))
    return StatsInput(cohort, only_department, data.get("as_of") or timezone.localdate())


# --- representations ---------------------------------------------------------------------------------


def rate_field(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False, allow_null=True,
                                    read_only=True,
                                    help_text=f"{help_text}；保留一位小数（四舍五入），分母为 0 时为 null")


def count(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, help_text=help_text)


F = statistics.FORMULAS


class IssueFiguresSerializer(serializers.Serializer):
    issues = count("诉求数（受理日期在统计区间内）")
    replied = count("全部交办单位的书面回复均已于截止日前通过审核的诉求数（未交办的诉求不算已回复）")
    reply_rate = rate_field(F["reply_rate"])
    unreplied = count("尚未全部回复的诉求数 = issues − replied")
    closed = count("截止日前已办结的诉求数")
    closure_rate = rate_field(F["closure_rate"])
    rated = count("有回访评价（满意、基本满意、不满意）的诉求数；未联系上不算评价")
    satisfied = count("评价为满意或基本满意的诉求数")
    satisfaction_rate = rate_field(F["satisfaction_rate"])


class AssignmentFiguresSerializer(serializers.Serializer):
    assignments = count("交办数")
    on_time = count("截止日前回复、且回复日期不晚于办理期限的交办数")
    late = count("截止日前回复、但回复日期晚于办理期限的交办数")
    overdue_open = count(F["overdue_open"])
    on_time_rate = rate_field(F["on_time_rate"])
    not_yet_due = count("截止日未回复、尚未到期的交办数（不计入按期率）")
    on_time_original = count("按原定期限（延期前）判断的按期回复数")
    late_original = count("按原定期限判断的逾期回复数")
    overdue_open_original = count("按原定期限判断的超期未回复数")
    on_time_rate_original = rate_field(F["on_time_rate_original"])


class SummarySerializer(IssueFiguresSerializer, AssignmentFiguresSerializer):
    as_of = serializers.DateField(read_only=True, help_text="统计截止日")
    requesters = count("诉求人数（去重）")
    assignments_replied = count("截止日前已通过审核回复的交办数")
    followed_up = count("已回访的诉求数（含未联系上）")
    follow_up_rate = rate_field(F["follow_up_rate"])
    dissatisfied = count("评价为不满意的诉求数")
    unreachable = count("回访未联系上的诉求数（不计入满意率）")
    rehandled = count("截止日前曾被重办的诉求数")
    rehandle_rate = rate_field(F["rehandle_rate"])


class DepartmentStatsSerializer(AssignmentFiguresSerializer):
    department = serializers.CharField(read_only=True, help_text="单位代码")
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Department.Kind.choices, read_only=True)
    kind_label = serializers.CharField(read_only=True)
    replied = count("该单位截止日前已通过审核回复的交办数")
    reply_rate = rate_field(F["department_reply_rate"])
    unreplied = count("该单位截止日未回复的交办数 = assignments − replied")


class CategoryStatsSerializer(IssueFiguresSerializer, AssignmentFiguresSerializer):
    category = serializers.CharField(read_only=True, help_text="分类代码")
    name = serializers.CharField(read_only=True)
    share = rate_field("占比 = 该分类诉求数 ÷ 全部诉求数 × 100%")


class TownshipStatsSerializer(IssueFiguresSerializer, AssignmentFiguresSerializer):
    township = serializers.CharField(read_only=True,
                                     help_text="乡镇（单位）代码；诉求数为交办给该乡镇的诉求，交办数为该乡镇自己的交办")
    name = serializers.CharField(read_only=True)


class MonthStatsSerializer(IssueFiguresSerializer, AssignmentFiguresSerializer):
    month = serializers.CharField(read_only=True, help_text="受理月份 YYYY-MM")


# --- views -------------------------------------------------------------------------------------------

SCOPE_NOTE = ("统计范围：县领导和管理员为全部诉求；直通车办公室为本渠道诉求；承办单位为交办给本单位的诉求"
              "（按单位统计只列本单位）。诉求按受理日期进入统计区间，一切按统计截止日 as_of 当日结束时的状态判断。")


class SummaryView(APIView):
    @extend_schema(summary="统计总览", description=SCOPE_NOTE, parameters=[StatsQuerySerializer],
                   responses={200: SummarySerializer, 400: ERRORS[400]})
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        return Response(SummarySerializer(statistics.summary(given.issues, as_of=given.as_of)).data)


class DepartmentStatsView(APIView):
    @extend_schema(summary="按承办单位统计", description="每个在统计范围内有交办的单位一行，不分页。" + SCOPE_NOTE,
                   parameters=[StatsQuerySerializer],
                   responses={200: DepartmentStatsSerializer(many=True), 400: ERRORS[400]})
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_department(given.issues, as_of=given.as_of, only=given.only_department)
        return Response(DepartmentStatsSerializer(rows, many=True).data)


class CategoryStatsView(APIView):
    @extend_schema(summary="按诉求分类统计",
                   description="每个有诉求的分类一行，按诉求数从多到少，不分页。" + SCOPE_NOTE,
                   parameters=[StatsQuerySerializer],
                   responses={200: CategoryStatsSerializer(many=True), 400: ERRORS[400]})
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_category(given.issues, as_of=given.as_of)
        return Response(CategoryStatsSerializer(rows, many=True).data)


class TownshipStatsView(APIView):
    @extend_schema(summary="按乡镇统计", description="每个有交办诉求的乡镇一行，不分页。" + SCOPE_NOTE,
                   parameters=[StatsQuerySerializer],
                   responses={200: TownshipStatsSerializer(many=True), 400: ERRORS[400]})
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_township(given.issues, as_of=given.as_of)
        return Response(TownshipStatsSerializer(rows, many=True).data)


class MonthStatsView(APIView):
    @extend_schema(summary="按受理月份统计", description="每个有诉求的受理月份一行，从早到晚，不分页。" + SCOPE_NOTE,
                   parameters=[StatsQuerySerializer],
                   responses={200: MonthStatsSerializer(many=True), 400: ERRORS[400]})
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_month(given.issues, as_of=given.as_of)
        return Response(MonthStatsSerializer(rows, many=True).data)
