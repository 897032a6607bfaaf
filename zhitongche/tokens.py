"""个人 API 令牌: a signed-in user creates (or replaces) and revokes the token that other systems
use to call the API on the user's behalf (docs/api.md).

DRF's own ``Token`` (one per user) is the token: no new table, and the admin's page for it
(系统管理 → 令牌) stays the way to issue one for a service account. Creating one asks for the
password again, so a session left open on a shared office PC is not enough to mint a credential
that outlives it; the key is shown once, on the answer to that request, and never again.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.models import Token

from feedback.security.events import record_event

log = logging.getLogger("zhitongche.tokens")


@never_cache
@login_required
def token_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    new_key = ""
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            deleted, _ = Token.objects.filter(user=user).delete()
            if deleted:
                log.info("api token revoked", extra={"user_id": user.pk})
                record_event("token_revoked", request=request, object_type="user", object_id=user.pk)
            return redirect("api_tokens")
        if action == "create":
            if not user.check_password(request.POST.get("password", "")):
                error = "密码不正确，未创建令牌。"
            else:
                # Replacing revokes the old key at once: one person, one key in use.
                replaced, _ = Token.objects.filter(user=user).delete()
                new_key = Token.objects.create(user=user).key
                log.info("api token created", extra={"user_id": user.pk})
                record_event(
                    "token_issued",
                    request=request,
                    object_type="user",
                    object_id=user.pk,
                    detail={"replaced": bool(replaced)},  # never the key itself
                )
    token = Token.objects.filter(user=user).first()
    status = 400 if error else 200
    return render(
        request,
        "account/tokens.html",
        {
            "token": token,
            "new_key": new_key,
            "error": error,
        },
        status=status,
    )
