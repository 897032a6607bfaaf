"""Second factor: TOTP with django-otp, required per role (issue 15, part 3; 等保 2.0 8.1.4.1 d: two or more
authentication techniques for administrators).

After the password, a user whose role is in ``OTP_REQUIRED_ROLES`` (administrators, county leaders,
channel offices, department heads by default) is sent to ``/accounts/otp/``: the first time to enrol (a
QR code for any TOTP app, then ten single-use recovery codes), afterwards to type the current code. Until
then every page, the admin and the session API answer with that page (HTML) or 403 (API). With DEBUG on
the demo accounts skip it (docs/api.md). Tokens of django-otp are single-use (a TOTP code is refused a
second time within its 30 s step) and failed attempts slow down (django-otp throttling).

API tokens (built separately): issue them only when ``request.user.is_verified()`` is true, and record
issuing and revoking in the audit chain (feedback.security.events.record_event).
"""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from feedback.security.events import record_event

RECOVERY_CODES = 10
ISSUER = "直通车"
# Reachable without the second factor: the factor's own pages, logging out, static files.
EXEMPT_PREFIXES = ("/accounts/otp/", "/accounts/logout/", "/accounts/login/", "/static/", "/favicon.ico")


def role_key(user: Any) -> str:
    from feedback.access import Role, scope_of

    scope = scope_of(user)
    if scope.role == Role.DEPARTMENT:
        membership = getattr(user, "membership", None)
        return "department_head" if membership is not None and membership.is_head else "department"
    return scope.role


def is_demo_account(user: Any) -> bool:
    name = user.get_username()
    return name in {"admin", "leader", "netoffice", "ezoneoffice", "petitionoffice"} or name.endswith(
        ("_head", "_staff")
    )


def otp_required(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if settings.DEBUG and is_demo_account(user):
        return False
    return role_key(user) in set(getattr(settings, "OTP_REQUIRED_ROLES", ()))


class OtpRequiredMiddleware:
    """After django_otp.middleware.OTPMiddleware (which gives ``user.is_verified()``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and otp_required(user)
            and not user.is_verified()
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "需要先完成动态口令验证（/accounts/otp/）。"}, status=403)
            return redirect(f"{reverse('otp_verify')}?next={request.get_full_path()}")
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="动态口令或恢复码",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


def _verify(user: Any, token: str) -> Any:
    """The device that accepts ``token`` (TOTP first, then a recovery code), or None."""
    token = token.strip().replace(" ", "").lower()
    with transaction.atomic():
        for model in (TOTPDevice, StaticDevice):
            for device in model.objects.select_for_update().filter(user=user, confirmed=True):
                allowed, _ = device.verify_is_allowed()
                if allowed and device.verify_token(token):
                    return device
    return None


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{reverse('otp_setup')}?next={_safe_next(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _verify(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                record_event("otp_recovery_code_used", request=request, detail={"left": device.token_set.count()})
            return redirect(_safe_next(request))
        record_event("otp_failed", request=request)
        form.add_error("token", "动态口令不正确或已使用过，请输入手机验证器上的最新口令。")
    return render(
        request,
        "security/otp_verify.html",
        {"form": form, "next": _safe_next(request)},
        status=400 if form.errors else 200,
    )


def _qr_data_uri(device: TOTPDevice) -> str:
    out = io.BytesIO()
    write_qrcode_image(device.config_url, out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not user.is_verified():
        return redirect("otp_verify")  # a second device needs the first one's code
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=f"{ISSUER} {user.get_username()}", confirmed=False
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save()
            codes = _new_recovery_codes(user)
            otp_login(request, device)
            record_event("otp_enrolled", request=request, detail={"device": device.persistent_id})
            return render(request, "security/otp_codes.html", {"codes": codes, "next": _safe_next(request)})
        form.add_error("token", "口令不正确，请确认手机时间准确后输入验证器上的最新口令。")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "security/otp_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device),
            "secret": secret,
            "next": _safe_next(request),
        },
        status=400 if form.errors else 200,
    )


def _new_recovery_codes(user: Any) -> list[str]:
    """Ten single-use codes (django-otp deletes a static token when it is used); earlier ones are void."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="恢复码", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [secrets.token_hex(4) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes
