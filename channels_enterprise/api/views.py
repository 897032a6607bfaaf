"""The enterprise channel's API: validate, fetch through channels_enterprise.access, call a service.

Read: county leaders, administrators and 经开区 (a department: the problems assigned to it); write: 经开区
and administrators (403 for a leader); anyone else finds nothing (empty lists, 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from feedback.api.errors import body_for
from feedback.api.views import ERRORS, Pagination, _valid
from feedback.errors import BatchRejected
from feedback.security.api_scope import refuse

from .. import access, services
from ..models import Enterprise, EnterpriseDay, EnterpriseIntake
from . import serializers as s


class CanManageEnterpriseChannel(BasePermission):
    message = "只有经开区管委会或系统管理员可以执行此操作。"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or services.can_manage(request.user):
            return True
        # Reads are scoped by the querysets; a write on a day or problem the user cannot see is 404.
        return refuse(request, view, can_read=True)


PERMISSIONS = [IsAuthenticated, CanManageEnterpriseChannel]


@extend_schema_view(
    list=extend_schema(summary="企业名录", description="联系电话已遮盖。"),
    retrieve=extend_schema(summary="企业详情"),
)
class EnterpriseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.EnterpriseSerializer
    permission_classes = PERMISSIONS
    pagination_class = Pagination
    filterset_fields = ["park", "sector", "active"]
    search_fields = ["name", "credit_code"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]

    def get_queryset(self) -> QuerySet[Enterprise]:
        return access.enterprises_for(self.request.user)

    @extend_schema(
        summary="登记企业",
        description="统一社会信用代码按 GB 32100-2015 校验第18位校验码。",
        request=s.EnterpriseCreateSerializer,
        responses={201: s.EnterpriseSerializer, **ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(s.EnterpriseCreateSerializer, request)
        enterprise = services.register_enterprise(actor=request.user, **data)
        return Response(s.EnterpriseSerializer(enterprise).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="企业家日列表"),
    retrieve=extend_schema(summary="企业家日详情"),
)
class EnterpriseDayViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.EnterpriseDaySerializer
    permission_classes = PERMISSIONS
    pagination_class = Pagination
    filterset_fields = ["provisional"]
    ordering_fields = ["held_on"]
    ordering = ["-held_on"]

    def get_queryset(self) -> QuerySet[EnterpriseDay]:
        return access.days_for(self.request.user).prefetch_related("leaders", "departments", "enterprises")

    @extend_schema(
        summary="安排企业家日（立即运行排期）",
        description="创建本月及之后 months 个月尚未创建的企业家日（每月一次，可重复调用），并发送临近企业家日的通知。",
        request=s.ScheduleSerializer,
        responses={200: s.ScheduleResultSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def schedule(self, request: Request) -> Response:
        data = _valid(s.ScheduleSerializer, request)
        days = services.schedule_enterprise_days(months=data["months"])
        notified = services.send_enterprise_day_notices()
        return Response({"days": s.EnterpriseDaySerializer(days, many=True).data, "notified": notified})

    @extend_schema(
        summary="补录已举行的企业家日",
        description="系统启用以前或系统未安排的月份已举行的企业家日；日期须早于今天。记下补录日期 recorded_on，"
        "其现场问题的受理和交办日期都是企业家日当天。",
        request=s.PastDaySerializer,
        responses={201: s.EnterpriseDaySerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def record(self, request: Request) -> Response:
        data = _valid(s.PastDaySerializer, request)
        day = services.record_past_day(actor=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=day.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="安排带队领导、随行部门、走访企业和现场办公地点",
        request=s.DutySerializer,
        responses={200: s.EnterpriseDaySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def duty(self, request: Request, pk: str | None = None) -> Response:
        day = self.get_object()
        data = _valid(s.DutySerializer, request)
        services.set_day_duty(actor=request.user, day=day, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=day.pk)).data)

    @extend_schema(
        methods=["GET"],
        summary="该企业家日的企业问题",
        responses={200: s.ProblemSerializer(many=True), 404: ERRORS[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="批量登记企业问题（登记为诉求，可同时交办）",
        description='全部成功或全部不生效；有误时按行返回错误：`{"detail", "problems": {行号: {字段: [信息]}}}`。',
        request=s.ProblemBatchSerializer,
        responses={201: s.ProblemSerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def problems(self, request: Request, pk: str | None = None) -> Response:
        day = self.get_object()
        if request.method == "GET":
            return Response(s.ProblemSerializer(_problems(day.intakes.all()), many=True).data)
        data = _valid(s.ProblemBatchSerializer, request)
        problems = [services.ProblemData(**p) for p in data["problems"]]
        try:
            intakes = services.raise_problems(actor=request.user, day=day, problems=problems)
        except BatchRejected as exc:
            # The shape DRF gives a nested list's field errors: {"problems": {row index: {field: [message]}}}.
            per_row = {i: body_for(e) for i, e in exc.rows.items()}
            return Response({"detail": exc.message, "problems": per_row}, status=status.HTTP_400_BAD_REQUEST)
        fresh = _problems(access.intakes_for(request.user).filter(pk__in=[i.pk for i in intakes]))
        return Response(s.ProblemSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)


def _problems(intakes: QuerySet[EnterpriseIntake]) -> QuerySet[EnterpriseIntake]:
    return intakes.select_related("issue").prefetch_related(Prefetch("consultations")).order_by("id")


@extend_schema_view(
    list=extend_schema(summary="企业问题列表"),
    retrieve=extend_schema(summary="企业问题详情"),
)
class ProblemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ProblemSerializer
    permission_classes = PERMISSIONS
    pagination_class = Pagination
    filterset_fields = ["day", "enterprise"]
    ordering_fields = ["id"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[EnterpriseIntake]:
        return _problems(access.intakes_for(self.request.user)).order_by("-id")

    @extend_schema(
        summary="记录三长会诊",
        request=s.ConsultationInputSerializer,
        responses={201: s.ConsultationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def consultations(self, request: Request, pk: str | None = None) -> Response:
        intake = self.get_object()
        data = _valid(s.ConsultationInputSerializer, request)
        record = services.record_consultation(actor=request.user, intake=intake, **data)
        return Response(s.ConsultationSerializer(record).data, status=status.HTTP_201_CREATED)
