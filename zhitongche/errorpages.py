"""The 500 page with the request id, so a clerk can quote it and the operator find the log lines.

Django's own handler renders ``500.html`` without any context; this one adds only the request id,
read from the context variable (zhitongche.requestid), never from the database, which may be the
very thing that failed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from . import requestid


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponseServerError:
    request_id = getattr(request, "request_id", None) or requestid.current()
    try:
        body = loader.get_template("500.html").render({"request_id": request_id})
    except Exception:  # a broken template must still give the clerk an answer and the id
        body = f"<h1>服务器出错</h1><p>请求编号：{request_id}</p>"
    response = HttpResponseServerError(body)
    response[requestid.HEADER] = request_id
    return response
