"""Signing in and out, and the home page that sends each role to its own start."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from feedback.access import Role, scope_of
from feedback.forms import (
    PortalLoginForm,
)


class PortalLoginView(auth_views.LoginView):
    form_class = PortalLoginForm
    redirect_authenticated_user = True


class PortalLogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = scope_of(request.user).role
    if role == Role.DEPARTMENT:
        return redirect("inbox")
    if role == Role.LEADER:
        return redirect("dashboard")
    return redirect("issue_list")
