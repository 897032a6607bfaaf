"""The 政民 channel's API: the 信访局 office and administrators write, county leaders read.

Everyone else gets 404, as for anything out of their scope (issue 15; docs/api.md).
Writes call ``channels_citizen.services``; their errors are answered by ``feedback.api.errors``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback import access
from feedback.errors import InvalidInput
from feedback.models import Category, Department, Issue
from feedback.security.api_scope import refuse

from .. import offline, services
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


# --- offline visit capture (issue 20) ------------------------------------------------------------


class VisitTeamAccess(BasePermission):
    """The people who record visits (信访局 and administrators); leaders are refused (403), everyone
    else does not see the channel (404)."""

    message = "只有县信访局或系统管理员可以使用下访离线登记。"

    def has_permission(self, request: Request, view: Any) -> bool:
        if services.can_plan(request.user):
            return True
        return refuse(request, view, can_read=services.can_read(request.user))


def _record_data(request: Request) -> tuple[dict[str, Any], list[Any]]:
    body = _valid(s.VisitSyncSerializer, request)
    data = body["data"]
    if isinstance(data, str):  # multipart: the record's fields travel as one JSON string
        try:
            data = json.loads(data)
        except ValueError:
            raise InvalidInput("记录内容不是有效的 JSON。", field="data") from None
    if not isinstance(data, dict):
        raise InvalidInput("记录内容应为对象。", field="data")
    return {"key": body["key"], "kind": body["kind"], "data": data}, body["photos"]


def _field_errors(serializer_class: type, data: dict[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _sync_visit(request: Request, key: Any, data: dict[str, Any]) -> offline.SyncAnswer:
    fields = _field_errors(s.OfflineVisitSerializer, data)
    week = weeks_for(request.user).filter(pk=fields["week"]).first()
    if week is None:
        raise InvalidInput("该无会周已不存在，请重新下载资料后修改。", field="week")
    village = None
    if fields["village"] is not None:
        village = villages_for(request.user).filter(pk=fields["village"]).first()
        if village is None:
            raise InvalidInput("未找到该村。", field="village")
    return offline.sync_visit(
        actor=request.user,
        key=key,
        week=week,
        kind=fields["visit_kind"],
        township=_department(fields["township"], "township"),
        held_on=fields["held_on"],
        village=village,
        leader=_user(fields["leader"], "leader"),
        cases=_issues(request.user, fields["cases"], "cases"),
        lawyer_present=fields["lawyer_present"],
        lawyer_name=fields["lawyer_name"],
        notes=fields["notes"],
        meetings=[services.MeetingData(**m) for m in fields["meetings"]],
    )


def _sync_request(request: Request, key: Any, data: dict[str, Any], photos: list[Any]) -> offline.SyncAnswer:
    fields = _field_errors(s.OfflineRequestSerializer, data)
    visit = offline.visit_of(request.user, fields["visit_key"])
    category = Category.objects.filter(code=fields["category"]).first()
    if category is None:
        raise InvalidInput(f"未知分类：{fields['category']}", field="category")
    village = None
    if fields["village"] is not None:
        village = villages_for(request.user).filter(pk=fields["village"]).first()
        if village is None:
            raise InvalidInput("未找到该村。", field="village")
    accused = fields["accused_department"]
    offline.check_photos(photos)  # before anything is stored
    return offline.sync_request(
        actor=request.user,
        key=key,
        visit=visit,
        request=offline.OfflineRequest(
            requester_name=fields["requester_name"],
            requester_phone=fields["requester_phone"],
            village=village,
            category=category,
            nature=fields["nature"],
            accused_department=_department(accused, "accused_department") if accused else None,
            title=fields["title"],
            content=fields["content"],
        ),
        photos=photos,
    )


class VisitSyncView(APIView):
    """POST one record captured offline; GET tells the page who is logged in and gives a fresh CSRF token."""

    permission_classes = [IsAuthenticated, VisitTeamAccess]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        summary="离线登记：当前登录用户",
        description="同步前调用：返回当前用户 id 和 CSRF 令牌。未登录为 401/403，页面提示“请重新登录后同步”。",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response({"user": request.user.pk, "csrf_token": get_token(request)})

    @extend_schema(
        summary="离线登记：同步一条记录",
        description=(
            "kind=visit：接访活动（含院落会议）；kind=request：现场诉求（data.visit_key 为所属接访活动的幂等键，"
            "附照片 photos，JPG/PNG，每件最多 6 张）。同一用户同一 key 只创建一次：重试返回第一次的结果"
            "（replayed=true，200）。被拒绝的记录不留任何数据，改正后可用同一 key 重新提交。"
        ),
        request={"multipart/form-data": s.VisitSyncSerializer, "application/json": s.VisitSyncSerializer},
        responses={201: s.SyncAnswerSerializer, 200: s.SyncAnswerSerializer},
    )
    def post(self, request: Request) -> Response:
        body, photos = _record_data(request)
        if body["kind"] == "visit":
            if photos:
                raise InvalidInput("接访活动不附照片，请在诉求中添加。", field="photos")
            answer = _sync_visit(request, body["key"], body["data"])
        else:
            answer = _sync_request(request, body["key"], body["data"], photos)
        code = status.HTTP_200_OK if answer.replayed else status.HTTP_201_CREATED
        return Response(answer.as_json(), status=code)


class OfflinePackView(APIView):
    permission_classes = [IsAuthenticated, VisitTeamAccess]

    @extend_schema(
        summary="离线登记：出发前下载的资料",
        description="近期无会周及下访安排、乡镇、村、分类、单位、县领导，以及下访乡镇中本人可见的未办结政民诉求（带案下访）。",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(offline.pack_for(request.user))
