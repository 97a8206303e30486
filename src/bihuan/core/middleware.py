"""Session security: idle and absolute timeouts, the second factor, password age.

Runs after authentication on every request. Time comes from ``core.clock`` so tests
move it instead of sleeping. Requests authenticated by an API token carry no session
user here (DRF authenticates them later) and are untouched: system accounts calling
the API with a token are exempt from the second factor by design.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from bihuan.accounts import security
from bihuan.accounts.signals import SESSION_AUTH_AT, SESSION_SEEN_AT
from bihuan.audit import services as audit
from bihuan.core import clock

# Touch the session's "last seen" at most this often (seconds): fewer session writes.
SEEN_RESOLUTION = 60


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back_to(request: HttpRequest) -> str:
    """Where to come back to after logging in again: the page requested, or for a
    fragment request (htmx: the bell's polling) the page it was made from, whose
    address htmx sends (``HX-Current-URL``; its path and query only)."""
    if _is_htmx(request):
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        if page.path.startswith("/") and not page.path.startswith("//"):
            return page.path + (f"?{page.query}" if page.query else "")
    return request.path


def _htmx_refusal(location: str | None = None) -> HttpResponse:
    """A fragment request (the bell's polling, a form part) must not swap a whole login
    or second-factor page into the page: 204 does nothing; with ``location`` htmx
    navigates the whole window there."""
    response = HttpResponse(status=204)
    if location:
        response["HX-Redirect"] = location
    return response


def _open_paths() -> tuple[str, ...]:
    """Paths a half-authenticated user may still reach (to finish or leave)."""
    return (
        reverse("accounts:two_factor"),
        reverse("accounts:two_factor_setup"),
        reverse("accounts:logout"),
        reverse("accounts:login"),
        "/" + settings.STATIC_URL.lstrip("/"),
        "/i18n/",
        "/healthz",
        "/readyz",
    )


class SessionSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            refused = (self._timed_out(request) or self._second_factor(request)
                       or self._password_age(request))
            if refused is not None:
                return refused
        return self.get_response(request)

    # -- idle and absolute timeouts

    def _timed_out(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = clock.now().timestamp()
        idle = int(getattr(settings, "BIHUAN_SESSION_IDLE_MINUTES", 30)) * 60
        absolute = int(getattr(settings, "BIHUAN_SESSION_ABSOLUTE_HOURS", 12)) * 3600
        auth_at = session.get(SESSION_AUTH_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        if auth_at is None or seen_at is None:
            # A session from before this middleware: its clocks start now.
            session[SESSION_AUTH_AT] = auth_at or now
            session[SESSION_SEEN_AT] = now
            return None
        reason = None
        if idle and now - float(seen_at) > idle:
            reason = "idle"
        elif absolute and now - float(auth_at) > absolute:
            reason = "absolute"
        if reason is None:
            if now - float(seen_at) >= SEEN_RESOLUTION:
                session[SESSION_SEEN_AT] = now
            return None
        user = request.user
        audit.record("auth.session_expired", actor=user, obj=user,  # type: ignore[arg-type]
                     client_ip=security.client_ip(request), data={"reason": reason})
        logout(request)
        message = _("Your session has expired. Please log in again.")
        if _is_api(request):
            return JsonResponse({"detail": message}, status=401)
        login_url = f"{reverse('accounts:login')}?{urlencode({'next': _back_to(request)})}"
        messages.info(request, message)
        if _is_htmx(request):
            # The window goes to the login page, and back to the page after it: the
            # poll that found the session expired must not lose where the user was.
            return _htmx_refusal(login_url)
        return redirect(login_url)

    # -- second factor

    def _second_factor(self, request: HttpRequest) -> HttpResponse | None:
        if security.is_verified(request) or not security.second_factor_required(request.user):
            return None
        if request.path.startswith(_open_paths()):
            return None
        if _is_api(request):
            return JsonResponse({"detail": _("This session needs the second factor.")},
                                status=403)
        if _is_htmx(request):
            return _htmx_refusal()
        return redirect(f"{reverse('accounts:two_factor')}?{urlencode({'next': request.path})}")

    # -- password age (administrators)

    def _password_age(self, request: HttpRequest) -> HttpResponse | None:
        change = reverse("accounts:password_change")
        if request.path.startswith((change, *_open_paths())):
            return None
        if not security.password_expired(request.user):
            return None
        if _is_api(request):
            return JsonResponse({"detail": _("Your password has expired.")}, status=403)
        if _is_htmx(request):
            return _htmx_refusal()
        messages.warning(request, _("Your password has expired: choose a new one."))
        return redirect(change)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """The strict policy of settings.CONTENT_SECURITY_POLICY everywhere, except that
    Django's admin (staff only, behind the second factor) may use inline ``style``
    attributes: its templates and widgets still set some (e.g. ``style="display:
    none"`` on collapsed rows, the calendar and clock pop-ups). Inline *scripts* stay
    forbidden there too: the admin's JavaScript comes from files.
    """

    def get_policy_parts(self, request: HttpRequest, response: HttpResponseBase,
                         report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith("/admin/"):
            parts.update = {**(parts.update or {}),
                            "style-src": ["'self'", "'unsafe-inline'"]}
        return parts
