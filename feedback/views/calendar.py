"""The common calendar of the three channels' sessions, its iCalendar feed, and leader attendance.

The core never imports a channel: sessions and attendance come from the channel registry
(``feedback.channels.REGISTRY``), filled by each channel app in ``AppConfig.ready()``.

Calendar apps (Outlook, phone calendars) cannot log in, so each user also has a personal feed URL
carrying a token: an HMAC of the user's id, password hash and active flag under ``SECRET_KEY``
(the way Django's password-reset tokens are made), so nothing is stored, the token cannot be
guessed or forged, and changing the password (or deactivating the account) revokes it. The page's
"reset" re-hashes the user's *unchanged* password with a fresh salt: a new hash, so a new token,
still without storing anything.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import icalendar
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.http import require_POST

from feedback.access import GROUP_NAMES, Role, scope_of
from feedback.channels import REGISTRY, SessionEntry
from feedback.models import Channel

HORIZON_DAYS = 90
PRODID = "-//zhitongche//sessions calendar//ZH"


def coming_sessions(start: datetime.date, end: datetime.date) -> list[SessionEntry]:
    """Every registered channel's sessions overlapping [start, end], by date then channel order."""
    order = {value: i for i, value in enumerate(Channel.values)}
    entries: list[SessionEntry] = []
    for plugin in REGISTRY.values():
        if plugin.sessions is not None:
            entries.extend(plugin.sessions(start, end))
    return sorted(entries, key=lambda e: (e.starts_on, order.get(e.channel, 99), e.title))


# --- iCalendar (RFC 5545), by the icalendar package: escaping, and folding long lines at 75 octets
# without cutting a Chinese character (three octets in UTF-8), are its job -----------------------


def session_uid(entry: SessionEntry) -> str:
    # Stable across edits of title or place as long as the session keeps its page, so a
    # subscribed calendar updates the event instead of adding a copy.
    key = entry.url or f"{entry.title}|{entry.starts_on.isoformat()}"
    return f"{hashlib.sha256(f'{entry.channel}|{key}'.encode()).hexdigest()[:24]}@zhitongche"


def to_ical(entries: Iterable[SessionEntry], *, now: datetime.datetime, base_url: str = "") -> str:
    calendar = icalendar.Calendar()
    for name, value in (
        ("version", "2.0"),
        ("prodid", PRODID),
        ("calscale", "GREGORIAN"),
        ("method", "PUBLISH"),
        ("x-wr-calname", "三个直通车活动日历"),
        ("x-wr-timezone", "Asia/Shanghai"),
    ):
        calendar.add(name, value)
    for entry in entries:
        label = Channel(entry.channel).label if entry.channel in Channel.values else entry.channel
        description = [f"渠道：{label}"]
        if entry.leaders:
            description.append("领导：" + "、".join(entry.leaders))
        if entry.provisional:
            description.append("日期为暂定（当年工作日历尚未载入）")
        event = icalendar.Event()
        event.add("uid", session_uid(entry))
        event.add("dtstamp", now.astimezone(datetime.UTC))
        event.add("dtstart", entry.starts_on)  # a date: an all-day event (VALUE=DATE)
        # DTEND of an all-day event is exclusive: the day after the last day.
        event.add("dtend", entry.ends_on + datetime.timedelta(days=1))
        event.add("summary", f"【{label}】{entry.title}")
        event.add("location", entry.place)
        event.add("description", "\n".join(description))
        event.add("status", "TENTATIVE" if entry.provisional else "CONFIRMED")
        if entry.url and base_url:
            event.add("url", f"{base_url.rstrip('/')}{entry.url}")
        calendar.add_component(event)
    return calendar.to_ical().decode()


# --- the personal feed URL -----------------------------------------------------------------------

# The salt keeps the module's old name, feedback.sessions_calendar: every personal feed URL handed out
# depends on it. (Split in two so that renaming tools leave it alone.)
FEED_KEY_SALT = "feedback.sessions_calendar.personal_feed"
FEED_TOKEN_LENGTH = 32  # hex digits: 128 bits


def feed_token(user: Any, *, secret: str | None = None) -> str:
    """The user's feed token. The password hash is in the HMAC, so a new password (including an
    administrator's reset, or an unusable one) gives a new token and the old link stops working."""
    value = f"{user.pk}\x00{user.password}\x00{int(user.is_active)}"
    return salted_hmac(FEED_KEY_SALT, value, secret=secret, algorithm="sha256").hexdigest()[:FEED_TOKEN_LENGTH]


def feed_path(user: Any) -> str:
    return reverse("sessions_calendar_feed", args=[user.pk, feed_token(user)])


def user_for_feed(user_id: int, token: str) -> Any | None:
    """The active user whose token this is, or None. Tokens made under a previous ``SECRET_KEY``
    still in ``SECRET_KEY_FALLBACKS`` are accepted, so a key rotation with a fallback keeps links."""
    if len(token) != FEED_TOKEN_LENGTH:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if any(constant_time_compare(feed_token(user, secret=secret), token) for secret in secrets):
        return user
    return None


def reset_feed_token(request: HttpRequest, *, password: str) -> bool:
    """Give the logged-in user a new feed token by re-hashing their current password (checked
    first, through ``authenticate`` so that failed attempts count like failed logins). The
    password stays the same; the hash, and so every token and every other session of the user,
    change. Returns False when the password is wrong."""
    user = request.user
    if authenticate(request, username=user.get_username(), password=password) is None:
        return False
    with transaction.atomic():
        user.set_password(password)  # a fresh salt: a different hash for the same password
        user.save(update_fields=["password"])
    update_session_auth_hash(request, user)  # keep this session; the others end
    return True


class FeedResetForm(forms.Form):
    password = forms.CharField(
        label="当前登录密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


# --- leader attendance --------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    user_id: int
    name: str
    active: bool
    by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())

    def cells(self, channels: Iterable[str]) -> list[int]:
        return [self.by_channel.get(c, 0) for c in channels]


def leader_attendance(year: int) -> tuple[list[str], list[AttendanceRow]]:
    """For each user in 县领导, the sessions attended in the year per channel (one query per channel
    plus one for the leaders). Returns the channels with an attendance source, in channel order."""
    channels = [c for c in Channel.values if c in REGISTRY and REGISTRY[c].attendance is not None]
    counts = {c: REGISTRY[c].attendance(year) for c in channels}  # type: ignore[misc]
    leaders = (
        get_user_model()
        .objects.filter(groups__name=GROUP_NAMES[Role.LEADER])
        .order_by("-is_active", "last_name", "first_name", "username")
    )
    rows = [
        AttendanceRow(
            user_id=u.pk,
            name=u.get_full_name() or u.get_username(),
            active=u.is_active,
            by_channel={c: counts[c].get(u.pk, 0) for c in channels},
        )
        for u in leaders
    ]
    return channels, rows


# --- views --------------------------------------------------------------------------------------


def _window(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return today, today + datetime.timedelta(days=HORIZON_DAYS)


def sessions_for(user: Any, start: datetime.date, end: datetime.date) -> list[SessionEntry]:
    """The sessions ``user`` is shown, on the page, in the logged-in feed and in the personal feed
    alike (one place to narrow it if the calendar ever stops being common to every user)."""
    return coming_sessions(start, end)


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    start, end = _window(timezone.localdate())
    feed_url = request.build_absolute_uri(feed_path(request.user))
    return render(
        request,
        "feedback/sessions_calendar.html",
        {
            "sessions": sessions_for(request.user, start, end),
            "start": start,
            "end": end,
            "horizon": HORIZON_DAYS,
            "can_see_attendance": _can_see_attendance(request.user),
            "feed_url": feed_url,
            "reset_form": FeedResetForm(),
            # Most calendar apps subscribe (and keep refreshing) when given the webcal:// form.
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        },
    )


@login_required
@require_POST
def calendar_feed_reset(request: HttpRequest) -> HttpResponse:
    form = FeedResetForm(request.POST)
    if form.is_valid() and reset_feed_token(request, password=form.cleaned_data["password"]):
        messages.success(
            request, "订阅链接已重置：旧链接已失效，请把下面的新链接重新添加到日历应用。您在其他设备上的登录也已退出。"
        )
    else:
        messages.error(request, "密码不正确，订阅链接未重置。")
    return redirect(f"{reverse('sessions_calendar')}#calendar-subscription")


def _ical_response(request: HttpRequest, user: Any) -> HttpResponse:
    start, end = _window(timezone.localdate())
    body = to_ical(sessions_for(user, start, end), now=timezone.now(), base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="zhitongche.ics"'
    return response


@login_required
def calendar_ics(request: HttpRequest) -> HttpResponse:
    return _ical_response(request, request.user)


def calendar_feed(request: HttpRequest, user_id: int, token: str) -> HttpResponse:
    """The personal subscription URL: no session, the token stands in for the login. A wrong token,
    an unknown or inactive user all answer the same 404."""
    user = user_for_feed(user_id, token)
    if user is None:
        raise Http404("未找到该日历订阅。")
    response = _ical_response(request, user)
    # The URL is the credential: keep it out of shared caches and search engines.
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _can_see_attendance(user: Any) -> bool:
    return scope_of(user).role in (Role.ADMIN, Role.LEADER, Role.OFFICE)


def _year(value: str | None, default: int) -> int:
    try:
        year = int(value or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
def attendance_page(request: HttpRequest) -> HttpResponse:
    if not _can_see_attendance(request.user):
        raise Http404("未找到该记录，或您无权查看。")
    year = _year(request.GET.get("year"), timezone.localdate().year)
    channels, rows = leader_attendance(year)
    return render(
        request,
        "feedback/sessions_attendance.html",
        {
            "year": year,
            "channels": [(c, Channel(c).label) for c in channels],
            "rows": [(row, row.cells(channels)) for row in rows],
        },
    )
