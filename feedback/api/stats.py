"""The statistics API (docs/api.md): ``/api/v1/stats/summary/``, ``/stats/departments/`` and the
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
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback import access, selectors
from feedback.access import Role, scope_of
from feedback.api import serializers as s
from feedback.api.serializers import CodeOrLabelChoiceField, check_date_range, date_field
from feedback.api.views import ERRORS, Pagination
from feedback.figures import lists, statistics
from feedback.models import Assignment, Category, Channel, Department, Issue

# --- parameters --------------------------------------------------------------------------------------


class StatsQuerySerializer(serializers.Serializer):
    channel = CodeOrLabelChoiceField(
        Channel,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid_choice": "未知渠道“{input}”，"
            "应为 net（政网直通车）、enterprise（政企直通车）或 citizen（政民直通车）。"
        },
    )
    department = serializers.CharField(
        required=False, allow_blank=True, help_text="承办单位代码：只统计交办给该单位的诉求（含与其他单位共同办理的）"
    )
    category = serializers.CharField(required=False, allow_blank=True, help_text="诉求分类代码")
    received_from = date_field(required=False, allow_null=True, help_text="受理日期起（含），YYYY-MM-DD")
    received_to = date_field(required=False, allow_null=True, help_text="受理日期止（含），YYYY-MM-DD")
    as_of = date_field(
        required=False, allow_null=True, help_text="统计截止日（含），默认今天：此后的回复和办结视为尚未发生"
    )

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


class FigureListQuerySerializer(StatsQuerySerializer):
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="统计表的一行：交办清单只列该单位自己的交办；诉求清单只列交办给该单位的诉求（分乡镇）",
    )

    def validate_unit(self, value: str) -> str:
        if value.strip() and not Department.objects.filter(code=value.strip()).exists():
            raise serializers.ValidationError(f"未知单位代码“{value.strip()}”。")
        return value.strip()


@dataclass(frozen=True)
class StatsInput:
    issues: QuerySet[Issue]
    only_department: Department | None
    as_of: datetime.date
    cut: lists.Cut
    # A department member reads only its own assignments: the lists of assignment counts over the
    # whole cohort (co-handlers' included) are not given to it, its own row's are.
    own_department: str | None


def _cut(data: dict[str, Any], as_of: datetime.date) -> lists.Cut:
    department, category = data.get("department"), data.get("category")
    return lists.Cut(
        as_of=as_of,
        channel=data.get("channel") or "",
        department=department.code if department else "",
        category=category.code if category else "",
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
        unit=data.get("unit") or "",
    )


def stats_input(request: Request) -> StatsInput:
    params = StatsQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    issues, only_department = statistics.scoped(request.user)
    cohort = statistics.cohort(
        issues,
        channel=data.get("channel") or "",
        department=data.get("department"),
        category=data.get("category"),
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
    )
    as_of = data.get("as_of") or timezone.localdate()
    scope = scope_of(request.user)
    own = scope.department.code if scope.role == Role.DEPARTMENT and scope.department else None
    return StatsInput(cohort, only_department, as_of, _cut(data, as_of), own)


def with_lists(
    rows: list[dict[str, Any]], cuts: list[lists.Cut], names: dict[str, str], given: StatsInput
) -> list[dict[str, Any]]:
    """Each row with ``lists``: its counts' API lists under the same filters and ``as_of``."""
    for row, cut in zip(rows, cuts, strict=True):
        visible = given.own_department is None or cut.unit == given.own_department
        row["lists"] = lists.row_lists(names, cut, assignments_visible=visible)
    return rows


# --- representations ---------------------------------------------------------------------------------


def rate_field(help_text: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        read_only=True,
        help_text=f"{help_text}；保留一位小数（四舍五入），分母为 0 时为 null",
    )


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
    follow_up_skipped = count(F["follow_up_skipped"])
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
    township = serializers.CharField(
        read_only=True, help_text="乡镇（单位）代码；诉求数为交办给该乡镇的诉求，交办数为该乡镇自己的交办"
    )
    name = serializers.CharField(read_only=True)


class MonthStatsSerializer(IssueFiguresSerializer, AssignmentFiguresSerializer):
    month = serializers.CharField(read_only=True, help_text="受理月份 YYYY-MM")


LISTS_HELP = (
    "lists：每个计数对应的清单接口地址（/api/v1/issues/figures/…或 /api/v1/assignments/figures/…，"
    "筛选条件和 as_of 相同），其 count 等于该数；承办单位人员看不到协办单位的交办，"
    "所以整个统计范围的交办清单对其为 null。"
)


def lists_field() -> serializers.DictField:
    return serializers.DictField(child=serializers.CharField(allow_null=True), read_only=True, help_text=LISTS_HELP)


class SummaryResponse(SummarySerializer):
    lists = lists_field()


class DepartmentStatsResponse(DepartmentStatsSerializer):
    lists = lists_field()


class CategoryStatsResponse(CategoryStatsSerializer):
    lists = lists_field()


class TownshipStatsResponse(TownshipStatsSerializer):
    lists = lists_field()


class MonthStatsResponse(MonthStatsSerializer):
    lists = lists_field()


# --- views -------------------------------------------------------------------------------------------

# One bound instance per representation, reused by every request: instantiating a serializer deep-copies
# its ~30 declared fields (~0.5 ms for the summary, issue 16). ``to_representation`` only reads them.
_BOUND: dict[type[serializers.Serializer], serializers.Serializer] = {}


def represent(serializer: type[serializers.Serializer], rows: list[Any]) -> list[dict[str, Any]]:
    """``serializer(rows, many=True).data`` as plain dicts, with the serializer's fields bound once."""
    bound = _BOUND.get(serializer)
    if bound is None:
        bound = _BOUND[serializer] = serializer()
    return [dict(bound.to_representation(row)) for row in rows]


SCOPE_NOTE = (
    "统计范围：县领导和管理员为全部诉求；直通车办公室为本渠道诉求；承办单位为交办给本单位的诉求"
    "（按单位统计只列本单位）。诉求按受理日期进入统计区间，一切按统计截止日 as_of 当日结束时的状态判断。"
)


class SummaryView(APIView):
    @extend_schema(
        summary="统计总览",
        description=SCOPE_NOTE,
        parameters=[StatsQuerySerializer],
        responses={200: SummaryResponse, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        body = represent(SummarySerializer, [statistics.summary(given.issues, as_of=given.as_of)])[0]
        return Response(with_lists([body], [given.cut], lists.SUMMARY_LISTS, given)[0])


class DepartmentStatsView(APIView):
    @extend_schema(
        summary="按承办单位统计",
        description="每个在统计范围内有交办的单位一行，不分页。" + SCOPE_NOTE,
        parameters=[StatsQuerySerializer],
        responses={200: DepartmentStatsResponse(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_department(given.issues, as_of=given.as_of, only=given.only_department)
        return Response(
            with_lists(
                represent(DepartmentStatsSerializer, rows),
                [given.cut.narrowed(unit=r.department) for r in rows],
                lists.DEPARTMENT_LISTS,
                given,
            )
        )


class CategoryStatsView(APIView):
    @extend_schema(
        summary="按诉求分类统计",
        description="每个有诉求的分类一行，按诉求数从多到少，不分页。" + SCOPE_NOTE,
        parameters=[StatsQuerySerializer],
        responses={200: CategoryStatsResponse(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_category(given.issues, as_of=given.as_of)
        return Response(
            with_lists(
                represent(CategoryStatsSerializer, rows),
                [given.cut.narrowed(category=r.category) for r in rows],
                lists.BREAKDOWN_LISTS,
                given,
            )
        )


class TownshipStatsView(APIView):
    @extend_schema(
        summary="按乡镇统计",
        description="每个有交办诉求的乡镇一行，不分页。" + SCOPE_NOTE,
        parameters=[StatsQuerySerializer],
        responses={200: TownshipStatsResponse(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_township(given.issues, as_of=given.as_of)
        return Response(
            with_lists(
                represent(TownshipStatsSerializer, rows),
                [given.cut.narrowed(unit=r.township) for r in rows],
                lists.BREAKDOWN_LISTS,
                given,
            )
        )


class MonthStatsView(APIView):
    @extend_schema(
        summary="按受理月份统计",
        description="每个有诉求的受理月份一行，从早到晚，不分页。" + SCOPE_NOTE,
        parameters=[StatsQuerySerializer],
        responses={200: MonthStatsResponse(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        given = stats_input(request)
        rows = statistics.by_month(given.issues, as_of=given.as_of)
        return Response(
            with_lists(
                represent(MonthStatsSerializer, rows),
                [given.cut.month(r.first_day, r.last_day) for r in rows],
                lists.BREAKDOWN_LISTS,
                given,
            )
        )


# --- the lists behind the figures --------------------------------------------------------------------

FIGURE_LIST_NOTE = (
    "统计接口中某个数字背后的记录（lists 给出地址）：参数与统计接口相同，as_of 为统计截止日，"
    "unit 为统计表的一行；count 等于该数字。figure 为指标名，如 replied、on_time、overdue_open。"
)


def _figure_cut(request: Request, figure: str, known: dict[str, str]) -> lists.Cut:
    if figure not in known:
        raise NotFound(f"没有名为“{figure}”的指标清单。")
    params = FigureListQuerySerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return _cut(params.validated_data, params.validated_data.get("as_of") or timezone.localdate())


class IssueFigureList(generics.ListAPIView):
    serializer_class = s.IssueSerializer
    pagination_class = Pagination
    filter_backends: list[Any] = []

    @extend_schema(
        summary="统计数字背后的诉求",
        description=FIGURE_LIST_NOTE,
        parameters=[FigureListQuerySerializer],
        responses={200: s.IssueSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Issue]:
        cut = _figure_cut(self.request, self.kwargs["figure"], lists.ISSUE_FIGURES)
        issues = lists.figure_issues(selectors.issue_list(self.request.user, {}), self.kwargs["figure"], cut)
        return s.with_visible_assignments(issues.order_by("-received_on", "-id"), self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}


class AssignmentFigureList(generics.ListAPIView):
    serializer_class = s.AssignmentSerializer
    pagination_class = Pagination
    filter_backends: list[Any] = []

    @extend_schema(
        summary="统计数字背后的交办",
        description=FIGURE_LIST_NOTE,
        parameters=[FigureListQuerySerializer],
        responses={200: s.AssignmentSerializer(many=True), 400: ERRORS[400], 404: ERRORS[404]},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Assignment]:
        cut = _figure_cut(self.request, self.kwargs["figure"], lists.ASSIGNMENT_FIGURES)
        rows = lists.figure_assignments(
            access.assignments_for(self.request.user), access.issues_for(self.request.user), self.kwargs["figure"], cut
        )
        return rows.select_related("issue", "department").order_by("due_date", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}
