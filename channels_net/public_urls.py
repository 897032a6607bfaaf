from __future__ import annotations

from django.urls import path

from . import public

app_name = "public"
urlpatterns = [
    path("", public.home, name="home"),
    path("submit/", public.submit, name="submit"),
    path("track/", public.track_lookup, name="track_lookup"),
    path("track/<str:code>/", public.track, name="track"),
    path("replies/", public.replies, name="replies"),
    path("replies/<str:code>/", public.reply_detail, name="reply_detail"),
]
