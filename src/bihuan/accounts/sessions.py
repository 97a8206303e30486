"""Database sessions read together with their user: one query instead of two.

Django's database sessions cost every request two queries before the view runs:
the session, then its user. Here the session row also holds its user's id
(:class:`~bihuan.accounts.models.UserSession`), so loading the session reads the
user in the same query, and :class:`SessionUserAuthenticationMiddleware` hands that
user to the authentication backend instead of having it read again.

Nothing else changes: the session data still says who is logged in, Django's
``auth.get_user`` still checks the backend, the password hash (a password change
ends the other sessions) and ``is_active``; logging out deletes the row, so a
copied cookie is worthless afterwards; the idle and absolute timeouts are
``core.middleware``'s as before. A user read with the session is only used when it
is the user the session data names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

# The user read with the request's session, while ``auth.get_user`` runs for it.
_session_user: ContextVar[Any | None] = ContextVar("bihuan_session_user", default=None)


def _user_id(data: dict[str, Any]) -> int | None:
    try:
        return int(data[auth.SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class SessionStore(DatabaseSessionStore):
    """``SESSION_ENGINE = "bihuan.accounts.sessions"``."""

    # The session's user as read with it (None: no user, or not read).
    loaded_user: Any | None = None

    @classmethod
    def get_model_class(cls) -> type[Any]:
        from bihuan.accounts.models import UserSession

        return UserSession

    def _get_session_from_db(self) -> Any | None:
        # As Django's, with the user in the same query.
        from bihuan.accounts.models import UserSession

        self.loaded_user = None
        try:
            session = UserSession.objects.select_related("user").get(
                session_key=self.session_key, expire_date__gt=timezone.now()
            )
        except (UserSession.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{error.__class__.__name__}")
                logger.warning(str(error))
            self._session_key = None
            return None
        self.loaded_user = session.user
        return session

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        session: Any = super().create_model_instance(data)
        session.user_id = _user_id(data)
        return session


@contextmanager
def _offering(user: Any | None) -> Iterator[None]:
    token = _session_user.set(user)
    try:
        yield
    finally:
        _session_user.reset(token)


def user_read_with_session(user_id: Any) -> Any | None:
    """The user read with the current request's session, if it is ``user_id``."""
    user = _session_user.get()
    if user is None or str(user.pk) != str(user_id):
        return None
    return user


def get_user(request: HttpRequest) -> Any:
    """``django.contrib.auth.get_user``, offering the backend the session's user."""
    session = request.session
    # Loads the session (and its user) if this request has not yet.
    session.get(auth.SESSION_KEY)
    with _offering(getattr(session, "loaded_user", None)):
        return auth.get_user(request)


def _cached_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = get_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


class SessionUserAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's ``AuthenticationMiddleware`` with the user read along with the session."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))  # type: ignore[assignment]
