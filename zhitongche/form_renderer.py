"""The forms' renderer (``FORM_RENDERER``): Django's own, with a ``<select>``'s options written in Python.

Django draws every ``<option>`` of a select through two template includes (``select_option.html`` and
``attrs.html``, each with its own context push, ``for`` and ``if`` nodes). The ledger's filter form, with
the county's departments and categories as lists, spent about half of the page's template time there
(bench/README.md, "Stop 29"). This renderer writes, for Django's ``select.html`` with Django's option
template, the very text Django's templates write — the same escaping, localisation and whitespace,
character for character (tests/feedback/test_form_renderer.py compares the two over many widgets) —
and leaves every other template, and a select whose options use another template, to Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe
from django.utils.timezone import template_localtime

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _text(value: Any) -> str:
    """``{{ value }}`` as Django's template engine writes it (``render_value_in_context``, autoescape on)."""
    value = localize(template_localtime(value))
    return conditional_escape(value if isinstance(value, str) else str(value))


def _string(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the value as ``%s`` (a safe string stays safe), then escaped."""
    formatted = "%s" % (str(value) if isinstance(value, tuple) else value)
    if isinstance(value, SafeData):  # the filter keeps a safe value safe: not escaped again
        return mark_safe(formatted)  # noqa: S308 - it was safe already
    return conditional_escape(formatted)


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_string(value)}"')
    return "".join(out)


def render_select(widget: Mapping[str, Any]) -> str | None:
    """``select.html`` for this widget context, or None if an option has a template of its own."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None
            # select_option.html ends with a newline, which the include writes too.
            value, attrs, label = _string(option["value"]), _attrs(option["attrs"]), _text(option["label"])
            parts.append(f'\n  <option value="{value}"{attrs}>{label}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FormRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT:
            html = render_select(context["widget"])
            if html is not None:
                return html
        return super().render(template_name, context, request)
