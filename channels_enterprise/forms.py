"""Forms of the enterprise channel's pages. They check what the browser can get wrong; the rules
themselves (credit code, inactive leaders, dates) are the services', which are called afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from feedback.access import GROUP_NAMES, Role
from feedback.forms import BaseBatchFormSet, BatchRowMixin, PortalForm, departments_field
from feedback.models import Category, Department, Issue

from .creditcode import credit_code_problem, normalise
from .models import Enterprise, EnterpriseDay

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

ENTERPRISE_SORTS = {
    "name": "企业名称",
    "-created_at": "登记时间（新→旧）",
    "created_at": "登记时间（旧→新）",
    "park": "所在园区",
    "sector": "行业",
    "-problem_count": "问题数（多→少）",
}


class EnterpriseFilterForm(PortalForm):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "企业名称、信用代码、园区或行业"}),
    )
    active = forms.ChoiceField(
        label="状态", required=False, choices=[("1", "在册"), ("0", "已移出名录"), ("all", "全部")]
    )
    sort = forms.ChoiceField(label="排序", required=False, choices=list(ENTERPRISE_SORTS.items()))


class EnterpriseForm(forms.Form):
    name = forms.CharField(label="企业名称", max_length=200)
    credit_code = forms.CharField(
        label="统一社会信用代码",
        max_length=18,
        min_length=18,
        help_text="18位，最后一位是校验码；字母不区分大小写",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "min_length": "统一社会信用代码应为18位，当前为%(show_value)d位。",
            "max_length": "统一社会信用代码应为18位，当前为%(show_value)d位。",
        },
    )
    park = forms.CharField(label="所在园区", max_length=100, required=False)
    sector = forms.CharField(label="行业", max_length=100, required=False)
    contact_name = forms.CharField(label="联系人", max_length=50, required=False)
    contact_phone = forms.CharField(
        label="联系电话",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def clean_credit_code(self) -> str:
        code = normalise(self.cleaned_data["credit_code"])
        problem = credit_code_problem(code)
        if problem:
            raise forms.ValidationError(problem, code="credit_code")
        return code


class EnterpriseEditForm(EnterpriseForm):
    """Editing: the phone is not shown in full here (it would be an unrecorded unmasking); left blank
    it stays as it is."""

    clear_phone = forms.BooleanField(label="清除联系电话", required=False)
    active = forms.BooleanField(
        label="在册", required=False, help_text="取消勾选即移出名录（企业不会被删除，历史问题保留）"
    )

    def __init__(self, *args: Any, masked_phone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        phone = self.fields["contact_phone"]
        if masked_phone:
            phone.widget.attrs["placeholder"] = masked_phone
            phone.help_text = f"当前为 {masked_phone}；留空则不修改，填写新号码则替换"
        else:
            self.fields.pop("clear_phone")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("clear_phone") and data.get("contact_phone"):
            self.add_error("contact_phone", "已勾选“清除联系电话”，请不要同时填写新号码。")
        return data


# --- leaders and departments on duty ------------------------------------------------------------


def leaders_queryset() -> QuerySet[Any]:
    # Inactive leaders stay selectable so that the service refuses them with its reason.
    return get_user_model().objects.filter(groups__name=GROUP_NAMES[Role.LEADER]).order_by("-is_active", "username")


class LeaderMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.get_username()
        return name if obj.is_active else f"{name}（已停用）"


def handling_departments() -> QuerySet[Department]:
    return Department.objects.exclude(kind=Department.Kind.OFFICE).filter(active=True).order_by("kind", "sort_order")


class DutyForm(forms.Form):
    leaders = LeaderMultipleChoiceField(
        label="带队县领导", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    departments = forms.ModelMultipleChoiceField(
        label="随行部门", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    enterprises = forms.ModelMultipleChoiceField(
        label="走访企业", queryset=None, required=False, help_text="可勾选多家", widget=forms.CheckboxSelectMultiple
    )
    place = forms.CharField(label="现场办公地点", max_length=100, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args: Any, day: EnterpriseDay | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leaders"].queryset = leaders_queryset()
        # What is already on the day stays listed (and ticked) even if retired since, so that the
        # service can say why it is refused rather than the form silently dropping it.
        chosen = Q(enterprise_days=day) if day is not None else Q(pk__in=[])
        self.fields["departments"].queryset = (
            Department.objects.exclude(kind=Department.Kind.OFFICE)
            .filter(Q(active=True) | chosen)
            .distinct()
            .order_by("kind", "sort_order")
        )
        self.fields["enterprises"].queryset = Enterprise.objects.filter(Q(active=True) | chosen).distinct()


class PastDayForm(forms.Form):
    """补录: an enterprise day that took place before it was entered (services.record_past_day)."""

    month = forms.DateField(
        label="所属月份",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text="已举行、但系统中还没有的企业家日所在的月份",
    )
    held_on = forms.DateField(
        label="实际举行日期",
        required=False,
        widget=DATE_WIDGET,
        help_text="留空按规则取该月23日（遇休息日顺延至下一个工作日）；改期举行的填实际日期，须在该月内、早于今天",
    )


class HeldForm(forms.Form):
    summary = forms.CharField(
        label="现场办公情况",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="如：走访企业、现场答复问题的情况",
    )


# --- batch intake of problems -------------------------------------------------------------------


class ProblemRowForm(BatchRowMixin, forms.Form):
    """A row of the enterprise day's batch intake (templates/feedback/_batch_grid.html), in the
    ledger's column order: 企业, 分类, 标题, 问题内容, 承办单位, then 现场答复."""

    enterprise = forms.ModelChoiceField(label="企业", queryset=Enterprise.objects.filter(active=True), empty_label="—")
    category = forms.ModelChoiceField(label="分类", queryset=Category.objects.filter(active=True), empty_label="—")
    title = forms.CharField(label="标题（可不填）", max_length=200, required=False)
    content = forms.CharField(label="问题内容", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    departments = departments_field()
    onsite_answer = forms.CharField(
        label="现场答复", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        choices: dict[str, list[tuple[Any, str]]] | None = None,
        departments: Sequence[Department] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The select options are read once for the whole batch (not once per row); each filled
        # row's choice is still checked against the queryset when it is cleaned.
        for name, options in (choices or {}).items():
            self.fields[name].choices = options
        self.set_up_grid(departments)

    def clean(self) -> dict[str, Any]:
        return self.split_departments(super().clean())


def row_choices() -> dict[str, list[tuple[Any, str]]]:
    categories = Category.objects.filter(active=True).select_related("parent")
    return {
        "enterprise": [("", "—"), *((e.pk, e.name) for e in Enterprise.objects.filter(active=True).only("pk", "name"))],
        "category": [("", "—"), *((c.pk, str(c)) for c in categories)],
    }


class BaseProblemFormSet(BaseBatchFormSet):
    empty_message = "请至少填写一行问题。"


ProblemFormSet = forms.formset_factory(
    ProblemRowForm, formset=BaseProblemFormSet, extra=8, max_num=100, validate_max=True
)


class ProblemFilterForm(PortalForm):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "编号、标题或企业名称"}),
    )
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Issue.Status.choices])
    consulted = forms.ChoiceField(
        label="三长会诊", required=False, choices=[("", "全部"), ("1", "已会诊"), ("0", "未会诊")]
    )
    day = forms.IntegerField(required=False, widget=forms.HiddenInput)
    enterprise = forms.IntegerField(required=False, widget=forms.HiddenInput)


# --- 三长会诊 ---------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ConsultationForm(forms.Form):
    held_on = forms.DateField(label="会诊日期", widget=DATE_WIDGET)
    county_leaders = forms.CharField(
        label="县领导", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="每行一人，如：县长 张某"
    )
    bureau_heads = forms.CharField(
        label="部门负责人",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一人，如：县住建局局长 李某",
    )
    bank_heads = forms.CharField(
        label="银行负责人",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="每行一人，如：农商银行行长 王某",
    )
    outcome = forms.CharField(
        label="会诊结果",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="会诊日期在今天以后的为计划会诊，结果可在会诊后再填",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"held_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def participants(self) -> list[str]:
        data = self.cleaned_data
        return [*_lines(data["county_leaders"]), *_lines(data["bureau_heads"]), *_lines(data["bank_heads"])]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(_lines(data.get(f, "")) for f in ("county_leaders", "bureau_heads", "bank_heads")):
            raise forms.ValidationError("请填写参加会诊的人员（县领导、部门负责人、银行负责人）。")
        return data


class ConsultationHeldForm(forms.Form):
    """A planned 三长会诊 took place: its outcome, and its date if it moved."""

    held_on = forms.DateField(label="实际会诊日期", widget=DATE_WIDGET, required=False, help_text="留空为原定日期")
    outcome = forms.CharField(label="会诊结果", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
