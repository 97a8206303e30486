"""What the top bar needs from notifications: whether to show the administration link."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from bihuan.notifications.services import is_system_admin

    # The unread count is fetched by the bell itself (htmx, after the page), so pages
    # cost no query for it; the administrator check reads the request's cached scope.
    return {"is_system_admin": lambda: is_system_admin(user)}
