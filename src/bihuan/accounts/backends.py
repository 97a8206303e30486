"""Authentication that honours the lockout on every login path (site, admin, API)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from bihuan.accounts import security


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get("username", "")
        if username and security.is_locked(str(username), security.client_ip(request)):
            # Spend the time a real check would, so a locked account cannot be told
            # apart from a wrong password (or an unknown user) by the clock.
            make_password(password)
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        # The user read in the same query as the session (``accounts.sessions``), with
        # the same check Django makes of one read by id; otherwise read by id.
        from bihuan.accounts.sessions import user_read_with_session

        user = user_read_with_session(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None
