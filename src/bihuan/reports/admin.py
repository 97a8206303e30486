"""Citizen reports are read-only here: triage goes through the services."""

from django.contrib import admin

from bihuan.reports.models import CitizenReport


@admin.register(CitizenReport)
class CitizenReportAdmin(admin.ModelAdmin[CitizenReport]):
    list_display = ["ticket", "status", "area", "created_at", "triaged_at"]
    list_filter = ["status"]
    search_fields = ["ticket"]
    # The contact and the address hash are personal data: not listed, not searchable.
    exclude = ["contact", "reporter_ip_hash"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
