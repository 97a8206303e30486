"""API base classes: scoping applied once, domain errors mapped once."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bihuan.core.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": str(exc.message)}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.http_status)
    return drf_exception_handler(exc, context)


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Lists and details limited by the model's ``visible_to``: out of scope is 404."""

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        return queryset.visible_to(self.request.user)

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except (ValueError, TypeError):
            raise Http404 from None
