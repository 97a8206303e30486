from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMAND_STAFF = "command_staff", _("Command HQ staff")
    TOWN_OFFICER = "town_officer", _("Town officer")
    VILLAGE_CADRE = "village_cadre", _("Village cadre")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPT_INSPECTOR = "dept_inspector", _("Department inspector")
    PARTY = "party", _("Responsible party")
    CITIZEN = "citizen", _("Citizen")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


# Roles whose scope is an area subtree.
AREA_ROLES = frozenset(
    {Role.COMMAND_STAFF, Role.TOWN_OFFICER, Role.VILLAGE_CADRE, Role.GRID_WORKER}
)
# 三员分立: the three administrators are mutually exclusive and see no case data.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
OFFICIAL_ROLES = AREA_ROLES | {Role.DEPT_INSPECTOR}


class OrgUnitKind(models.TextChoices):
    COMMAND = "command", _("Command headquarters")
    DEPARTMENT = "department", _("Department")
    TOWN_OFFICE = "town_office", _("Town / subdistrict office")
