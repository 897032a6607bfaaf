"""承办单位 typed by name in the batch intakes (feedback.forms.DepartmentNamesField)."""

from __future__ import annotations

import pytest
from django import forms

from feedback.forms import DepartmentNamesField, department_choices, pinyin_initials
from feedback.models import Department

pytestmark = pytest.mark.usefixtures("reference")


def field() -> DepartmentNamesField:
    f = DepartmentNamesField()
    f.set_departments(list(Department.objects.exclude(kind=Department.Kind.OFFICE).order_by("kind", "sort_order")))
    return f


def codes(departments: list[Department]) -> list[str]:
    return [d.code for d in departments]


def test_initials_are_the_first_letters_of_the_pinyin() -> None:
    assert pinyin_initials("住建局") == "zjj"
    assert pinyin_initials("县住房和城乡建设局") == "xzfhcxjsj"


def test_a_department_is_found_by_full_name_short_name_code_or_initials_lead_first() -> None:
    typed = "县住房和城乡建设局；交通运输局、jyj，rsj / 人社局"
    assert codes(field().clean(typed)) == ["zjj", "jtj", "jyj", "rsj", "rsj"]
    assert codes(field().clean("zjj 黄桥镇")) == ["zjj", "hqz"]
    assert codes(field().clean("ZJJ")) == ["zjj"]


def test_an_unknown_name_is_refused_with_the_nearest_department_only_if_one_is_near() -> None:
    with pytest.raises(forms.ValidationError, match="未知单位“住建”，是否为 县住房和城乡建设局？"):
        field().clean("住建")
    with pytest.raises(forms.ValidationError, match="未知单位“县财政局”，请从列表中选择单位名称") as refused:
        field().clean("县财政局")
    assert "是否为" not in str(refused.value)


def test_the_typeahead_data_carries_each_departments_spellings() -> None:
    zjj = next(d for d in department_choices(list(Department.objects.all())) if d["code"] == "zjj")
    assert zjj["name"] == "县住房和城乡建设局"
    assert {"zjj", "住建局", "xzfhcxjsj", "zfhcxjsj"} <= set(zjj["keys"])
