"""What every page family shares: running a service from a form, the query string of a list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property

from feedback.errors import WorkflowError
from feedback.forms import (
    add_service_error,
)

PAGE_SIZE = 25


class KnownCountPaginator(Paginator):
    """A Paginator given the number of rows (read from a kept count, ``selectors.issue_list_total``);
    without one (None) it counts them as Django's does."""

    def __init__(self, object_list: Any, per_page: int, *, count: int | None) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return super().count if self.known_count is None else self.known_count


def run_service(request: HttpRequest, form: forms.Form | None, call: Callable[[], Any]) -> Any:
    """Call a service; a WorkflowError becomes a form error (or a message) in plain Chinese."""
    try:
        return call()
    except WorkflowError as exc:
        if form is not None:
            add_service_error(form, exc)
        else:
            messages.error(request, exc.message)
        return None


def query_without_page(request: HttpRequest) -> str:
    """The list's query string for the pager's links (its own ``page`` left out)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def flash_form_errors(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}：{error}" if label else error)
