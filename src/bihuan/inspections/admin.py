from django.contrib import admin

from bihuan.inspections.models import Inspection


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin[Inspection]):
    list_display = ["id", "place", "kind", "inspector", "started_at", "status"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["place", "inspector", "checklist", "campaign", "team", "org_unit"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
