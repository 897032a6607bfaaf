"""The 政民 channel's API: the 信访局 office and administrators write, county leaders read.

Everyone else gets 404, as for anything out of their scope (issue 15; docs/api.md).
Writes call ``channels_citizen.services``; their errors are answered by ``feedback.api.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from feedback import access
from feedback.errors import InvalidInput
from feedback.models import Department, Issue
from feedback.security.api_scope import refuse

from .. import services
from ..access import villages_for, visits_for, weeks_for
from ..models import NoMeetingWeek, Village, Visit
from . import serializers as s


class CitizenChannelAccess(BasePermission):
    message = "只有县信访局、系统管理员可以操作政民直通车的安排，县领导可以查看。"

    def has_permission(self, request: Request, view: Any) -> bool:
        readable = services.can_read(request.user)
        if (request.method in SAFE_METHODS and readable) or services.can_plan(request.user):
            return True
        return refuse(request, view, can_read=readable)  # 404 out of scope (issue 15)


def _valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _department(code: str, field: str) -> Department:
    found = Department.objects.filter(code=code).first()
    if found is None:
        raise InvalidInput(f"未知单位代码：{code}", field=field)
    return found


def _issues(user: Any, ids: Sequence[int], field: str) -> list[Issue]:
    # Through access: a user may link only issues they can see.
    found = list(access.issues_for(user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise InvalidInput("所选诉求不存在，或您无权查看。", field=field)
    return found


def _user(pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    found = get_user_model().objects.filter(pk=pk).first()
    if found is None:
        raise InvalidInput("未找到该用户。", field=field)
    return found


class WeekViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.WeekSerializer
    permission_classes = [IsAuthenticated, CitizenChannelAccess]
    filterset_fields = ["confirmed", "provisional"]
    ordering_fields = ["month"]
    ordering = ["-month"]
    search_fields: list[str] = []

    def get_queryset(self) -> QuerySet[NoMeetingWeek]:
        return weeks_for(self.request.user).prefetch_related(
            "roster__leader", "roster__township", "roster__departments"
        )

    @extend_schema(
        summary="生成某月无会周",
        description="按该月最后五个工作日生成（待管理员确认）；已存在则返回原记录。",
        request=s.WeekCreateSerializer,
        responses={201: s.WeekSerializer},
    )
    def create(self, request: Request) -> Response:
        data = _valid(s.WeekCreateSerializer, request)
        week = services.plan_week(actor=request.user, month=data["month"])
        return Response(s.WeekSerializer(week).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="确认或调整无会周（系统管理员）", request=s.WeekConfirmSerializer, responses={200: s.WeekSerializer}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(s.WeekConfirmSerializer, request)
        week = services.confirm_week(actor=request.user, week=self.get_object(), **data)
        return Response(s.WeekSerializer(week).data)

    @extend_schema(summary="设置一周一案", request=s.CaseOfWeekSerializer, responses={200: s.WeekSerializer})
    @action(detail=True, methods=["post"], url_path="case-of-week", filter_backends=[])
    def case_of_week(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(s.CaseOfWeekSerializer, request)
        issue = _issues(request.user, [data["issue"]], "issue")[0] if data["issue"] is not None else None
        week = services.set_case_of_week(actor=request.user, week=self.get_object(), issue=issue)
        return Response(s.WeekSerializer(week).data)

    @extend_schema(methods=["GET"], summary="无会周下访安排", responses={200: s.RosterEntrySerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="安排县领导下访乡镇",
        request=s.RosterEntryCreateSerializer,
        responses={201: s.RosterEntrySerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def roster(self, request: Request, pk: str | None = None) -> Response:
        week = self.get_object()
        if request.method == "GET":
            rows = week.roster.select_related("leader", "township").prefetch_related("departments")
            return Response(s.RosterEntrySerializer(rows, many=True).data)
        data = _valid(s.RosterEntryCreateSerializer, request)
        entry = services.add_roster_entry(
            actor=request.user,
            week=week,
            leader=_user(data["leader"], "leader"),
            township=_department(data["township"], "township"),
            departments=[_department(c, "departments") for c in data["departments"]],
        )
        return Response(s.RosterEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.VisitSerializer
    permission_classes = [IsAuthenticated, CitizenChannelAccess]
    filterset_fields = ["week", "kind", "township", "village"]
    ordering_fields = ["held_on", "id"]
    ordering = ["-held_on", "-id"]
    search_fields: list[str] = []

    def get_queryset(self) -> QuerySet[Visit]:
        return visits_for(self.request.user).prefetch_related("cases", "courtyard_meetings")

    @extend_schema(
        summary="登记接访活动",
        description="接访日期必须在所属无会周内。",
        request=s.VisitCreateSerializer,
        responses={201: s.VisitSerializer},
    )
    def create(self, request: Request) -> Response:
        data = _valid(s.VisitCreateSerializer, request)
        week = get_object_or_404(weeks_for(request.user), pk=data["week"])
        village = None
        if data["village"] is not None:
            village = villages_for(request.user).filter(pk=data["village"]).first()
            if village is None:
                raise InvalidInput("未找到该村。", field="village")
        visit = services.record_visit(
            actor=request.user,
            week=week,
            kind=data["visit_kind"],
            township=_department(data["township"], "township"),
            held_on=data["held_on"],
            village=village,
            leader=_user(data["leader"], "leader"),
            cases=_issues(request.user, data["cases"], "cases"),
            lawyer_present=data["lawyer_present"],
            lawyer_name=data["lawyer_name"],
            notes=data["notes"],
        )
        return Response(s.VisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="登记院落会议", request=s.CourtyardMeetingSerializer, responses={201: s.CourtyardMeetingSerializer}
    )
    @action(detail=True, methods=["post"], url_path="courtyard-meetings", filter_backends=[])
    def courtyard_meetings(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(s.CourtyardMeetingSerializer, request)
        meeting = services.record_courtyard_meeting(actor=request.user, visit=self.get_object(), **data)
        return Response(s.CourtyardMeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)


class VillageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.VillageSerializer
    permission_classes = [IsAuthenticated, CitizenChannelAccess]
    filterset_fields = ["township", "active"]
    ordering_fields = ["name", "id"]
    ordering = ["township__sort_order", "name"]
    search_fields = ["name"]

    def get_queryset(self) -> QuerySet[Village]:
        return villages_for(self.request.user).select_related("township")

    @extend_schema(summary="新增村", request=s.VillageCreateSerializer, responses={201: s.VillageSerializer})
    def create(self, request: Request) -> Response:
        data = _valid(s.VillageCreateSerializer, request)
        village = services.add_village(
            actor=request.user, township=_department(data["township"], "township"), name=data["name"]
        )
        return Response(s.VillageSerializer(village).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="无访村逐年统计",
        description="无访村：当年没有登记任何政民诉求（按诉求人所在村）的启用村。",
        parameters=[OpenApiParameter("since", OpenApiTypes.INT, description="起始年份，默认 2021")],
        responses={200: s.QuietVillageYearSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def quiet(self, request: Request) -> Response:
        this_year = timezone.localdate().year
        try:
            since = int(request.query_params.get("since", 2021))
        except ValueError:
            raise InvalidInput("起始年份应为整数。", field="since") from None
        since = max(min(since, this_year), this_year - 30)
        rows = services.quiet_villages(list(range(since, this_year + 1)))
        return Response(s.QuietVillageYearSerializer(rows, many=True).data)
