"""Forms of the 政民 pages. They only parse; every rule is checked again by ``services``, whose
messages (with the field they belong to) the views put back on the form."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from feedback.access import GROUP_NAMES, Role
from feedback.forms import CODE_SEPARATORS, BaseBatchFormSet, BatchRowMixin, departments_field
from feedback.models import Category, Department, Issue

from .models import Village, Visit

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WeekPlanForm(forms.Form):
    month = forms.DateField(
        label="月份",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text="按该月最后五个工作日生成，之后可确认或调整",
    )


class WeekConfirmForm(forms.Form):
    starts_on = forms.DateField(label="开始日期", widget=DATE_WIDGET)
    ends_on = forms.DateField(label="结束日期", widget=DATE_WIDGET)


# --- people and places -----------------------------------------------------------------------------


def leaders_queryset() -> QuerySet[Any]:
    # Inactive leaders stay selectable so that the service refuses them with its reason.
    return (
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.LEADER])
        .order_by("-is_active", "username")
        .distinct()
    )


def townships() -> QuerySet[Department]:
    return Department.objects.filter(kind=Department.Kind.TOWNSHIP, active=True).order_by("sort_order", "code")


def companions() -> QuerySet[Department]:
    return (
        Department.objects.filter(active=True)
        .exclude(kind=Department.Kind.OFFICE)
        .order_by("kind", "sort_order", "code")
    )


def leader_label(user: Any) -> str:
    name = user.get_full_name() or user.get_username()
    return name if user.is_active else f"{name}（已停用）"


def village_label(village: Village) -> str:
    return f"{village.township.name} · {village.name}"


class LeaderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return leader_label(obj)


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return village_label(obj)


class RosterForm(forms.Form):
    leader = LeaderChoiceField(label="县领导", queryset=None, empty_label="请选择")
    township = forms.ModelChoiceField(label="联系乡镇", queryset=None, empty_label="请选择")
    departments = forms.ModelMultipleChoiceField(
        label="随行部门", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = leaders_queryset()
        self.fields["township"].queryset = townships()
        self.fields["departments"].queryset = companions()


# --- issues picked by reference --------------------------------------------------------------------


class IssueRefsField(forms.CharField):
    """Issues typed by their reference (编号), separated by ；/, or spaces, resolved only among the
    issues the user may see: anything else reads as unknown, so nothing is revealed."""

    def __init__(self, *args: Any, many: bool = True, **kwargs: Any) -> None:
        self.many = many
        self.issues: QuerySet[Issue] = Issue.objects.none()
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        refs = list(dict.fromkeys(r for r in CODE_SEPARATORS.split(text or "") if r))
        if not self.many and len(refs) > 1:
            raise forms.ValidationError("只能填写一个诉求编号。")
        found = {i.ref: i for i in self.issues.filter(ref__in=refs)} if refs else {}
        unknown = [r for r in refs if r not in found]
        if unknown:
            raise forms.ValidationError(f"未找到诉求编号：{'、'.join(unknown)}（或您无权查看）。")
        picked = [found[r] for r in refs]
        return picked if self.many else (picked[0] if picked else None)


class CaseOfWeekForm(forms.Form):
    ref = IssueRefsField(
        label="一周一案（诉求编号）", required=False, many=False, max_length=40, help_text="留空则取消本周的一周一案"
    )

    def __init__(self, *args: Any, issues: QuerySet[Issue], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ref"].issues = issues


# --- visits ----------------------------------------------------------------------------------------


class VisitForm(forms.Form):
    kind = forms.ChoiceField(
        label="形式", choices=Visit.Kind.choices, widget=forms.RadioSelect, initial=Visit.Kind.RECEPTION
    )
    township = forms.ModelChoiceField(label="乡镇", queryset=None, empty_label="请选择")
    village = VillageChoiceField(
        label="村",
        queryset=None,
        required=False,
        empty_label="（乡镇集中接访不选）",
        help_text="进村走访时必选，须属于所选乡镇",
    )
    held_on = forms.DateField(label="接访日期", widget=DATE_WIDGET, help_text="须在本月无会周内")
    leader = LeaderChoiceField(label="带队县领导", queryset=None, required=False, empty_label="（未记录）")
    lawyer_present = forms.BooleanField(label="律师参与", required=False)
    lawyer_name = forms.CharField(label="律师姓名", max_length=64, required=False)
    cases = IssueRefsField(
        label="带案下访（诉求编号）",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="已登记的政民诉求编号，多个用“；”或空格分隔",
    )
    case_of_week = IssueRefsField(
        label="一周一案（诉求编号）",
        required=False,
        many=False,
        max_length=40,
        help_text="选填；填写后设为本无会周的一周一案",
    )
    notes = forms.CharField(label="接访情况", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    meeting_place = forms.CharField(label="院落会议地点", max_length=100, required=False)
    meeting_attendance = forms.IntegerField(label="院落会议参会人数", required=False, min_value=0)
    meeting_outcome = forms.CharField(
        label="院落会议结果",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="召开了院落会议时填写；更多会议可在接访详情页补充",
    )

    MEETING_FIELDS = ("meeting_place", "meeting_attendance", "meeting_outcome")

    def __init__(self, *args: Any, issues: QuerySet[Issue], with_meeting: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships()
        self.fields["village"].queryset = Village.objects.filter(active=True).select_related("township")
        self.fields["leader"].queryset = leaders_queryset()
        self.fields["cases"].issues = issues
        self.fields["case_of_week"].issues = issues
        if not with_meeting:
            for name in self.MEETING_FIELDS:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            "meeting_outcome" in self.fields
            and any(data.get(n) not in (None, "") for n in self.MEETING_FIELDS)
            and data.get("meeting_attendance") is None
            and "meeting_attendance" not in self.errors
        ):
            self.add_error("meeting_attendance", "召开院落会议时请填写参会人数。")
        return data


class CourtyardForm(forms.Form):
    place = forms.CharField(label="地点", max_length=100, required=False)
    attendance = forms.IntegerField(label="参会人数", min_value=0)
    outcome = forms.CharField(label="会议结果", widget=forms.Textarea(attrs={"rows": 2}))


# --- villages --------------------------------------------------------------------------------------


class VillageForm(forms.Form):
    township = forms.ModelChoiceField(label="所属乡镇", queryset=None, empty_label="请选择")
    name = forms.CharField(label="村名", max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships()


class VillageEditForm(forms.Form):
    name = forms.CharField(label="村名", max_length=64)
    active = forms.BooleanField(label="启用", required=False, help_text="停用的村不再计入无访村，已登记的诉求保留")


# --- the batch of requests raised at a visit -------------------------------------------------------


@dataclass(frozen=True)
class IntakeOptions:
    """The choices of every row, read once for the whole batch (not once per row)."""

    villages: list[Village]
    categories: list[Category]
    departments: list[Department]

    @classmethod
    def load(cls, *, township: Department | None = None) -> IntakeOptions:
        villages = Village.objects.filter(active=True).select_related("township")
        if township is not None:  # only the visit's township: its villages, named alone, fit the cell
            villages = villages.filter(township=township).order_by("name")
        return cls(
            villages=list(villages),
            categories=list(Category.objects.filter(active=True).select_related("parent")),
            departments=list(companions()),
            township=township,
        )

    township: Department | None = None

    def village_label(self, village: Village) -> str:
        return village.name if self.township is not None else village_label(village)


class ObjectChoiceField(forms.ChoiceField):
    """A select over objects read beforehand; cleans to the object (or None)."""

    def __init__(
        self,
        *,
        objects: Iterable[Any] = (),
        label_of: Callable[[Any], str] = str,
        empty_label: str = "—",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.set_objects(objects, label_of, empty_label)

    def set_objects(self, objects: Iterable[Any], label_of: Callable[[Any], str], empty_label: str) -> None:
        objects = list(objects)
        self.objects = {str(o.pk): o for o in objects}
        self.choices = [("", empty_label), *((str(o.pk), label_of(o)) for o in objects)]

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        return self.objects.get(value) if value else None


NATURES = [
    (Issue.Nature.HELP, "求助"),
    (Issue.Nature.CONSULT, "咨询"),
    (Issue.Nature.COMPLAINT, "投诉（检举控告）"),
    (Issue.Nature.REPORT, "举报（检举控告）"),
    (Issue.Nature.SUGGESTION, "建议"),
]
ACCUSATIONS = (Issue.Nature.REPORT, Issue.Nature.COMPLAINT)


class VisitRequestForm(BatchRowMixin, forms.Form):
    """A row of the visit's batch intake (templates/feedback/_batch_grid.html), in the ledger's
    column order as far as it goes: 信访人, 电话, 村, 分类, 性质, 被检举控告单位, 标题, 诉求内容, 承办单位."""

    requester_name = forms.CharField(label="信访人", max_length=100)
    requester_phone = forms.CharField(label="电话", max_length=32, required=False)
    village = ObjectChoiceField(label="所在村", required=False)
    category = ObjectChoiceField(label="分类")
    nature = forms.ChoiceField(label="性质", choices=NATURES, initial=Issue.Nature.HELP)
    accused_department = ObjectChoiceField(label="被检举控告单位", required=False)
    title = forms.CharField(label="标题", max_length=200, required=False)
    content = forms.CharField(label="诉求内容", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    departments = departments_field()

    def __init__(self, *args: Any, options: IntakeOptions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].set_objects(options.villages, options.village_label, "（乡镇本级）")
        self.fields["category"].set_objects(options.categories, str, "—")
        self.fields["accused_department"].set_objects(options.departments, str, "（无）")
        self.set_up_grid(options.departments)

    def has_changed(self) -> bool:
        # The nature select always posts a value: a row with nothing else typed in is a blank row.
        return bool(set(self.changed_data) - {"nature"})

    def clean_requester_phone(self) -> str:
        return self.cleaned_data["requester_phone"].strip().replace(" ", "").replace("-", "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("accused_department") is not None and data.get("nature") not in ACCUSATIONS:
            self.add_error("accused_department", "只有举报、投诉（检举控告）类诉求可以填写被检举控告单位。")
        return self.split_departments(data)


class BaseVisitRequestFormSet(BaseBatchFormSet):
    empty_message = "请至少填写一行诉求。"


VisitRequestFormSet = forms.formset_factory(
    VisitRequestForm, formset=BaseVisitRequestFormSet, extra=8, max_num=100, validate_max=True
)
