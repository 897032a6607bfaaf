"""feedback.api.errors.exception_handler: the core's named errors as HTTP answers."""

from __future__ import annotations

from django.http import Http404
from rest_framework.exceptions import ValidationError

from feedback.api.errors import exception_handler
from feedback.documents.uploads import UploadRejected
from feedback.errors import ConcurrentChange, IllegalTransition, InvalidInput, NotPermitted, WorkflowError


def answer(exc: Exception) -> tuple[int, object]:
    response = exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data


def test_a_workflow_error_is_a_bad_request_with_its_message():
    assert answer(IllegalTransition("当前状态为“已办结”，不能回访。")) == (
        400,
        {"detail": "当前状态为“已办结”，不能回访。"},
    )
    assert answer(WorkflowError()) == (400, {"detail": "操作无法完成。"})


def test_a_workflow_error_that_names_a_field_answers_like_a_serializer():
    assert answer(InvalidInput("请填写标题。", field="title")) == (400, {"title": ["请填写标题。"]})
    assert answer(UploadRejected("文件为空。")) == (400, {"file": ["文件为空。"]})


def test_not_permitted_is_forbidden():
    assert answer(NotPermitted()) == (403, {"detail": "您没有执行此操作的权限。"})


def test_a_concurrent_change_is_a_conflict():
    assert answer(ConcurrentChange()) == (409, {"detail": "该事项刚被其他人处理过，请刷新页面后再试。"})


def test_not_found_never_repeats_djangos_message():
    assert answer(Http404("No Assignment matches the given query.")) == (
        404,
        {"detail": "未找到该记录，或您无权查看。"},
    )


def test_other_errors_are_left_to_drf():
    assert answer(ValidationError({"start": ["日期格式有误。"]})) == (400, {"start": ["日期格式有误。"]})
    assert exception_handler(RuntimeError("boom"), {}) is None
