from __future__ import annotations

from rest_framework import serializers

from feedback.models import Issue

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
            "recorded_on",
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
            "recorded_on",
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


# --- offline visit capture (issue 20) ------------------------------------------------------------


class OfflineMeetingSerializer(serializers.Serializer):
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    attendance = serializers.IntegerField(min_value=1, error_messages={"min_value": "参会人数至少为 1 人。"})
    outcome = serializers.CharField()


class OfflineVisitSerializer(serializers.Serializer):
    week = serializers.IntegerField()
    visit_kind = serializers.ChoiceField(choices=Visit.Kind.choices)
    township = serializers.SlugField(help_text="乡镇代码")
    village = serializers.IntegerField(required=False, allow_null=True, default=None)
    held_on = serializers.DateField()
    leader = serializers.IntegerField(required=False, allow_null=True, default=None)
    cases = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    lawyer_present = serializers.BooleanField(required=False, default=False)
    lawyer_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    meetings = OfflineMeetingSerializer(many=True, required=False, default=list)


class OfflineRequestSerializer(serializers.Serializer):
    visit_key = serializers.UUIDField(help_text="该诉求所属接访活动在手机上的登记编号（幂等键）")
    requester_name = serializers.CharField(max_length=100)
    requester_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    village = serializers.IntegerField(required=False, allow_null=True, default=None)
    category = serializers.SlugField(help_text="分类代码")
    nature = serializers.ChoiceField(choices=Issue.Nature.choices, required=False, default=Issue.Nature.HELP)
    accused_department = serializers.SlugField(required=False, allow_blank=True, default="", help_text="被举报单位代码")
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    content = serializers.CharField()


class VisitSyncSerializer(serializers.Serializer):
    """One record: multipart (``data`` as a JSON string, ``photos`` as files) or JSON."""

    key = serializers.UUIDField(help_text="手机登记时生成的幂等键；重试时不变")
    kind = serializers.ChoiceField(choices=[("visit", "接访活动"), ("request", "现场诉求")])
    data = serializers.JSONField(help_text="kind=visit 时为接访活动字段，kind=request 时为诉求字段")
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class SyncAnswerSerializer(serializers.Serializer):
    key = serializers.UUIDField()
    kind = serializers.CharField()
    replayed = serializers.BooleanField(help_text="true：该记录此前已同步，本次未新建任何记录")
    visit = serializers.IntegerField(allow_null=True)
    issue = serializers.DictField(allow_null=True, help_text="{id, ref}")
    photos = serializers.IntegerField()
