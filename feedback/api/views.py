"""API views: validate with a serializer, fetch through ``feedback.access``, call a service, render.

Objects come only from the scoped querysets, so anything out of the user's scope answers
404; a user who may see an object but not act on it gets 403 (permissions.py, and the
services' own ``NotPermitted``). Errors are turned into responses in errors.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from feedback import access, selectors, services
from feedback.api import serializers as s
from feedback.api.permissions import CanManageIssue, CanRegisterIssues, IsAssignedDepartmentMember
from feedback.documents.downloads import reply_file_response
from feedback.errors import NotPermitted, WorkflowError
from feedback.models import (
    Assignment,
    Category,
    Channel,
    Department,
    ExtensionRequest,
    Issue,
    Objection,
    Requester,
    SignedReply,
)
from feedback.views.common import KnownCountPaginator
from feedback.workcalendar import deadline_for

ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description='输入有误：`{字段: [信息]}` 或 `{"detail": 信息}`'),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description='可以查看但无权执行此操作：`{"detail": 信息}`'),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="不存在，或不在您的查看范围内"),
}
CONFLICT = {409: OpenApiResponse(OpenApiTypes.OBJECT, description="该事项刚被其他人处理过（如已有待审核的回复）")}
# Who usually brings an issue on each channel, when the clerk does not say.
DEFAULT_REQUESTER_KIND = {
    Channel.NET: Requester.Kind.NETIZEN,
    Channel.ENTERPRISE: Requester.Kind.ENTERPRISE,
    Channel.CITIZEN: Requester.Kind.PERSON,
}


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


# Query parameters that leave the list's rows as they are (the page, its size, the order, the format).
UNFILTERED = frozenset({"page", "page_size", "ordering", "format"})


class AssignmentPagination(Pagination):
    """A department's whole list takes its total from the kept tally (``selectors.inbox_per_status``, decision
    0800) instead of counting its assignments: the count was 5 of the list's 7 ms in PostgreSQL for a busy
    department at a million issues. Any filter or search, and every other role, counts as before."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        per_status = selectors.inbox_per_status(request.user) if set(request.query_params) <= UNFILTERED else None
        count = None if per_status is None else sum(per_status.values())
        self.django_paginator_class = functools.partial(KnownCountPaginator, count=count)  # type: ignore[assignment]
        return super().paginate_queryset(queryset, request, view)


@contextmanager
def fields_named(**aliases: str) -> Iterator[None]:
    """Report a service's field error under the API's name for that field (``on`` → ``closed_on``)."""
    try:
        yield
    except WorkflowError as exc:
        exc.field = aliases.get(exc.field or "", exc.field)
        raise


def _valid(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- deadlines ---------------------------------------------------------------------------------------


class DeadlinePreviewView(APIView):
    @extend_schema(
        summary="预览办理期限",
        description="按工作日历计算办理期限：起算日当日不计入；自然日时限落在休息日的顺延至下一个工作日；"
        "计算所涉年份尚未载入工作日历时 provisional 为 true。",
        parameters=[s.DeadlinePreviewQuerySerializer],
        responses={200: s.DeadlinePreviewSerializer, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        params = s.DeadlinePreviewQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        deadline = deadline_for(data["start"], data["amount"], data["unit"])
        return Response(s.DeadlinePreviewSerializer(deadline).data)


# --- reference data ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="单位列表", description="全部单位（含已停用），不分页。"),
    retrieve=extend_schema(summary="单位详情"),
)
class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Department.objects.all()
    serializer_class = s.DepartmentSerializer
    lookup_field = "code"
    pagination_class = None
    filterset_fields = ["kind", "channel", "active"]
    ordering_fields = ["code", "name", "sort_order"]
    search_fields = ["code", "name"]


@extend_schema_view(
    list=extend_schema(summary="诉求分类列表", description="全部分类（含已停用），不分页。"),
    retrieve=extend_schema(summary="诉求分类详情"),
)
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.select_related("parent")
    serializer_class = s.CategorySerializer
    lookup_field = "code"
    pagination_class = None
    filterset_fields = ["active"]
    ordering_fields = ["code", "name", "sort_order"]
    search_fields = ["code", "name"]


# --- assignments -------------------------------------------------------------------------------------


class AssignmentFilter(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__code", help_text="承办单位代码")
    status = django_filters.ChoiceFilter(choices=Assignment.Status.choices)
    role = django_filters.ChoiceFilter(choices=Assignment.Role.choices)
    issue = django_filters.NumberFilter(field_name="issue_id", help_text="诉求 id")
    issue_ref = django_filters.CharFilter(field_name="issue__ref", help_text="诉求编号")

    class Meta:
        model = Assignment
        fields = ["department", "status", "role", "issue", "issue_ref"]


@extend_schema_view(
    list=extend_schema(summary="交办列表", description="您有权查看的交办，分页；search 按诉求编号或标题查找。"),
    retrieve=extend_schema(summary="交办详情", responses={200: s.AssignmentSerializer, 404: ERRORS[404]}),
)
class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AssignmentSerializer
    pagination_class = AssignmentPagination
    filterset_class = AssignmentFilter
    search_fields = ["issue__ref", "issue__title"]
    ordering_fields = ["due_date", "assigned_on", "id"]
    ordering = ["due_date", "id"]

    def get_queryset(self) -> QuerySet[Assignment]:
        return access.assignments_for(self.request.user).select_related("issue", "department")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    @extend_schema(
        summary="签收", request=None, responses={200: s.AssignmentSerializer, 403: ERRORS[403], 404: ERRORS[404]}
    )
    @action(
        detail=True,
        methods=["post"],
        filter_backends=[],
        permission_classes=[IsAuthenticated, IsAssignedDepartmentMember],
    )
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        assignment = services.acknowledge_assignment(actor=request.user, assignment=self.get_object())
        return Response(self.get_serializer(assignment).data)

    @extend_schema(methods=["GET"], summary="该交办的书面回复", responses={200: s.ReplySerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="提交书面回复",
        description="上传盖章签字的回复函扫描件。文件在保存前检查：扩展名、实际内容、PDF 无脚本/自动动作/内嵌文件、"
        "图片无附加数据、不超过 20 MB；不合格则返回 400，且不保存任何内容。",
        request={"multipart/form-data": s.ReplyCreateSerializer},
        responses={201: s.ReplySerializer, **ERRORS, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser, FormParser],
        permission_classes=[IsAuthenticated, IsAssignedDepartmentMember],
    )
    def replies(self, request: Request, pk: str | None = None) -> Response:
        assignment = self.get_object()
        if request.method == "GET":
            rows = assignment.replies.order_by("-version")
            return Response(s.ReplySerializer(rows, many=True, context=self.get_serializer_context()).data)
        data = _valid(s.ReplyCreateSerializer, request)
        reply = services.submit_reply(actor=request.user, assignment=assignment, **data)
        return Response(
            s.ReplySerializer(reply, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(methods=["GET"], summary="该交办的延期申请", responses={200: s.ExtensionSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="申请延期",
        description="承办单位在办理期限前申请，延至日期不得超过时限规则允许的最长延期。",
        request=s.ExtensionCreateSerializer,
        responses={201: s.ExtensionSerializer, **ERRORS, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=None,
        permission_classes=[IsAuthenticated, IsAssignedDepartmentMember],
    )
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        assignment = self.get_object()
        if request.method == "GET":
            return Response(s.ExtensionSerializer(assignment.extensions.all(), many=True).data)
        data = _valid(s.ExtensionCreateSerializer, request)
        extension = services.request_extension(actor=request.user, assignment=assignment, **data)
        return Response(s.ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="该交办的异议", responses={200: s.ObjectionSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        summary="提出异议（退回）",
        description="承办单位认为不属于本单位职责时，在收到交办后 5 个工作日内写明理由提出，"
        "可建议改派单位；由直通车办公室同意改派或驳回。决定前原办理期限照常计算。",
        request=s.ObjectionCreateSerializer,
        responses={201: s.ObjectionSerializer, **ERRORS, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=None,
        permission_classes=[IsAuthenticated, IsAssignedDepartmentMember],
    )
    def objections(self, request: Request, pk: str | None = None) -> Response:
        assignment = self.get_object()
        if request.method == "GET":
            rows = assignment.objections.select_related(
                "assignment__issue", "assignment__department", "suggested_department", "new_assignment__department"
            )
            return Response(s.ObjectionSerializer(rows, many=True).data)
        data = _valid(s.ObjectionCreateSerializer, request)
        objection = services.raise_objection(
            actor=request.user,
            assignment=assignment,
            reason=data["reason"],
            suggested_department=data.get("suggested_department"),
        )
        return Response(s.ObjectionSerializer(objection).data, status=status.HTTP_201_CREATED)


class ExtensionViewSet(viewsets.ReadOnlyModelViewSet):
    """Extension requests in the user's scope; the channel office approves or rejects them."""

    serializer_class = s.ExtensionSerializer
    pagination_class = Pagination
    filterset_fields = ["status"]
    ordering_fields = ["requested_at"]

    def get_queryset(self) -> QuerySet[ExtensionRequest]:
        return (
            access.extensions_for(self.request.user)
            .select_related("assignment__issue")
            .order_by("-requested_at", "-id")
        )

    def _decide(self, request: Request, approve: bool) -> Response:
        data = _valid(s.ExtensionDecisionSerializer, request)
        decided = services.decide_extension(
            actor=request.user, request=self.get_object(), approve=approve, note=data["note"]
        )
        return Response(self.get_serializer(decided).data)

    @extend_schema(
        summary="批准延期", request=s.ExtensionDecisionSerializer, responses={200: s.ExtensionSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        summary="不批准延期", request=s.ExtensionDecisionSerializer, responses={200: s.ExtensionSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, approve=False)


@extend_schema_view(
    list=extend_schema(summary="异议列表", description="您有权查看的异议，分页；status=pending 为待决定。"),
    retrieve=extend_schema(summary="异议详情", responses={200: s.ObjectionSerializer, 404: ERRORS[404]}),
)
class ObjectionViewSet(viewsets.ReadOnlyModelViewSet):
    """Objections (异议) in the user's scope; the channel office accepts (re-assigns) or rejects them."""

    serializer_class = s.ObjectionSerializer
    pagination_class = Pagination
    filterset_fields = ["status"]
    ordering_fields = ["raised_at", "id"]
    ordering = ["-raised_at", "-id"]

    def get_queryset(self) -> QuerySet[Objection]:
        return access.objections_for(self.request.user).select_related(
            "assignment__issue", "assignment__department", "suggested_department", "new_assignment__department"
        )

    @extend_schema(
        summary="同意异议并改派",
        description="原交办退出办理（已退回改派），改由 department 以相同角色（主办/协办）办理；"
        "clock=continue 沿用原办理期限，clock=restart 从今天起按原时限重新计算。",
        request=s.ObjectionAcceptSerializer,
        responses={200: s.ObjectionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        objection = self.get_object()
        data = _valid(s.ObjectionAcceptSerializer, request)
        decided = services.accept_objection(
            actor=request.user,
            objection=objection,
            department=data["department"],
            clock=data["clock"],
            note=data["note"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=decided.pk)).data)

    @extend_schema(
        summary="驳回异议",
        description="承办单位须按原交办和原期限办理；note 必填。",
        request=s.ObjectionRejectSerializer,
        responses={200: s.ObjectionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        objection = self.get_object()
        data = _valid(s.ObjectionRejectSerializer, request)
        decided = services.reject_objection(actor=request.user, objection=objection, note=data["note"])
        return Response(self.get_serializer(self.get_queryset().get(pk=decided.pk)).data)


# --- replies -----------------------------------------------------------------------------------------


class ReplyFilter(django_filters.FilterSet):
    assignment = django_filters.NumberFilter(field_name="assignment_id", help_text="交办 id")
    review_status = django_filters.ChoiceFilter(choices=SignedReply.Review.choices)

    class Meta:
        model = SignedReply
        fields = ["assignment", "review_status"]


@extend_schema_view(
    list=extend_schema(summary="书面回复列表", description="您有权查看的书面回复，分页。"),
    retrieve=extend_schema(summary="书面回复详情", responses={200: s.ReplySerializer, 404: ERRORS[404]}),
)
class ReplyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ReplySerializer
    pagination_class = Pagination
    filterset_class = ReplyFilter
    ordering_fields = ["submitted_at", "id"]
    ordering = ["-submitted_at", "-id"]

    def get_queryset(self) -> QuerySet[SignedReply]:
        return access.replies_for(self.request.user).select_related("assignment__issue")

    @extend_schema(summary="审核通过", request=s.NoteSerializer, responses={200: s.ReplySerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        reply = self.get_object()
        data = _valid(s.NoteSerializer, request)
        reply = services.accept_reply(actor=request.user, reply=reply, note=data["note"])
        return Response(self.get_serializer(reply).data)

    @extend_schema(summary="退回重办", request=s.ReasonSerializer, responses={200: s.ReplySerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="return",
        url_name="return",
        filter_backends=[],
        permission_classes=[IsAuthenticated, CanManageIssue],
    )
    def return_reply(self, request: Request, pk: str | None = None) -> Response:
        reply = self.get_object()
        data = _valid(s.ReasonSerializer, request)
        reply = services.return_reply(actor=request.user, reply=reply, reason=data["reason"])
        return Response(self.get_serializer(reply).data)

    @extend_schema(
        summary="下载回复函扫描件",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            404: ERRORS[404],
        },
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        return reply_file_response(self.get_object())


# --- issues ------------------------------------------------------------------------------------------


class IssueFilter(django_filters.FilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    status = django_filters.ChoiceFilter(choices=Issue.Status.choices)
    nature = django_filters.ChoiceFilter(choices=Issue.Nature.choices)
    category = django_filters.CharFilter(field_name="category__code", help_text="分类代码")
    department = django_filters.CharFilter(method="filter_department", help_text="承办单位代码")
    received_from = django_filters.DateFilter(field_name="received_on", lookup_expr="gte", help_text="受理日期起（含）")
    received_to = django_filters.DateFilter(field_name="received_on", lookup_expr="lte", help_text="受理日期止（含）")
    awaiting_review = django_filters.CharFilter(
        method="filter_awaiting_review",
        help_text="true：有书面回复（主办或协办单位）等待审核的诉求（待审核），按最早提交的回复先后排列；"
        "false：没有待审核回复的诉求",
    )

    class Meta:
        model = Issue
        fields = [
            "channel",
            "status",
            "nature",
            "category",
            "department",
            "received_from",
            "received_to",
            "awaiting_review",
        ]

    def filter_department(self, queryset: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        return queryset.filter(selectors.handled_by_q(department__code=value))

    def filter_awaiting_review(self, queryset: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        flag = AWAITING_REVIEW_VALUES.get(value.strip().lower())
        if flag is None:
            raise ValidationError({"awaiting_review": ["awaiting_review 只能为 true 或 false。"]})
        # get_queryset is selectors.issue_list, which annotates awaiting_review.
        return (
            selectors.with_waiting_since(queryset.filter(awaiting_review=flag))
            if flag
            else queryset.filter(awaiting_review=False)
        )


AWAITING_REVIEW_VALUES = {"true": True, "1": True, "false": False, "0": False}


@extend_schema_view(
    list=extend_schema(summary="诉求列表", description="您有权查看的诉求，分页；search 按编号或标题查找。"),
    retrieve=extend_schema(
        summary="诉求详情",
        description="含您有权查看的交办；诉求人联系电话仅以脱敏形式提供。",
        responses={200: s.IssueSerializer, 404: ERRORS[404]},
    ),
)
class IssueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.IssueSerializer
    pagination_class = Pagination
    filterset_class = IssueFilter
    search_fields = ["ref", "title"]
    ordering_fields = ["received_on", "ref", "id", "closed_on"]
    ordering = ["-received_on", "-id"]

    def get_queryset(self) -> QuerySet[Issue]:
        issues = selectors.issue_list(self.request.user, {})
        return s.with_visible_assignments(issues, self.request.user)

    def filter_queryset(self, queryset: QuerySet[Issue]) -> QuerySet[Issue]:
        queryset = super().filter_queryset(queryset)
        wants_queue = AWAITING_REVIEW_VALUES.get(self.request.query_params.get("awaiting_review", "").lower())
        if wants_queue and "ordering" not in self.request.query_params:
            return queryset.order_by("waiting_since", "id")  # the work list: the longest waiting first
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _detail(self, issue: Issue, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=issue.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary="登记诉求（可同时交办）",
        description="直通车办公室或管理员。填写 lead（及 co、deadline_amount、deadline_unit）时同时交办；"
        "登记与交办一并成功或一并不生效。",
        request=s.IssueCreateSerializer,
        responses={201: s.IssueSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    )
    def create(self, request: Request) -> Response:
        data = _valid(s.IssueCreateSerializer, request)
        channels = access.registrable_channels(request.user)
        channel = data.get("channel") or (channels[0] if len(channels) == 1 else "")
        if not channel:
            raise ValidationError({"channel": ["请选择渠道。"]})
        if channel not in channels:
            raise NotPermitted(f"您不能登记{Channel(channel).label}的诉求。")
        who = data["requester"]
        requester = services.RequesterData(
            name=who["name"],
            phone=who["phone"],
            organization=who["organization"],
            kind=who.get("kind") or DEFAULT_REQUESTER_KIND[channel],
        )
        with fields_named(requester_name="requester", requester_phone="requester"):
            issue = services.register_and_assign_issue(
                actor=request.user,
                ref=data["ref"] or None,
                channel=channel,
                category=data["category"],
                requester=requester,
                title=data["title"],
                content=data["content"],
                received_on=data["received_on"],
                nature=data["nature"],
                onsite_answer=data["onsite_answer"],
                lead=data.get("lead"),
                co=data["co"],
                deadline_amount=data.get("deadline_amount"),
                deadline_unit=data.get("deadline_unit"),
                accused_department=data.get("accused_department"),
            )
        return self._detail(issue, status.HTTP_201_CREATED)

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [IsAuthenticated(), CanRegisterIssues()]
        if self.action == "partial_update":
            return [IsAuthenticated(), CanManageIssue()]
        return super().get_permissions()

    @extend_schema(
        summary="更正登记信息",
        description="该渠道的直通车办公室或管理员，诉求未办结时：标题、内容、分类、性质、诉求人；"
        "只改所填字段，每项修改连同修改前后的内容和修改人记入办理记录（电话脱敏）。已办结的诉求返回 400。",
        request=s.IssueEditSerializer,
        responses={200: s.IssueSerializer, **ERRORS},
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.IssueEditSerializer, request)
        who = issue.requester
        new = data.get("requester", {})
        correction = services.IssueCorrection(
            title=data.get("title", issue.title),
            content=data.get("content", issue.content),
            category=data.get("category", issue.category),
            nature=data.get("nature", issue.nature),
            requester=services.RequesterData(
                name=new.get("name", who.name),
                phone=new.get("phone") or who.phone,
                kind=new.get("kind", who.kind),
                organization=new.get("organization", who.organization),
            ),
        )
        with fields_named(requester_name="requester", requester_phone="requester"):
            services.edit_issue(actor=request.user, issue=issue, correction=correction)
        return self._detail(issue)

    @extend_schema(summary="交办", request=s.AssignInputSerializer, responses={200: s.IssueSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.AssignInputSerializer, request)
        services.assign_issue(
            actor=request.user,
            issue=issue,
            lead=data["lead"],
            co=data["co"],
            assigned_on=data.get("assigned_on"),
            deadline_amount=data.get("deadline_amount"),
            deadline_unit=data.get("deadline_unit"),
            note=data["note"],
        )
        return self._detail(issue)

    @extend_schema(summary="回访", request=s.FollowUpSerializer, responses={200: s.IssueSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["post"],
        url_path="follow-up",
        url_name="follow-up",
        filter_backends=[],
        permission_classes=[IsAuthenticated, CanManageIssue],
    )
    def follow_up(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.FollowUpSerializer, request)
        services.record_follow_up(
            actor=request.user,
            issue=issue,
            satisfaction=data["satisfaction"],
            comment=data["comment"],
            on=data.get("followed_up_on"),
        )
        return self._detail(issue)

    @extend_schema(
        summary="登记未能回访",
        description="确实无法回访时登记原因（其他须写明说明），之后可以办结；计入办结、不计入评价。",
        request=s.FollowUpSkipSerializer,
        responses={200: s.IssueSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="follow-up-skipped",
        url_name="follow-up-skipped",
        filter_backends=[],
        permission_classes=[IsAuthenticated, CanManageIssue],
    )
    def follow_up_skipped(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.FollowUpSkipSerializer, request)
        with fields_named(follow_up_skipped="reason", follow_up_skip_note="note"):
            services.record_follow_up_skipped(actor=request.user, issue=issue, reason=data["reason"], note=data["note"])
        return self._detail(issue)

    @extend_schema(summary="办结", request=s.CloseSerializer, responses={200: s.IssueSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def close(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.CloseSerializer, request)
        services.close_issue(actor=request.user, issue=issue, on=data.get("closed_on"), note=data["note"])
        return self._detail(issue)

    @extend_schema(
        summary="并单",
        description="把本件并入主诉求 into（由主诉求统一办理）：本件未提交回复的交办退出办理，"
        "状态、回访和办结随主诉求；"
        "主诉求答复后本件的办理记录写入答复，并通知渠道办公室电话告知诉求人。该渠道的直通车办公室或管理员；"
        "本件不在您的范围内返回 404，主诉求不存在或您无权查看返回 400。",
        request=s.MergeInputSerializer,
        responses={200: s.IssueSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.MergeInputSerializer, request)
        lead = access.issues_for(request.user).filter(pk=data["into"]).first()
        if lead is None:
            raise ValidationError({"into": [f"未找到 id 为 {data['into']} 的诉求，或您无权查看。"]})
        services.merge_issue(actor=request.user, issue=issue, into=lead, note=data["note"])
        return self._detail(issue)

    @extend_schema(
        summary="拆分",
        description="把已并单的本件从主诉求拆分出来，恢复为“已登记”，需单独交办；reason 必填。",
        request=s.ReasonSerializer,
        responses={200: s.IssueSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def split(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.ReasonSerializer, request)
        services.split_issue(actor=request.user, issue=issue, reason=data["reason"])
        return self._detail(issue)

    @extend_schema(summary="重办", request=s.ReopenSerializer, responses={200: s.IssueSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[], permission_classes=[IsAuthenticated, CanManageIssue])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        issue = self.get_object()
        data = _valid(s.ReopenSerializer, request)
        services.reopen_issue(
            actor=request.user,
            issue=issue,
            reason=data["reason"],
            departments=data["departments"] or None,
            deadline_amount=data.get("deadline_amount"),
            deadline_unit=data.get("deadline_unit"),
        )
        return self._detail(issue)
