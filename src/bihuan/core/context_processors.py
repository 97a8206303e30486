"""Template context: what the navigation needs to know about the user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from bihuan.accounts.choices import OFFICIAL_ROLES, Role
from bihuan.accounts.scopes import scope_of


def user_scope(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_of(user)
    roles = scope.roles()
    return {
        "user_roles": roles,
        "is_official": bool(roles & set(OFFICIAL_ROLES)),
        "is_party": Role.PARTY in roles,
        "is_commander": Role.COMMAND_STAFF in roles,
        "is_audit_admin": Role.AUDIT_ADMIN in roles,
    }
