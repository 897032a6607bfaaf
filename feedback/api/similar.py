"""``POST /api/v1/issues/similar/``: likely duplicates of a request being registered (issue 19).

Reading only: the body is the request as typed, nothing is stored. A channel office sees
suggestions among its channel's issues, a leader and an admin among all (``feedback.access``).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback import access, similar
from feedback.access import Role
from feedback.models import Channel, Department


class MaySeeSuggestions(BasePermission):
    message = "只有直通车办公室、县领导或系统管理员可以查询相似诉求。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.scope_of(request.user).role in (Role.OFFICE, Role.LEADER, Role.ADMIN)


class SimilarRequestSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    content = serializers.CharField(max_length=20000, allow_blank=True, required=False, default="")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True, default="")
    township = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    requester_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["title"].strip() or attrs["content"].strip()):
            raise serializers.ValidationError({"title": ["请至少填写标题或诉求内容。"]})
        township = attrs["township"].strip()
        attrs["township"] = similar.resolve_township(township) if township else None
        if township and attrs["township"] is None:
            raise serializers.ValidationError({"township": [f"未找到乡镇“{township}”，请填写乡镇名称或代码。"]})
        return attrs


RESULT = inline_serializer(
    "SimilarIssues",
    {
        "results": serializers.ListField(
            child=inline_serializer(
                "SimilarIssue",
                {
                    "issue_ref": serializers.CharField(),
                    "score": serializers.FloatField(),
                    "likely": serializers.BooleanField(),
                    "reasons": serializers.ListField(child=serializers.CharField()),
                    "title": serializers.CharField(),
                    "status": serializers.CharField(),
                    "url": serializers.CharField(),
                },
            )
        )
    },
)


class SimilarIssuesView(APIView):
    permission_classes = [IsAuthenticated, MaySeeSuggestions]

    @extend_schema(
        summary="查询相似诉求（登记时提示可能重复）",
        request=SimilarRequestSerializer,
        responses={
            200: RESULT,
            400: OpenApiResponse(description="输入有误"),
            403: OpenApiResponse(description="无权查询"),
        },
    )
    def post(self, request: Request) -> Response:
        body = SimilarRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        found = similar.suggest(
            request.user,
            similar.Request(
                title=data["title"],
                content=data["content"],
                channel=data["channel"],
                township=data["township"],
                requester_phone=data["requester_phone"],
            ),
        )
        return Response({"results": [_row(s) for s in found]})


def _row(suggestion: similar.Suggestion) -> dict[str, Any]:
    return {
        "issue_ref": suggestion.issue.ref,
        "score": suggestion.score,
        "likely": suggestion.likely,
        "reasons": suggestion.reasons,
        # Beyond CONTRACT (extended freely): what the register form shows and links to.
        "title": suggestion.issue.title,
        "status": suggestion.issue.get_status_display(),
        "url": reverse("issue_detail", args=[suggestion.issue.pk]),
    }


# ``POST /api/v1/issues/similar/batch/``: the rows of one batch grid that repeat each other (并入第 N 行).
BATCH_ROWS = 100  # a grid holds at most 100 rows (the channels' formsets' max_num)


class BatchRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(min_value=1, required=False, help_text="行号（网格中的第几行），缺省为顺序号")
    title = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    content = serializers.CharField(max_length=20000, allow_blank=True, required=False, default="")
    township = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    requester_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class BatchSerializer(serializers.Serializer):
    rows = BatchRowSerializer(many=True, max_length=BATCH_ROWS)


BATCH_RESULT = inline_serializer(
    "SimilarRowsInBatch",
    {
        "pairs": serializers.ListField(
            child=inline_serializer(
                "SimilarRowPair",
                {
                    "row": serializers.IntegerField(),
                    "same_as": serializers.IntegerField(),
                    "score": serializers.FloatField(),
                    "reasons": serializers.ListField(child=serializers.CharField()),
                },
            )
        )
    },
)


class SimilarRowsView(APIView):
    """Which rows of a batch grid are probably the same request as an earlier row: reading only, the
    rows are compared with each other (``similar.within_batch``), not with the stored issues."""

    permission_classes = [IsAuthenticated, MaySeeSuggestions]

    @extend_schema(
        summary="查询同一批次中相似的行（并入第 N 行）",
        request=BatchSerializer,
        responses={
            200: BATCH_RESULT,
            400: OpenApiResponse(description="输入有误"),
            403: OpenApiResponse(description="无权查询"),
        },
    )
    def post(self, request: Request) -> Response:
        body = BatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = list(enumerate(body.validated_data["rows"], start=1))
        kept = [(r.get("row") or n, r) for n, r in given if r["title"].strip() or r["content"].strip()]
        numbers, rows = [n for n, _ in kept], [r for _, r in kept]
        names = similar.township_names()
        requests = [
            similar.Request(
                title=r["title"],
                content=r["content"],
                requester_phone=r["requester_phone"],
                # A township only as a name or code known to the county (one query for them all).
                township=_township(r["township"], names),
            )
            for r in rows
        ]
        pairs = similar.within_batch(requests, names=names)
        return Response(
            {
                "pairs": [
                    {"row": numbers[p.later], "same_as": numbers[p.earlier], "score": p.score, "reasons": p.reasons}
                    for p in pairs
                ]
            }
        )


def _township(value: str, names: dict[str, str]) -> Department | None:
    """The township a row names (``similar.township_code``'s rule), as the scorer needs it (its
    name), without a query."""
    code = similar.township_code(value, names)
    return Department(code=code, name=names[code], kind=Department.Kind.TOWNSHIP) if code else None
