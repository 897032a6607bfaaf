from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from feedback.security import otp
from feedback.security.masking import unmask_view

from . import metrics, tokens


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("account/tokens/", tokens.token_page, name="api_tokens"),
    path("admin/", admin.site.urls),
    # Issue 15: a password change page for every account (validators refuse the demo password and the
    # project's names); changing it ends the account's other sessions (session auth hash).
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("security/unmask/", unmask_view, name="unmask"),
    path("accounts/otp/", otp.otp_verify, name="otp_verify"),  # second factor (issue 15)
    path("accounts/otp/setup/", otp.otp_setup, name="otp_setup"),  # personal numbers shown for a logged reason
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("api/v1/", include("zhitongche.api_router")),
    path("net/", include("channels_net.urls")),
    path("public/", include("channels_net.public_urls")),
    path("public/captcha/", include("captcha.urls")),  # the portal serves its own captcha images
    path("enterprise/", include("channels_enterprise.urls")),
    path("citizen/", include("channels_citizen.urls")),
    path("", include("feedback.urls")),
]

# Chinese error pages with the request id, never Django's (issue 15).
handler400 = "zhitongche.errors.bad_request"
handler403 = "zhitongche.errors.permission_denied"
handler404 = "zhitongche.errors.page_not_found"
handler500 = "zhitongche.errors.server_error"
