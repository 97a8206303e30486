from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from bihuan.accounts.models import Membership, OrgUnit, Team, User


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    extra = 0
    raw_id_fields = ["area", "org_unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "last_login"]


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin[OrgUnit]):
    list_display = ["code", "name", "kind", "area"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "home_area"]
    filter_horizontal = ["members"]
