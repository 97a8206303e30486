"""System checks: no default or shared (demo) accounts in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError

# Usernames the demo city creates (``bihuan demo``): all start with this prefix.
DEMO_USERNAME_PREFIX = "demo-"
# Default accounts some guides suggest creating; never in production.
DEFAULT_USERNAMES = ("admin", "root", "test", "demo", "guest")


@register(Tags.security, deploy=True)
def no_demo_accounts_in_production(app_configs: Any = None, databases: Any = None,
                                   **kwargs: Any) -> list[Error]:
    if not getattr(settings, "PRODUCTION", False):
        return []
    from bihuan.accounts.models import User

    try:
        found = list(
            User.objects.filter(is_active=True, username__startswith=DEMO_USERNAME_PREFIX)
            .values_list("username", flat=True)[:5]
        ) + list(User.objects.filter(is_active=True, username__in=DEFAULT_USERNAMES)
                 .values_list("username", flat=True))
    except DatabaseError:
        return []  # no database yet (an image build): nothing to find
    if not found:
        return []
    return [Error(
        f"Demo or default accounts exist in production: {', '.join(sorted(found))}",
        hint="Deactivate them; every person gets their own named account.",
        id="bihuan.E001",
    )]
