from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from captcha.fields import CaptchaField
from django import forms
from django.contrib.auth import get_user_model

from feedback.access import GROUP_NAMES, Role
from feedback.forms import BaseBatchFormSet, BatchRowMixin, departments_field, handling_departments
from feedback.models import Category, Department

PHONE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")


class SuggestionForm(forms.Form):
    category = forms.ModelChoiceField(label="分类", queryset=Category.objects.none(), empty_label="请选择")
    content = forms.CharField(label="意见建议", max_length=2000, widget=forms.Textarea(attrs={"rows": 6}))
    name = forms.CharField(label="姓名或网名（选填）", max_length=50, required=False)
    phone = forms.CharField(label="联系电话（选填，仅工作人员可见）", max_length=20, required=False)
    consent_to_publish = forms.BooleanField(label="同意在网上公开答复（公开前会遮盖个人信息）", required=False)
    # A distorted-text image served by the portal itself (django-simple-captcha, kept in the database, so
    # it works with Redis down), single-use: the stored answer is deleted at the first attempt, right or
    # wrong (issue 15 replaced a sum whose operands the page printed, which any script could solve).
    captcha = CaptchaField(label="验证码", error_messages={"invalid": "验证码不正确或已过期，请看新的图片重新输入。"})
    # Honeypot: hidden from people by CSS; a bot that fills every field gives itself away.
    website = forms.CharField(required=False, label="网址（请留空）")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["category"].queryset = Category.objects.filter(active=True, parent__isnull=True)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip().replace(" ", "")
        if phone and not PHONE.match(phone):
            raise forms.ValidationError("请填写正确的手机号或固定电话。")
        return phone

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise forms.ValidationError("提交失败，请重试。")
        return ""


class TrackForm(forms.Form):
    code = forms.CharField(label="查询码", max_length=16)


class SearchForm(forms.Form):
    q = forms.CharField(label="关键词", max_length=50, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="不予受理理由（将向提交人公开）", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class MergeForm(forms.Form):
    issue_ref = forms.CharField(
        label="并入诉求编号", max_length=32, help_text="如 ZW2026-00012；只能并入未办结的政网诉求"
    )
    note = forms.CharField(label="并单说明（仅内部可见）", max_length=500, required=False)


class PublishForm(forms.Form):
    summary = forms.CharField(
        label="公开答复摘要（手机号、身份证号会自动遮盖）", max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


# --- forums and batch intake --------------------------------------------------------------------

# <input type="date"> only takes YYYY-MM-DD: without the format Django renders the zh-hans input
# format (2026/11/29), which the browser drops, so editing a recorded forum lost its date.
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def leaders_queryset() -> object:
    # Inactive leaders stay selectable so that the service refuses them with its reason.
    return get_user_model().objects.filter(groups__name=GROUP_NAMES[Role.LEADER]).order_by("username")


class LeaderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: object) -> str:
        name = obj.get_full_name() or obj.get_username()  # type: ignore[attr-defined]
        return name if obj.is_active else f"{name}（已停用）"  # type: ignore[attr-defined]


class LeaderMultipleChoiceField(forms.ModelMultipleChoiceField):
    label_from_instance = LeaderChoiceField.label_from_instance


def parse_representatives(text: str) -> list[tuple[str, str, str]]:
    """One representative a line: 网名，真实姓名，电话 (the last two optional)."""
    rows = []
    for line in text.splitlines():
        parts = [p.strip() for p in re.split(r"[，,]", line)]
        if not parts or not parts[0]:
            continue
        parts += ["", ""]
        rows.append((parts[0], parts[1], parts[2]))
    return rows


class ForumForm(forms.Form):
    title = forms.CharField(label="名称", max_length=100)
    held_on = forms.DateField(label="日期", widget=DATE_WIDGET)
    place = forms.CharField(label="地点", max_length=100, required=False)
    chair = LeaderChoiceField(label="主持领导", queryset=None, required=False, empty_label="（未定）")
    chair_title = forms.CharField(label="主持人职务", max_length=50, required=False, help_text="如：县委书记")
    leaders = LeaderMultipleChoiceField(
        label="出席领导", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    departments_present = forms.ModelMultipleChoiceField(
        label="到会部门负责人", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    representatives = forms.CharField(
        label="网民代表",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一位：网名，真实姓名，电话（后两项可不填；电话显示时遮盖）",
    )
    collect_from = forms.DateField(label="征集开始", required=False, widget=DATE_WIDGET)
    collect_until = forms.DateField(label="征集截止", required=False, widget=DATE_WIDGET)
    minutes = forms.CharField(label="纪要", required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["chair"].queryset = leaders_queryset()
        self.fields["leaders"].queryset = leaders_queryset()
        self.fields["departments_present"].queryset = (
            Department.objects.exclude(kind=Department.Kind.OFFICE).filter(active=True).order_by("kind", "sort_order")
        )

    def clean_representatives(self) -> list[tuple[str, str, str]]:
        return parse_representatives(self.cleaned_data["representatives"])


class ForumRequestForm(BatchRowMixin, forms.Form):
    """A row of the forum's batch intake (templates/feedback/_batch_grid.html), in the ledger's
    column order: 诉求人, 分类, 标题, 诉求内容, 承办单位, then 现场回应."""

    handle = forms.CharField(label="诉求人/网名", max_length=100)
    category = forms.ModelChoiceField(label="分类", queryset=None, empty_label="—")
    title = forms.CharField(label="标题", max_length=200, required=False)
    content = forms.CharField(label="诉求内容", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    departments = departments_field()
    onsite_answer = forms.CharField(
        label="现场回应", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        departments: Sequence[Department] = (),
        categories: Sequence[tuple[Any, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True).select_related("parent")
        if categories:  # read once for the whole batch; the chosen one is still checked on clean
            self.fields["category"].choices = [("", "—"), *categories]
        self.set_up_grid(departments)

    def clean(self) -> dict[str, Any]:
        return self.split_departments(super().clean())


def grid_options() -> dict[str, Any]:
    """The rows' choices, read once for the whole batch (not once per row)."""
    categories = Category.objects.filter(active=True).select_related("parent")
    return {"departments": list(handling_departments()), "categories": [(c.pk, str(c)) for c in categories]}


class BaseForumRequestFormSet(BaseBatchFormSet):
    empty_message = "请至少填写一行诉求。"


ForumRequestFormSet = forms.formset_factory(
    ForumRequestForm, formset=BaseForumRequestFormSet, extra=8, max_num=100, validate_max=True
)
