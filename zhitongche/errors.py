"""Error pages (issue 15, part 8): Chinese, with the request id, never Django's technical pages.

Standalone templates: the 500 page must render when the database is what failed, so it uses no
context processor and no base template that queries anything. The API answers JSON in the same words.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from zhitongche import requestid

PAGES = {
    400: ("请求有误", "请求中含有无法处理的内容（如过长或含有非法字符的参数），请检查后重试。"),
    403: ("无权访问", "您没有执行此操作的权限。如确需办理，请联系本单位管理员。"),
    404: ("页面不存在", "未找到该页面或记录，或您无权查看。"),
    500: ("系统出错", "系统暂时无法完成您的请求，工作人员已收到记录。请稍后重试。"),
}


def request_id_of(request: HttpRequest | None) -> str:
    return str(getattr(request, "request_id", "") or requestid.current())


def error_response(request: HttpRequest | None, status: int) -> HttpResponse:
    title, message = PAGES[status]
    request_id = request_id_of(request)
    if request is not None and request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "request_id": request_id}, status=status)
    else:
        try:
            body = loader.render_to_string(
                "errors/error.html", {"title": title, "message": message, "status": status, "request_id": request_id}
            )
        except Exception:  # the template itself broken or missing: still no traceback to the user
            body = f"<!DOCTYPE html><title>{title}</title><h1>{title}</h1><p>{message}</p><p>请求编号 {request_id}</p>"
        response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["X-Request-ID"] = request_id
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500)
