"""The net channel's API: forums (plan, read), the batch intake of a forum's requests, and the
triage of suggestions sent through the public portal (accept, merge into an issue, decline).

Validate with a serializer, fetch through ``channels_net.access``, call ``channels_net.services``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from feedback.api.errors import body_for
from feedback.api.views import ERRORS, Pagination, _valid
from feedback.errors import BatchRejected
from feedback.security.api_scope import refuse

from .. import services
from ..access import can_manage_forums, can_read_forums, can_triage_submissions, forums_for, submissions_for
from ..models import Forum, NetIntake, PublicSubmission
from . import serializers as s

ROW_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='输入有误，整批未登记：`{"detail": 信息, "rows": {行号: {字段: [信息]}}}`，行号从 0 起，只列出有误的行',
)


class ForumPermission(BasePermission):
    message = "只有县委网信办或系统管理员可以安排座谈会和登记诉求；县领导可以查看。"

    def has_permission(self, request: Request, view: Any) -> bool:
        readable = can_read_forums(request.user)
        if (request.method in SAFE_METHODS and readable) or can_manage_forums(request.user):
            return True
        return refuse(request, view, can_read=readable)  # 404 out of scope (issue 15)


@extend_schema_view(
    list=extend_schema(
        summary="网民座谈会列表",
        description="网信办、管理员和县领导可查看；按日期倒序，分页。",
        responses={200: s.ForumSerializer(many=True), 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        summary="网民座谈会详情（含出席领导、网民代表、发言诉求及现场回应）",
        responses={200: s.ForumSerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
)
class ForumViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ForumSerializer
    pagination_class = Pagination
    permission_classes = [IsAuthenticated, ForumPermission]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Forum]:
        return (
            forums_for(self.request.user)
            .select_related("chair")
            .order_by("-held_on")
            .prefetch_related(
                "leaders",
                "departments_present",
                "representatives",
                Prefetch("intakes", queryset=NetIntake.objects.select_related("issue").order_by("issue__ref")),
            )
        )

    def _detail(self, forum: Forum, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=forum.pk)).data, status=code)

    @extend_schema(
        summary="安排网民座谈会",
        description="网信办或管理员。日期不能早于今天；出席领导须为在职县领导。",
        request=s.ForumInputSerializer,
        responses={201: s.ForumSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def create(self, request: Request) -> Response:
        data = _valid(s.ForumInputSerializer, request)
        data["representatives"] = [services.RepresentativeData(**r) for r in data["representatives"]]
        forum = services.plan_forum(actor=request.user, data=services.ForumData(**data))
        return self._detail(forum, status.HTTP_201_CREATED)

    @extend_schema(
        summary="批量登记座谈会诉求并交办",
        description="每行登记一件诉求并交办主办（及协办）单位，现场回应记入诉求。"
        "全部成功或全部不登记；有误时按行返回错误。",
        request=s.ForumIntakeSerializer,
        responses={201: s.ForumIntakeResultSerializer, 400: ROW_ERRORS, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["post"])
    def intake(self, request: Request, pk: str | None = None) -> Response:
        forum = self.get_object()
        serializer = s.ForumIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = [services.ForumRequest(**row) for row in serializer.validated_data["rows"]]
        try:
            issues = services.record_forum_requests(actor=request.user, forum=forum, rows=rows)
        except BatchRejected as exc:
            # The shape DRF gives a nested list's field errors: {"rows": {row index: {field: [message]}}}.
            per_row = {i: body_for(e) for i, e in exc.rows.items()}
            return Response({"detail": exc.message, "rows": per_row}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"issues": [i.pk for i in issues], "refs": [i.ref for i in issues]}, status=status.HTTP_201_CREATED
        )


class SubmissionPermission(BasePermission):
    message = "只有县委网信办或系统管理员可以处理网上征集的意见。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_triage_submissions(request.user) or refuse(request, view, can_read=False)


TRIAGED = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='该意见已处理过，或所选诉求已办结、不存在：`{"detail": 信息}` 或 `{"issue_ref": [信息]}`',
)


@extend_schema_view(
    list=extend_schema(
        summary="网上征集意见列表",
        description="网信办和管理员。按提交时间倒序，分页；`status=received` 只列待受理的。不含查询码；电话已遮盖。",
        responses={200: s.SubmissionSerializer(many=True), 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        summary="网上征集意见详情", responses={200: s.SubmissionSerializer, 403: ERRORS[403], 404: ERRORS[404]}
    ),
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.SubmissionSerializer
    pagination_class = Pagination
    permission_classes = [IsAuthenticated, SubmissionPermission]
    filterset_fields = ["status"]
    search_fields: list[str] = []
    ordering_fields = ["submitted_at"]
    ordering = ["-submitted_at", "-id"]

    def get_queryset(self) -> QuerySet[PublicSubmission]:
        return submissions_for(self.request.user).select_related("category", "issue", "merged_into")

    def _answer(self, submission: PublicSubmission, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.SubmissionSerializer(self.get_queryset().get(pk=submission.pk)).data, status=code)

    @extend_schema(
        summary="受理为新诉求",
        description="登记为政网诉求（未交办）。已处理过的意见不能再受理。",
        request=s.SubmissionAcceptSerializer,
        responses={201: s.SubmissionSerializer, 400: TRIAGED, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        data = _valid(s.SubmissionAcceptSerializer, request)
        services.accept_submission(actor=request.user, submission=submission, **data)
        return self._answer(submission, status.HTTP_201_CREATED)

    @extend_schema(
        summary="并入已有诉求（并单）",
        description="同一问题已有诉求在办理时，把意见并入该诉求：记入诉求的办理记录，提交人凭查询码看到该诉求的"
        "办理状态。只能并入您可查看的、未办结的政网诉求；已处理过的意见不能再并入。",
        request=s.SubmissionMergeSerializer,
        responses={200: s.SubmissionSerializer, 400: TRIAGED, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        data = _valid(s.SubmissionMergeSerializer, request)
        services.merge_submission(actor=request.user, submission=submission, **data)
        return self._answer(submission)

    @extend_schema(
        summary="不予受理",
        description="理由将在查询页向提交人公开（自动遮盖手机号、身份证号）。",
        request=s.SubmissionDeclineSerializer,
        responses={200: s.SubmissionSerializer, 400: TRIAGED, 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        submission = self.get_object()
        data = _valid(s.SubmissionDeclineSerializer, request)
        services.decline_submission(actor=request.user, submission=submission, **data)
        return self._answer(submission)
