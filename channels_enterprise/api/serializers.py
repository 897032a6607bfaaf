from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from feedback.access import GROUP_NAMES, Role
from feedback.models import Category, Department, Issue

from ..models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake


class EnterpriseSerializer(serializers.ModelSerializer):
    contact_phone = serializers.CharField(
        source="masked_phone", read_only=True, help_text="已遮盖（个人信息保护法），如 138****5678"
    )

    class Meta:
        model = Enterprise
        fields = ["id", "name", "credit_code", "park", "sector", "contact_name", "contact_phone", "active"]
        read_only_fields = fields


class EnterpriseCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=18, help_text="18位统一社会信用代码，校验第18位校验码")
    park = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    sector = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    contact_name = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class LeaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.get_username()


class EnterpriseDaySerializer(serializers.ModelSerializer):
    leaders = LeaderSerializer(many=True, read_only=True)
    departments = NamedSerializer(many=True, read_only=True)
    enterprises = NamedSerializer(many=True, read_only=True)

    class Meta:
        model = EnterpriseDay
        fields = [
            "id",
            "month",
            "held_on",
            "recorded_on",
            "provisional",
            "notice_on",
            "noticed_at",
            "place",
            "note",
            "leaders",
            "departments",
            "enterprises",
        ]
        read_only_fields = fields


class DutySerializer(serializers.Serializer):
    leaders = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        default=list,
        queryset=get_user_model().objects.all(),
        help_text=f"用户 id，须属于“{GROUP_NAMES[Role.LEADER]}”组且账号有效",
    )
    departments = serializers.SlugRelatedField(
        many=True,
        required=False,
        default=list,
        slug_field="code",
        queryset=Department.objects.all(),
        help_text="单位代码",
    )
    enterprises = serializers.PrimaryKeyRelatedField(
        many=True, required=False, default=list, queryset=Enterprise.objects.all()
    )
    place = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class PastDaySerializer(serializers.Serializer):
    month = serializers.DateField(help_text="该月任一日期（如 2024-03-01）")
    held_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="实际举行日期；不填按每月23日规则，须早于今天"
    )


class ScheduleSerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=13, required=False, default=1)


class ScheduleResultSerializer(serializers.Serializer):
    days = EnterpriseDaySerializer(many=True)
    notified = serializers.IntegerField()


class ProblemInputSerializer(serializers.Serializer):
    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.all())
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    title = serializers.CharField(max_length=200)
    content = serializers.CharField()
    nature = serializers.ChoiceField(choices=Issue.Nature.choices, required=False, default=Issue.Nature.HELP)
    onsite_answer = serializers.CharField(required=False, default="", allow_blank=True)
    lead = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False, allow_null=True, default=None
    )
    co = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), many=True, required=False, default=list
    )


class ProblemBatchSerializer(serializers.Serializer):
    problems = ProblemInputSerializer(many=True, allow_empty=False)


class ConsultationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Consultation
        fields = ["id", "held_on", "participants", "outcome", "recorded_at"]
        read_only_fields = fields

    participants = serializers.ListField(child=serializers.CharField(), read_only=True)


class ConsultationInputSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    participants = serializers.ListField(
        child=serializers.CharField(max_length=50), allow_empty=False, help_text="县长、局长、银行行长等，每人一项"
    )
    outcome = serializers.CharField()


class ProblemSerializer(serializers.ModelSerializer):
    issue_id = serializers.IntegerField(read_only=True)
    ref = serializers.CharField(source="issue.ref", read_only=True)
    title = serializers.CharField(source="issue.title", read_only=True)
    status = serializers.CharField(source="issue.status", read_only=True)
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True, allow_null=True)
    consultations = ConsultationSerializer(many=True, read_only=True)

    class Meta:
        model = EnterpriseIntake
        fields = ["id", "issue_id", "ref", "title", "status", "day", "enterprise", "enterprise_name", "consultations"]
        read_only_fields = fields
