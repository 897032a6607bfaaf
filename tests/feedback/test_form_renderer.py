"""The form renderer (zhitongche/form_renderer.py) writes a <select> exactly as Django's templates do.

Every case renders the same widget with Django's own renderer and with ours and compares the text,
character for character: plain and grouped choices, several selected, attributes true, false, quoted
and unsafe, labels that need escaping or are already safe, numbers (localised by the template engine),
lazy translations, model choices — and every select of the portal's own forms.
"""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils import formats
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from feedback import forms as portal_forms
from feedback.models import Category, Department
from zhitongche.form_renderer import FormRenderer, render_select

DJANGO = DjangoTemplates()
OURS = FormRenderer()

CHOICES = [
    ("", "全部"),
    ("a&b", "甲 & 乙 <b>粗</b>"),
    ('q"uote', "引号 \" 和 ' 单引号"),
    (3, 1234567),
    (4.5, datetime.date(2026, 12, 7)),
    ("lazy", gettext_lazy("Yes")),
    ("safe", mark_safe("<i>已转义</i>")),
    (None, "空值"),
]
GROUPED = [
    ("县直部门", [("zjj", "住建局"), ("jtj", "交通局")]),
    ("乡镇", [("hqz", "红旗镇 <街道>")]),
    ("", "不分组"),
    ("other", "其他"),
]


def same(widget: forms.Widget, name: str, value, attrs=None) -> str:
    ours = widget.render(name, value, attrs, renderer=OURS)
    assert ours == widget.render(name, value, attrs, renderer=DJANGO)
    return ours


@pytest.mark.parametrize("value", [None, "", "a&b", 3, 'q"uote', "missing"])
def test_a_select_is_written_as_djangos_for_every_value(value):
    same(forms.Select(choices=CHOICES), "status", value)


def test_attributes_true_false_quoted_and_unsafe():
    widget = forms.Select(choices=CHOICES, attrs={"disabled": True, "hidden": False, "data-x": 'a"<b>&', "n": 7})
    html = same(widget, "x<y", "a&b", {"id": "id_x", "aria-label": "渠道 <全部>"})
    assert " disabled" in html and "hidden" not in html and "&lt;b&gt;" in html


def test_grouped_and_multiple_choices():
    same(forms.Select(choices=GROUPED), "dept", "jtj")
    same(forms.SelectMultiple(choices=GROUPED), "depts", ["zjj", "hqz", "other"])
    same(forms.SelectMultiple(choices=CHOICES), "many", [])
    same(forms.NullBooleanSelect(), "flag", True)
    same(forms.Select(choices=[]), "empty", None)


def test_labels_are_localised_as_the_template_engine_does():
    html = same(forms.Select(choices=CHOICES), "n", 4.5)
    day = datetime.date(2026, 12, 7)
    assert formats.localize(day) != str(day) and f">{formats.localize(day)}<" in html
    assert 'value="4.5"' in html  # a value is written with %s, not localised


@pytest.mark.django_db
def test_model_choices_and_every_select_of_the_portals_forms(reference):
    same(forms.ModelChoiceField(Category.objects.all()).widget, "c", None)
    field = forms.ModelMultipleChoiceField(Department.objects.all())
    field.widget.choices = field.choices
    same(field.widget, "d", [Department.objects.first().pk])
    checked = 0
    for form_class in vars(portal_forms).values():
        if (
            not (isinstance(form_class, type) and issubclass(form_class, forms.Form))
            or form_class.__module__ != portal_forms.__name__
        ):
            continue
        try:
            form = form_class()
        except TypeError:  # a form that needs arguments (a user, an issue): its fields are checked above
            continue
        for bound in form:
            if isinstance(bound.field.widget, forms.Select) and bound.field.widget.template_name.endswith(
                "select.html"
            ):
                same(bound.field.widget, bound.html_name, bound.value(), {"id": bound.auto_id})
                checked += 1
    assert checked >= 5


def test_a_select_whose_options_have_their_own_template_is_left_to_django():
    class Fancy(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    widget = Fancy(choices=CHOICES[:3])
    assert render_select(widget.get_context("f", "", {})["widget"]) is None
    same(widget, "f", "")


def test_the_portal_uses_it():
    assert settings.FORM_RENDERER == "zhitongche.form_renderer.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)
