from __future__ import annotations

from django.urls import path

from . import dashboard, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.PortalLoginView.as_view(), name="login"),
    path("accounts/logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/items/", dashboard.dashboard_items, name="dashboard_items"),
    path("issues/", views.issue_list, name="issue_list"),
    path("issues/export.xlsx", views.issue_export, name="issue_export"),
    path("issues/export-ledger.csv", views.issue_export_ledger, name="issue_export_ledger"),
    path("issues/import/", views.issue_import, name="issue_import"),
    path("issues/new/", views.issue_create, name="issue_create"),
    path("issues/<int:pk>/", views.issue_detail, name="issue_detail"),
    path("issues/<int:pk>/assign/", views.issue_assign, name="issue_assign"),
    path("issues/<int:pk>/follow-up/", views.issue_follow_up, name="issue_follow_up"),
    path("issues/<int:pk>/close/", views.issue_close, name="issue_close"),
    path("issues/<int:pk>/reopen/", views.issue_reopen, name="issue_reopen"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/export.xlsx", views.inbox_export, name="inbox_export"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
    path("assignments/<int:pk>/acknowledge/", views.assignment_acknowledge, name="assignment_acknowledge"),
    path("assignments/<int:pk>/reply/", views.reply_upload, name="reply_upload"),
    path("assignments/<int:pk>/extension/", views.extension_request, name="extension_request"),
    path("extensions/<int:pk>/<str:verdict>/", views.extension_decide, name="extension_decide"),
    path("assignments/<int:pk>/objection/", views.objection_raise, name="objection_raise"),
    path("objections/<int:pk>/<str:verdict>/", views.objection_decide, name="objection_decide"),
    path("replies/<int:pk>/accept/", views.reply_accept, name="reply_accept"),
    path("replies/<int:pk>/return/", views.reply_return, name="reply_return"),
    path("replies/<int:pk>/download/", views.reply_download, name="reply_download"),
    path("replies/<int:pk>/preview.png", views.reply_preview, name="reply_preview"),
    path("assignments/<int:pk>/slip/", views.assignment_slip, name="assignment_slip"),
    path("assignments/<int:pk>/chase-notice/", views.assignment_chase_notice, name="assignment_chase_notice"),
    path("assignments/<int:pk>/reply-template.docx", views.assignment_reply_template,
         name="assignment_reply_template"),
]
