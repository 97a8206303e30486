"""Logins, failed logins and logouts go to the audit trail (never a password)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from bihuan.accounts import security
from bihuan.audit import services as audit
from bihuan.core import clock

SESSION_AUTH_AT = "_bihuan_auth_at"
SESSION_SEEN_AT = "_bihuan_seen_at"


def _over_http(request: Any) -> bool:
    """A login over HTTP (every WSGI/ASGI request has a method). The test client's
    ``force_login`` logs in with a bare ``HttpRequest()``: no request, no audit entry,
    so tests that count audit entries around a request are not disturbed."""
    return request is not None and "REQUEST_METHOD" in getattr(request, "META", {})


@receiver(user_logged_in, dispatch_uid="bihuan_audit_login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if _over_http(request):
        audit.record("auth.login", actor=user, obj=user, client_ip=security.client_ip(request))
        security.clear_failures(user.get_username())
    session = getattr(request, "session", None)
    if session is not None:
        now = clock.now().timestamp()
        session[SESSION_AUTH_AT] = now
        session[SESSION_SEEN_AT] = now


@receiver(user_logged_out, dispatch_uid="bihuan_audit_logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and getattr(user, "pk", None):
        audit.record("auth.logout", actor=user, obj=user, client_ip=security.client_ip(request))


@receiver(user_login_failed, dispatch_uid="bihuan_audit_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None,
                    **kwargs: Any) -> None:
    # ``credentials`` has the password already masked by Django; only the username is kept.
    username = str(credentials.get("username") or "")
    if username:
        security.record_failure(username, security.client_ip(request))
