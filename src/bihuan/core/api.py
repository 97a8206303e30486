"""API base classes: scoping applied once, domain errors mapped once, every POST idempotent.

* ``core.authentication.ApiTokenAuthentication``: ``Authorization: Token <secret>``
  for systems; the browser uses its session (and CSRF).
* ``ScopedReadOnlyViewSet`` / ``ScopedViewSet``: ``visible_to(user)`` in
  ``get_queryset``, so an out-of-scope object is a 404 and a new endpoint cannot
  forget it; every POST honours an ``Idempotency-Key`` (``core.idempotency``).
* ``exception_handler``: one error shape for every refusal,
  ``{"code", "detail", "field"?, "errors"?}``, with translated messages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters import NumberFilter
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from bihuan.core import idempotency
from bihuan.core.errors import DomainError

# ---------------------------------------------------------------- authentication


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "bihuan.core.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Token bh_… (created with `bihuan api-token create USER`)"}


class BihuanAutoSchema(AutoSchema):
    """Every POST documents the ``Idempotency-Key`` header it honours."""

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(OpenApiParameter(
                idempotency.HEADER, str, OpenApiParameter.HEADER, required=False,
                description="a unique key per request (e.g. a UUID): a retry with the same "
                            "key returns the first answer and writes nothing new; 24 h",
            ))
        return params


# ---------------------------------------------------------------- errors


class ErrorSerializer(serializers.Serializer[Any]):
    """The shape of every refusal (documentation only)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    field = serializers.CharField(required=False)
    errors = serializers.DictField(required=False)


def _first_message(data: Any) -> tuple[str | None, str]:
    """(top-level field, message) of the first message in DRF's nested error data."""
    if isinstance(data, dict):
        for name, value in data.items():
            _inner, message = _first_message(value)
            if message:
                return (None if name == "non_field_errors" else str(name)), message
        return None, ""
    if isinstance(data, list | tuple):
        for value in data:
            field, message = _first_message(value)
            if message:
                return field, message
        return None, ""
    return None, str(data)


_CODES = {400: "invalid", 401: "not_authenticated", 403: "permission_denied",
          404: "not_found", 405: "method_not_allowed", 406: "not_acceptable",
          409: "conflict", 415: "unsupported_media_type", 429: "throttled"}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": str(exc.message)}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.http_status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_message(response.data)
        body = {"code": "invalid", "detail": message or str(_("The request is invalid.")),
                "errors": response.data if isinstance(response.data, dict)
                else {"non_field_errors": response.data}}
        if field:
            body["field"] = field
    else:
        _field, message = _first_message(response.data)
        code = _CODES.get(response.status_code, "error")
        if isinstance(exc, exceptions.APIException) and not isinstance(exc, Http404):
            code = {"authentication_failed": "not_authenticated"}.get(
                str(exc.default_code), _CODES.get(response.status_code, str(exc.default_code)))
        body = {"code": code, "detail": message}
    response.data = body
    return response


# ---------------------------------------------------------------- viewsets


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class IdempotentPostMixin:
    """Every POST may carry an ``Idempotency-Key``: see ``bihuan.core.idempotency``.

    The claim, the request's writes and the stored answer are one transaction.
    """

    _idempotency: idempotency.Claim | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and idempotency.HEADER in request.headers:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                return response
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._idempotency = None
        if request.method == "POST":
            key = idempotency.key_from(request)
            if key is not None:
                held = idempotency.claim(request, key)
                if held.replay is not None:
                    raise _Replay(held.replay)
                self._idempotency = held

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any,
                          **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args,
                                             **kwargs)
        held, self._idempotency = self._idempotency, None
        if held is not None and response.status_code < 500:
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            idempotency.store(held, response)
        return response


class _NotFoundOnBadKey:
    def get_object(self) -> Any:
        try:
            return super().get_object()
        except (ValueError, TypeError):
            raise Http404 from None


class ScopedReadOnlyViewSet(IdempotentPostMixin, _NotFoundOnBadKey,
                            viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Lists and details limited by the model's ``visible_to``: out of scope is 404."""

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        return queryset.visible_to(self.request.user)

    def filter_queryset(self, queryset: Any) -> Any:
        # The list's filters are the list's: a detail or an action finds its object by id.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


class IdFilter(NumberFilter):
    """A filter on a row id: a whole number in the id range, else a 400 (never a 500
    from a number the database cannot hold)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


def client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")
