from __future__ import annotations

import re
import secrets

from django import forms
from django.core import signing

from feedback.models import Category

CHALLENGE_SALT = "channels_net.public.challenge"
CHALLENGE_MAX_AGE = 30 * 60  # seconds: a form left open longer gets a new question
PHONE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")


def new_challenge() -> tuple[str, str]:
    """A small sum asked on the server (no outside service): the question and its signed token.
    The token only carries the operands, which the page shows anyway; it is signed so the
    question cannot be swapped and time-stamped so it expires."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    return f"{a} + {b} = ?", signing.dumps({"a": a, "b": b}, salt=CHALLENGE_SALT)


class SuggestionForm(forms.Form):
    category = forms.ModelChoiceField(label="分类", queryset=Category.objects.none(), empty_label="请选择")
    content = forms.CharField(label="意见建议", max_length=2000, widget=forms.Textarea(attrs={"rows": 6}))
    name = forms.CharField(label="姓名或网名（选填）", max_length=50, required=False)
    phone = forms.CharField(label="联系电话（选填，仅工作人员可见）", max_length=20, required=False)
    consent_to_publish = forms.BooleanField(label="同意在网上公开答复（公开前会遮盖个人信息）", required=False)
    answer = forms.IntegerField(label="验证", min_value=0, max_value=100)
    challenge = forms.CharField(widget=forms.HiddenInput)
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

    def clean(self) -> dict:
        data = super().clean()
        try:
            operands = signing.loads(data.get("challenge", ""), salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
            expected = int(operands["a"]) + int(operands["b"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise forms.ValidationError("验证题已过期，请重新计算下面的题目。") from None
        if "answer" in data and data["answer"] != expected:
            self.add_error("answer", "计算结果不对，请重新计算。")
        return data


class TrackForm(forms.Form):
    code = forms.CharField(label="查询码", max_length=16)


class SearchForm(forms.Form):
    q = forms.CharField(label="关键词", max_length=50, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(label="不予受理理由（将向提交人公开）", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class PublishForm(forms.Form):
    summary = forms.CharField(label="公开答复摘要（手机号、身份证号会自动遮盖）", max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 4}))
