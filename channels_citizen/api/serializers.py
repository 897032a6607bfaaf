from __future__ import annotations

from rest_framework import serializers

from ..models import CourtyardMeeting, NoMeetingWeek, RosterEntry, Village, Visit


class RosterEntrySerializer(serializers.ModelSerializer):
    leader_name = serializers.SerializerMethodField()
    township_name = serializers.CharField(source="township.name", read_only=True)
    departments = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = RosterEntry
        fields = ["id", "leader", "leader_name", "township", "township_name", "departments"]

    def get_leader_name(self, obj: RosterEntry) -> str:
        return obj.leader.get_full_name() or obj.leader.get_username()


class RosterEntryCreateSerializer(serializers.Serializer):
    leader = serializers.IntegerField(help_text="县领导的用户 id")
    township = serializers.SlugField(help_text="乡镇代码")
    departments = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list, help_text="随行部门代码"
    )


class WeekSerializer(serializers.ModelSerializer):
    roster = RosterEntrySerializer(many=True, read_only=True)

    class Meta:
        model = NoMeetingWeek
        fields = [
            "id",
            "month",
            "starts_on",
            "ends_on",
            "confirmed",
            "provisional",
            "confirmed_at",
            "case_of_week",
            "roster",
        ]


class WeekCreateSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="该月任一日期；按该月最后五个工作日生成，待管理员确认")


class WeekConfirmSerializer(serializers.Serializer):
    starts_on = serializers.DateField(required=False, help_text="调整后的开始日期（与结束日期同时填写）")
    ends_on = serializers.DateField(required=False)


class CaseOfWeekSerializer(serializers.Serializer):
    issue = serializers.IntegerField(allow_null=True, help_text="政民诉求 id；null 表示取消")


class CourtyardMeetingSerializer(serializers.ModelSerializer):
    class Meta:
        model = CourtyardMeeting
        fields = ["id", "place", "attendance", "outcome"]


class VisitSerializer(serializers.ModelSerializer):
    courtyard_meetings = CourtyardMeetingSerializer(many=True, read_only=True)
    # Named visit_kind in the API: the schema's enum names key on the field name, and "kind" is taken.
    visit_kind = serializers.ChoiceField(source="kind", choices=Visit.Kind.choices, read_only=True)
    cases = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "week",
            "visit_kind",
            "township",
            "village",
            "held_on",
            "leader",
            "cases",
            "lawyer_present",
            "lawyer_name",
            "notes",
            "courtyard_meetings",
        ]


class VisitCreateSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    visit_kind = serializers.ChoiceField(choices=Visit.Kind.choices)
    township = serializers.SlugField(help_text="乡镇代码")
    village = serializers.IntegerField(required=False, allow_null=True, default=None)
    held_on = serializers.DateField()
    leader = serializers.IntegerField(required=False, allow_null=True, default=None)
    cases = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="带案下访的政民诉求 id"
    )
    lawyer_present = serializers.BooleanField(required=False, default=False)
    lawyer_name = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class VillageSerializer(serializers.ModelSerializer):
    township_name = serializers.CharField(source="township.name", read_only=True)

    class Meta:
        model = Village
        fields = ["id", "township", "township_name", "name", "active"]


class VillageCreateSerializer(serializers.Serializer):
    township = serializers.SlugField(help_text="乡镇代码")
    name = serializers.CharField(max_length=64)


class QuietVillageYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    villages = serializers.IntegerField()
    quiet = serializers.IntegerField(
        allow_null=True,
        help_text="无访村数：当年没有登记任何政民诉求的村；该年政民直通车没有任何诉求和"
        "接访记录时为 null（无记录，不是全部无访）",
    )
