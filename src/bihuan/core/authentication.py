"""Token authentication for systems (kept apart from ``core.api``: DRF's settings import
this module while ``rest_framework.views`` is still loading)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request


class ApiTokenAuthentication(BaseAuthentication):
    """A system's token: ``Authorization: Token bh_…`` (``Bearer`` is accepted too)."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        from bihuan.core.tokens import token_for_secret

        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        token = token_for_secret(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is invalid, revoked or expired."))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # A 401 (not 403) with this challenge tells a system it must send its token.
        return "Token"
