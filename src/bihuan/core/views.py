"""Health probes, the start page and the scoped-lookup helpers every view uses."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse


def get_visible_or_404(model: type[Model], user: Any, **lookup: Any) -> Any:
    """The object if ``user`` may see it; otherwise 404, exactly as if it did not exist."""
    try:
        return model.objects.visible_to(user).get(**lookup)  # type: ignore[attr-defined]
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise Http404 from None


class ScopedQuerysetMixin:
    """For class-based views: the queryset is always ``visible_to(request.user)``."""

    model: type[Model]
    request: HttpRequest

    def get_queryset(self) -> Any:
        return self.model.objects.visible_to(self.request.user)  # type: ignore[attr-defined]


def healthz(request: HttpRequest) -> JsonResponse:
    """Answers while the process is up, whatever the database does."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Answers 200 only while the database answers too."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The user's start page: the inbox for officials, the portal for responsible parties."""
    from bihuan.accounts.choices import OFFICIAL_ROLES, Role
    from bihuan.accounts.scopes import scope_of
    from bihuan.hazards.views import inbox

    roles = scope_of(request.user).roles()
    if Role.PARTY in roles and not roles & set(OFFICIAL_ROLES):
        try:
            return redirect(reverse("portal:home"))
        except NoReverseMatch:
            pass
    return inbox(request)
