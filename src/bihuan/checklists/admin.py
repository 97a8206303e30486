from django.contrib import admin

from bihuan.checklists.models import Checklist, ChecklistItem, DeadlineRule


class ItemInline(admin.TabularInline[ChecklistItem, Checklist]):
    model = ChecklistItem
    extra = 0

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Published items never change: publish a new version instead.
        return obj is None or obj.status == "draft"


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin[Checklist]):
    list_display = ["code", "version", "name", "domain", "status"]
    list_filter = ["domain", "status"]
    inlines = [ItemInline]


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin[DeadlineRule]):
    list_display = ["code", "name", "working_days"]
