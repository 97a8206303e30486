"""Hazards are read-only here: every change goes through the services."""

from django.contrib import admin

from bihuan.hazards.models import Hazard, HazardEvent


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Hazard)
class HazardAdmin(ReadOnlyAdmin):
    list_display = ["id", "description", "state", "severity", "deadline", "area"]
    list_filter = ["state", "severity", "place_kind"]


@admin.register(HazardEvent)
class HazardEventAdmin(ReadOnlyAdmin):
    list_display = ["hazard", "seq", "action", "actor", "at"]
