"""Campaign records are read-only here: every change goes through the services
(validated and audited); a draw edited by hand would no longer reproduce."""

from django.contrib import admin

from bihuan.campaigns.models import (
    Campaign,
    Draw,
    DutyFinding,
    Responsibility,
    Target,
    Task,
)
from bihuan.hazards.admin import ReadOnlyAdmin


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "area", "starts_on", "ends_on"]


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "metric", "value"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["title", "campaign", "org_unit", "area", "due_on", "status", "progress"]
    list_filter = ["status"]


@admin.register(Responsibility)
class ResponsibilityAdmin(ReadOnlyAdmin):
    list_display = ["person_name", "duty", "area", "place_kind", "campaign"]


@admin.register(Draw)
class DrawAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "campaign", "area", "status", "announced_at", "seed"]
    list_filter = ["kind", "status"]


@admin.register(DutyFinding)
class DutyFindingAdmin(ReadOnlyAdmin):
    list_display = ["grid", "recorded_at", "recorded_by"]
