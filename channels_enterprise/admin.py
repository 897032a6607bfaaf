from __future__ import annotations

from django.contrib import admin

from .models import Consultation, Enterprise, EnterpriseDay, EnterpriseIntake


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "park", "sector", "contact_name", "active"]
    list_filter = ["active", "park"]
    search_fields = ["name", "credit_code"]


@admin.register(EnterpriseDay)
class EnterpriseDayAdmin(admin.ModelAdmin):
    list_display = ["held_on", "place", "provisional", "notice_on", "noticed_at"]
    date_hierarchy = "held_on"
    filter_horizontal = ["leaders", "departments", "enterprises"]
    # Dates are the scheduler's (channels_enterprise.services.schedule_enterprise_days).
    readonly_fields = ["month", "held_on", "provisional", "notice_on", "noticed_at"]


@admin.register(EnterpriseIntake)
class EnterpriseIntakeAdmin(admin.ModelAdmin):
    list_display = ["issue", "day", "enterprise_name"]
    search_fields = ["enterprise_name", "issue__ref"]
    raw_id_fields = ["issue", "enterprise"]


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["held_on", "intake", "outcome"]
    raw_id_fields = ["intake"]
