"""API representations and request validation. Serializers only validate and render:
state changes are made by ``feedback.services``, called from the views."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedback import access
from feedback.deadlines import MAX_AMOUNT
from feedback.models import (
    Assignment,
    Category,
    Channel,
    DeadlineUnit,
    Department,
    ExtensionRequest,
    Issue,
    Objection,
    Requester,
    SignedReply,
)

# Dates outside this span are refused before any arithmetic (no calendar data, and no
# overflow of datetime.date near year 9999).
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
DATE_MESSAGE = "日期格式应为 YYYY-MM-DD，且必须是实际存在的日期。"
UNIT_MESSAGE = "时限单位无效，应为 working_day（工作日）或 calendar_day（自然日）。"
AMOUNT_MESSAGE = f"时限必须是 1 到 {MAX_AMOUNT} 之间的整数。"


class ChoiceLabelField(serializers.CharField):
    """The label of a choices field's value, as ``get_<field>_display()`` gives it (``None`` stays null).

    Read from the model field's choices directly: with ``source="get_status_display"`` DRF inspects the
    bound method's signature for every row and field (``inspect.signature``), which was a fifth of the
    assignments list's CPU (bench/README.md, "Stop 30")."""

    def __init__(self, *, source: str, **kwargs: Any) -> None:
        super().__init__(source=source, read_only=True, **kwargs)

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        model_field = parent.Meta.model._meta.get_field(self.source)
        self.labels = dict(make_hashable(model_field.flatchoices))

    def to_representation(self, value: Any) -> Any:
        return force_str(self.labels.get(make_hashable(value), value), strings_only=True)


def _choices_help(choices: type[models.TextChoices]) -> str:
    return "、".join(f"{value}（{label}）" for value, label in choices.choices)


class CodeOrLabelChoiceField(serializers.ChoiceField):
    """A choice given as its code or its Chinese label (``已解决`` → ``resolved``); yields the code."""

    def __init__(self, choices: type[models.TextChoices], **kwargs: Any) -> None:
        self.by_label = {label: value for value, label in choices.choices}
        kwargs.setdefault("error_messages", {}).setdefault(
            "invalid_choice", f"“{{input}}”无效，应为：{_choices_help(choices)}。"
        )
        kwargs.setdefault("help_text", f"代码或中文名称：{_choices_help(choices)}")
        super().__init__(choices=choices.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            data = self.by_label.get(data.strip(), data.strip())
        return super().to_internal_value(data)


def date_field(**kwargs: Any) -> serializers.DateField:
    messages = {"invalid": DATE_MESSAGE, "datetime": DATE_MESSAGE}
    messages.update(kwargs.pop("error_messages", {}))
    return serializers.DateField(input_formats=["%Y-%m-%d"], error_messages=messages, **kwargs)


def check_date_range(value: datetime.date | None) -> datetime.date | None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(f"日期应在 {EARLIEST_DATE:%Y-%m-%d} 至 {LATEST_DATE:%Y-%m-%d} 之间。")
    return value


def amount_field(**kwargs: Any) -> serializers.IntegerField:
    messages = dict.fromkeys(("invalid", "min_value", "max_value", "max_string_length"), AMOUNT_MESSAGE)
    messages.update(kwargs.pop("error_messages", {}))
    return serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, error_messages=messages, **kwargs)


# --- deadlines ---------------------------------------------------------------------------------------


class DeadlinePreviewQuerySerializer(serializers.Serializer):
    start = date_field(
        help_text="起算日（YYYY-MM-DD），当日不计入", error_messages={"required": "请提供起算日 start（YYYY-MM-DD）。"}
    )
    amount = amount_field(help_text="时限（正整数）", error_messages={"required": "请提供时限 amount（正整数）。"})
    unit = CodeOrLabelChoiceField(
        DeadlineUnit,
        error_messages={
            "required": "请提供时限单位 unit：working_day（工作日）或 calendar_day（自然日）。",
            "invalid_choice": UNIT_MESSAGE,
        },
    )

    def validate_start(self, value: datetime.date) -> datetime.date:
        return check_date_range(value)


class DeadlinePreviewSerializer(serializers.Serializer):
    due_date = serializers.DateField(help_text="办理期限（当日 24:00，北京时间）")
    provisional = serializers.BooleanField(help_text="期限跨入尚未载入工作日历的年份，按周一至周五暂算")
    explanation = serializers.ListField(child=serializers.CharField(), help_text="计算过程说明")


# --- reference data ----------------------------------------------------------------------------------


class DepartmentSerializer(serializers.ModelSerializer):
    kind_label = ChoiceLabelField(source="kind")
    # Declared so the schema says "" is a value: only channel offices carry a channel (schema fuzz).
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "kind_label", "channel", "active"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "active"]
        read_only_fields = fields


# --- assignments and replies -------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    issue_ref = serializers.CharField(source="issue.ref", read_only=True)
    issue_title = serializers.CharField(source="issue.title", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    role_label = ChoiceLabelField(source="role")
    status_label = ChoiceLabelField(source="status")
    deadline_unit_label = ChoiceLabelField(source="deadline_unit")
    overdue = serializers.SerializerMethodField(help_text="未办结且已过办理期限")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "issue",
            "issue_ref",
            "issue_title",
            "department",
            "department_name",
            "role",
            "role_label",
            "assigned_on",
            "due_date",
            "original_due_date",
            "provisional",
            "status",
            "status_label",
            "deadline_amount",
            "deadline_unit",
            "deadline_unit_label",
            "acknowledged_at",
            "replied_on",
            "overdue",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: Assignment) -> bool:
        return obj.is_overdue(self.context.get("today"))


class ReplySerializer(serializers.ModelSerializer):
    result_label = ChoiceLabelField(source="result")
    review_status_label = ChoiceLabelField(source="review_status")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SignedReply
        fields = [
            "id",
            "assignment",
            "version",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "signer_name",
            "signer_title",
            "signed_on",
            "result",
            "result_label",
            "summary",
            "review_status",
            "review_status_label",
            "review_reason",
            "reviewed_at",
            "submitted_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: SignedReply) -> str:
        url = reverse("api:reply-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ExtensionSerializer(serializers.ModelSerializer):
    status_label = ChoiceLabelField(source="status")

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "assignment",
            "reason",
            "current_due_date",
            "requested_due_date",
            "status",
            "status_label",
            "requested_at",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class ExtensionCreateSerializer(serializers.Serializer):
    requested_due_date = date_field()
    reason = serializers.CharField()

    def validate_requested_due_date(self, value: datetime.date) -> datetime.date:
        return check_date_range(value)


class ExtensionDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="不批准时必须写明理由")


class ReplyCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="盖章签字的回复函扫描件：PDF、JPG 或 PNG，不超过 20 MB")
    signer_name = serializers.CharField(max_length=50)
    signer_title = serializers.CharField(max_length=50)
    signed_on = date_field()
    result = CodeOrLabelChoiceField(SignedReply.Result)
    summary = serializers.CharField()

    def validate_signed_on(self, value: datetime.date) -> datetime.date:
        return check_date_range(value)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="审核意见（可选）")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        error_messages={
            "required": "请写明理由。",
            "blank": "请写明理由。",
            "null": "请写明理由。",
        }
    )


# --- issues ------------------------------------------------------------------------------------------


class RequesterSerializer(serializers.ModelSerializer):
    """The requester. Staff read the phone number only masked (个人信息保护法); it is write-only."""

    kind = CodeOrLabelChoiceField(
        Requester.Kind, required=False, help_text="诉求人类型；留空时按渠道：政网为网民，政企为企业，政民为群众"
    )
    kind_label = ChoiceLabelField(source="kind")
    phone = serializers.CharField(
        max_length=32,
        write_only=True,
        required=False,
        allow_blank=True,
        default="",
        help_text="联系电话；同一电话视为同一诉求人",
    )
    organization = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    masked_phone = serializers.CharField(read_only=True, help_text="脱敏后的联系电话，如 138****5678")

    class Meta:
        model = Requester
        fields = ["name", "kind", "kind_label", "organization", "phone", "masked_phone"]


class IssueSerializer(serializers.ModelSerializer):
    """One issue, the same in the list and the detail: with its requester and the assignments
    the user may see (a co-handling department sees its own assignment, not the others')."""

    channel_label = ChoiceLabelField(source="channel")
    nature_label = ChoiceLabelField(source="nature")
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    status_label = ChoiceLabelField(source="status")
    satisfaction_label = ChoiceLabelField(source="satisfaction")
    # "" until the follow-up: declared so the schema lists it (schema fuzz).
    satisfaction = serializers.ChoiceField(choices=Issue.Satisfaction.choices, allow_blank=True, read_only=True)
    follow_up_skipped = serializers.ChoiceField(
        choices=Issue.FollowUpSkip.choices, allow_blank=True, read_only=True, help_text="未能回访原因；空为未登记"
    )
    follow_up_skipped_label = ChoiceLabelField(source="follow_up_skipped")
    awaiting_review = serializers.SerializerMethodField(
        help_text="有书面回复（主办或协办单位）在等待直通车办公室审核（待审核）"
    )
    requester = RequesterSerializer(read_only=True)
    assignments = serializers.SerializerMethodField(help_text="您有权查看的交办")
    merged_into = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="已并单时为主诉求的 id（由主诉求统一办理），否则为 null"
    )

    class Meta:
        model = Issue
        fields = [
            "id",
            "ref",
            "channel",
            "channel_label",
            "nature",
            "nature_label",
            "category",
            "category_name",
            "title",
            "content",
            "onsite_answer",
            "received_on",
            "status",
            "status_label",
            "requester",
            "assignments",
            "satisfaction",
            "satisfaction_label",
            "follow_up_comment",
            "followed_up_on",
            "follow_up_skipped",
            "follow_up_skipped_label",
            "follow_up_skip_note",
            "awaiting_review",
            "closed_on",
            "merged_into",
            "created_at",
        ]
        read_only_fields = fields

    def get_awaiting_review(self, obj: Issue) -> bool:
        known = getattr(obj, "awaiting_review", None)  # annotated by selectors.issue_list
        if known is not None:
            return bool(known)
        return obj.assignments.filter(status=Assignment.Status.SUBMITTED).exists()

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, obj: Issue) -> list[dict[str, Any]]:
        rows = getattr(obj, VISIBLE_ASSIGNMENTS, None)
        if rows is None:
            rows = visible_assignments(self.context["request"].user).filter(issue=obj)
        return AssignmentSerializer(rows, many=True, context=self.context).data


VISIBLE_ASSIGNMENTS = "visible_assignments"


def visible_assignments(user: Any) -> QuerySet[Assignment]:
    # Lead first: "lead" sorts after "co", hence the descending role.
    return access.assignments_for(user).select_related("issue", "department").order_by("-role", "id")


def with_visible_assignments(issues: QuerySet[Issue], user: Any) -> QuerySet[Issue]:
    """Prefetch, in one query for the page, the assignments of each issue that ``user`` may see."""
    return issues.prefetch_related(
        Prefetch("assignments", queryset=visible_assignments(user), to_attr=VISIBLE_ASSIGNMENTS)
    )


class DepartmentCodeField(serializers.CharField):
    """A department given by its code; an unknown code is refused by name."""

    def to_internal_value(self, data: Any) -> Department:
        code = super().to_internal_value(data)
        department = Department.objects.filter(code=code).first()
        if department is None:
            raise serializers.ValidationError(f"未知单位：{code}")
        return department


class DepartmentCodesField(serializers.ListField):
    """Several departments by code, looked up in one query; unknown codes are named together."""

    child = serializers.CharField()

    def to_internal_value(self, data: Any) -> list[Department]:
        if isinstance(data, str):  # "jyj,wjj" from a form, as well as a JSON list
            data = [code for code in data.replace("，", ",").split(",") if code.strip()]
        codes = [code.strip() for code in super().to_internal_value(data)]
        found = {d.code: d for d in Department.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise serializers.ValidationError(f"未知单位：{'、'.join(unknown)}")
        return [found[code] for code in codes]


class DeadlineInputMixin(serializers.Serializer):
    deadline_amount = amount_field(
        required=False, allow_null=True, help_text="时限；与 deadline_unit 同时留空时按渠道默认时限"
    )
    deadline_unit = CodeOrLabelChoiceField(
        DeadlineUnit, required=False, allow_null=True, error_messages={"invalid_choice": UNIT_MESSAGE}
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("deadline_amount") is None) != (attrs.get("deadline_unit") is None):
            raise serializers.ValidationError(
                {"deadline_amount": ["办理时限和时限单位需同时填写，或同时留空（按渠道默认时限）。"]}
            )
        return attrs


class AssignInputSerializer(DeadlineInputMixin):
    lead = DepartmentCodeField(help_text="主办单位代码")
    co = DepartmentCodesField(required=False, default=list, help_text="协办单位代码列表")
    assigned_on = date_field(required=False, allow_null=True, help_text="交办日期，默认今天")
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_assigned_on(self, value: datetime.date | None) -> datetime.date | None:
        return check_date_range(value)


class IssueCreateSerializer(DeadlineInputMixin):
    ref = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="编号；留空则自动生成"
    )
    channel = CodeOrLabelChoiceField(Channel, required=False, help_text="渠道；直通车办公室可留空（本渠道）")
    nature = CodeOrLabelChoiceField(Issue.Nature, required=False, default=Issue.Nature.SUGGESTION)
    category = serializers.CharField(help_text="分类代码，如 housing")
    title = serializers.CharField(max_length=200)
    content = serializers.CharField()
    received_on = date_field(required=False, help_text="受理日期，默认今天")
    onsite_answer = serializers.CharField(required=False, allow_blank=True, default="")
    requester = RequesterSerializer(help_text="诉求人：name 必填，phone、kind、organization 可选")
    lead = DepartmentCodeField(required=False, allow_null=True, help_text="主办单位代码；留空则只登记不交办")
    co = DepartmentCodesField(required=False, default=list, help_text="协办单位代码列表")
    accused_department = DepartmentCodeField(
        required=False, allow_null=True, help_text="被举报单位代码（仅举报、投诉类）；该单位看不到本诉求"
    )

    def validate_category(self, value: str) -> Category:
        category = Category.objects.filter(code=value).first()
        if category is None:
            raise serializers.ValidationError(f"未知分类：{value}")
        return category

    def validate_received_on(self, value: datetime.date) -> datetime.date:
        return check_date_range(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("lead") and (attrs.get("co") or attrs.get("deadline_amount") is not None):
            raise serializers.ValidationError({"lead": ["填写协办单位或办理时限时，必须同时指定主办单位。"]})
        attrs.setdefault("received_on", timezone.localdate())
        return attrs


class FollowUpSerializer(serializers.Serializer):
    satisfaction = CodeOrLabelChoiceField(Issue.Satisfaction)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    followed_up_on = date_field(required=False, allow_null=True, help_text="回访日期，默认今天")

    def validate_followed_up_on(self, value: datetime.date | None) -> datetime.date | None:
        return check_date_range(value)


class FollowUpSkipSerializer(serializers.Serializer):
    reason = CodeOrLabelChoiceField(
        Issue.FollowUpSkip,
        help_text="未能回访原因：unreachable 多次联系不上、refused 诉求人拒绝回访、"
        "moved_away 诉求人已离开本地、other 其他",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="说明；原因为“其他”时必填")


class CloseSerializer(serializers.Serializer):
    closed_on = date_field(required=False, allow_null=True, help_text="办结日期，默认今天")
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_closed_on(self, value: datetime.date | None) -> datetime.date | None:
        return check_date_range(value)


class MergeInputSerializer(serializers.Serializer):
    into = serializers.IntegerField(
        help_text="主诉求（由其统一办理）的 id",
        error_messages={
            "required": "请填写要并入的主诉求 id。",
            "null": "请填写要并入的主诉求 id。",
            "invalid": "主诉求 id 应为整数。",
        },
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500, help_text="说明（可选）")


class ReopenSerializer(DeadlineInputMixin, ReasonSerializer):
    departments = DepartmentCodesField(
        required=False, default=list, help_text="重办单位代码（须为原承办单位）；留空为主办单位"
    )


# --- objections (异议) ---------------------------------------------------------------------------------


class ObjectionSerializer(serializers.ModelSerializer):
    issue = serializers.IntegerField(source="assignment.issue_id", read_only=True)
    issue_ref = serializers.CharField(source="assignment.issue.ref", read_only=True)
    department = serializers.CharField(
        source="assignment.department.code", read_only=True, help_text="提出异议的单位代码"
    )
    suggested_department = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="建议改派单位代码（可为空）"
    )
    status_label = ChoiceLabelField(source="status")
    clock_label = ChoiceLabelField(source="clock")
    new_department = serializers.SerializerMethodField(help_text="改派后的承办单位代码（同意改派后才有）")

    class Meta:
        model = Objection
        fields = [
            "id",
            "assignment",
            "issue",
            "issue_ref",
            "department",
            "reason",
            "suggested_department",
            "status",
            "status_label",
            "raised_at",
            "decided_at",
            "decision_note",
            "clock",
            "clock_label",
            "new_assignment",
            "new_department",
        ]
        read_only_fields = fields

    def get_new_department(self, obj: Objection) -> str | None:
        return obj.new_assignment.department.code if obj.new_assignment_id else None


class ObjectionCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text="异议理由（为什么不属于本单位职责）",
        error_messages={
            "required": "请写明异议理由（为什么不属于本单位职责）。",
            "blank": "请写明异议理由（为什么不属于本单位职责）。",
            "null": "请写明异议理由（为什么不属于本单位职责）。",
        },
    )
    suggested_department = DepartmentCodeField(required=False, allow_null=True, help_text="建议改派单位代码（可选）")


class ObjectionAcceptSerializer(serializers.Serializer):
    department = DepartmentCodeField(help_text="改派单位代码")
    clock = CodeOrLabelChoiceField(Objection.Clock)
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="决定意见（可选）")


class ObjectionRejectSerializer(serializers.Serializer):
    note = serializers.CharField(
        help_text="驳回理由",
        error_messages={
            "required": "驳回异议时请写明理由。",
            "blank": "驳回异议时请写明理由。",
            "null": "驳回异议时请写明理由。",
        },
    )


class RequesterEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, help_text="留空或不填则不变")
    kind = CodeOrLabelChoiceField(Requester.Kind, required=False)
    organization = serializers.CharField(max_length=200, required=False, allow_blank=True)


class IssueEditSerializer(serializers.Serializer):
    """更正登记信息 (issue 13 §3): only the fields given change; each change is a history row."""

    title = serializers.CharField(max_length=200, required=False)
    content = serializers.CharField(required=False)
    nature = CodeOrLabelChoiceField(Issue.Nature, required=False)
    category = serializers.CharField(required=False, help_text="分类代码，如 housing")
    requester = RequesterEditSerializer(required=False)

    def validate_category(self, value: str) -> Category:
        category = Category.objects.filter(code=value).first()
        if category is None:
            raise serializers.ValidationError(f"未知分类：{value}")
        return category
