from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedback.access import GROUP_NAMES, Role
from feedback.api.serializers import ChoiceLabelField, CodeOrLabelChoiceField, DepartmentCodeField, DepartmentCodesField
from feedback.models import Category, Issue
from feedback.privacy import mask_phone

from ..models import Forum, NetIntake, NetRepresentative, PublicSubmission


class RepresentativeSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="masked_phone", read_only=True, help_text="已遮盖，如 138****5678")

    class Meta:
        model = NetRepresentative
        fields = ["handle", "real_name", "phone"]


class ForumRequestSerializer(serializers.ModelSerializer):
    """A speaker's request: the issue raised at the forum and the on-the-spot answer."""

    issue = serializers.IntegerField(source="issue_id", read_only=True)
    ref = serializers.CharField(source="issue.ref", read_only=True)
    title = serializers.CharField(source="issue.title", read_only=True)
    onsite_answer = serializers.CharField(source="issue.onsite_answer", read_only=True)
    status = serializers.CharField(source="issue.status", read_only=True)

    class Meta:
        model = NetIntake
        fields = ["issue", "ref", "handle", "title", "onsite_answer", "status"]


class ForumSerializer(serializers.ModelSerializer):
    chair_name = serializers.SerializerMethodField()
    leaders = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    leader_names = serializers.SerializerMethodField()
    departments_present = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    representatives = RepresentativeSerializer(many=True, read_only=True)
    requests = ForumRequestSerializer(source="intakes", many=True, read_only=True)
    recorded_on = serializers.DateField(
        read_only=True, allow_null=True, help_text="补录日期：座谈会召开后才录入的，录入当天"
    )

    class Meta:
        model = Forum
        fields = [
            "id",
            "title",
            "held_on",
            "recorded_on",
            "place",
            "chair",
            "chair_name",
            "chair_title",
            "leaders",
            "leader_names",
            "departments_present",
            "representatives",
            "collect_from",
            "collect_until",
            "minutes",
            "requests",
        ]

    @staticmethod
    def _name(user: Any) -> str:
        return user.get_full_name() or user.get_username()

    def get_chair_name(self, forum: Forum) -> str:
        return self._name(forum.chair) if forum.chair else ""

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_leader_names(self, forum: Forum) -> list[str]:
        return [self._name(u) for u in forum.leaders.all()]


def _leaders() -> Any:
    # Inactive leaders are accepted here so that the service refuses them with its reason.
    return get_user_model().objects.filter(groups__name=GROUP_NAMES[Role.LEADER])


class RepresentativeInputSerializer(serializers.Serializer):
    handle = serializers.CharField(max_length=100)
    real_name = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class ForumInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    chair = serializers.PrimaryKeyRelatedField(
        queryset=_leaders(), required=False, allow_null=True, default=None, help_text="主持领导的用户 id（县领导）"
    )
    chair_title = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    leaders = serializers.PrimaryKeyRelatedField(
        queryset=_leaders(), many=True, required=False, default=list, help_text="出席领导的用户 id（县领导）"
    )
    departments_present = DepartmentCodesField(required=False, default=list, help_text="到会部门代码列表")
    representatives = RepresentativeInputSerializer(many=True, required=False, default=list)
    minutes = serializers.CharField(required=False, default="", allow_blank=True)
    collect_from = serializers.DateField(required=False, allow_null=True, default=None)
    collect_until = serializers.DateField(required=False, allow_null=True, default=None)


class ForumRequestInputSerializer(serializers.Serializer):
    handle = serializers.CharField(max_length=100, help_text="诉求人或网名")
    phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), help_text="分类代码，如 housing"
    )
    lead = DepartmentCodeField(help_text="主办单位代码")
    co = DepartmentCodesField(required=False, default=list, help_text="协办单位代码列表")
    title = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, help_text="留空则取诉求内容的前 30 字"
    )
    content = serializers.CharField()
    onsite_answer = serializers.CharField(required=False, default="", allow_blank=True, help_text="现场回应")
    nature = CodeOrLabelChoiceField(Issue.Nature, required=False, default=Issue.Nature.SUGGESTION)


class ForumIntakeSerializer(serializers.Serializer):
    rows = ForumRequestInputSerializer(many=True, allow_empty=False)


class ForumIntakeResultSerializer(serializers.Serializer):
    issues = serializers.ListField(child=serializers.IntegerField(), help_text="新登记诉求的 id，按行顺序")
    refs = serializers.ListField(child=serializers.CharField(), help_text="新登记诉求的编号，按行顺序")


# --- suggestions sent through the public portal (网上征集) and their triage ------------------------


class SubmissionSerializer(serializers.ModelSerializer):
    """A suggestion as the office triages it. The tracking code is the submitter's and is never shown;
    the phone is masked."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    phone = serializers.SerializerMethodField(help_text="已遮盖，如 138****5678")
    status_label = ChoiceLabelField(source="status")
    issue_ref = serializers.CharField(
        source="issue.ref", read_only=True, default=None, help_text="受理后登记的诉求编号"
    )
    merged_into_ref = serializers.CharField(
        source="merged_into.ref", read_only=True, default=None, help_text="并单时并入的诉求编号"
    )

    class Meta:
        model = PublicSubmission
        fields = [
            "id",
            "submitted_at",
            "forum",
            "category",
            "content",
            "name",
            "phone",
            "consent_to_publish",
            "status",
            "status_label",
            "decline_reason",
            "issue",
            "issue_ref",
            "merged_into",
            "merged_into_ref",
            "decided_at",
            "published_at",
        ]
        read_only_fields = fields

    def get_phone(self, submission: PublicSubmission) -> str:
        return mask_phone(submission.phone) if submission.phone else ""


class SubmissionAcceptSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="分类代码；默认沿用提交时的分类",
    )
    title = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, help_text="留空则取意见内容的前 30 字"
    )


class SubmissionMergeSerializer(serializers.Serializer):
    issue_ref = serializers.CharField(max_length=32, help_text="并入的诉求编号，如 ZW2026-00012（未办结的政网诉求）")
    note = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, help_text="并单说明，记入办理记录，不对外公开"
    )


class SubmissionDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, help_text="不予受理理由，将在查询页向提交人公开（自动遮盖手机号、身份证号）"
    )
