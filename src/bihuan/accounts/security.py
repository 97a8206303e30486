"""Account security (graded protection level 3): lockout, second factor, password age.

Every number here is a setting (see docs/security.md); the defaults are level 3's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from bihuan.accounts.choices import ADMIN_ROLES, Role
from bihuan.accounts.models import LoginFailure, TOTPDevice, User
from bihuan.accounts.scopes import scope_of
from bihuan.audit import services as audit
from bihuan.core import clock

# Session keys.
SESSION_2FA = "_bihuan_2fa_at"
SESSION_ENROL_SECRET = "_bihuan_totp_pending"  # noqa: S105 - a session key, not a secret


def auth_stream(username: str) -> str:
    """Failed logins chain per typed username: logins across the city never queue on one
    stream, and one account's history of guesses reads in order."""
    return f"auth:{username.strip().lower()}"[:80]


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


# ---------------------------------------------------------------- lockout


def lockout_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(_setting("BIHUAN_LOCKOUT_MINUTES", 15)))


def is_locked(username: str, ip: str | None) -> bool:
    """Too many recent failures for this username (existing or not) or this address."""
    since = clock.now() - lockout_window()
    recent = LoginFailure.objects.filter(at__gte=since)
    per_user = int(_setting("BIHUAN_LOCKOUT_FAILURES", 5))
    per_ip = int(_setting("BIHUAN_LOCKOUT_FAILURES_PER_IP", 20))
    if recent.filter(username__iexact=username.strip()).count() >= per_user:
        return True
    return bool(ip) and recent.filter(client_ip=ip).count() >= per_ip


@transaction.atomic
def record_failure(username: str, ip: str | None) -> bool:
    """Count one failed login; audit it (and the lockout it causes). True: now locked."""
    username = username.strip()[:150]
    was_locked = is_locked(username, ip)
    if was_locked:
        # Refused without a check: not counted again, so the lock ends on time.
        audit.record("auth.login_refused_locked", actor=None, stream=auth_stream(username),
                     client_ip=ip, data={"username": username})
        return True
    # Failures older than any window are of no use (the audit trail keeps the history).
    LoginFailure.objects.filter(at__lt=clock.now() - max(lockout_window(),
                                                         dt.timedelta(days=1))).delete()
    LoginFailure.objects.create(username=username, client_ip=ip, at=clock.now())
    audit.record("auth.login_failed", actor=None, stream=auth_stream(username), client_ip=ip,
                 data={"username": username})
    locked = is_locked(username, ip)
    if locked and not was_locked:
        audit.record("auth.lockout", actor=None, stream=auth_stream(username), client_ip=ip,
                     data={"username": username,
                           "minutes": int(lockout_window().total_seconds() // 60)})
    return locked


def clear_failures(username: str) -> None:
    """A successful login forgets the username's failures (not the address's)."""
    LoginFailure.objects.filter(username__iexact=username.strip()).delete()


# ---------------------------------------------------------------- second factor


def second_factor_required(user: Any) -> bool:
    """Administrators (the three, and Django staff) and command HQ staff need a TOTP code
    when ``BIHUAN_2FA_REQUIRED`` is on."""
    if not _setting("BIHUAN_2FA_REQUIRED", False):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    roles = scope_of(user).roles()
    return bool(roles & (set(ADMIN_ROLES) | {Role.COMMAND_STAFF}))


def is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_2FA))


def mark_verified(request: HttpRequest) -> None:
    request.session[SESSION_2FA] = clock.now().isoformat()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    issuer = str(_setting("BIHUAN_2FA_ISSUER", "Bihuan"))
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=issuer)


def _matching_step(secret: str, code: str) -> int | None:
    """The time step the code belongs to (now, or one step either side), or None."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    for offset in (0, -1, 1):
        at = now + dt.timedelta(seconds=offset * totp.interval)
        if totp.verify(code, for_time=at):
            return int(at.timestamp()) // totp.interval
    return None


@transaction.atomic
def confirm_enrolment(user: User, secret: str, code: str, ip: str | None) -> bool:
    step = _matching_step(secret, code)
    if step is None:
        return False
    TOTPDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "confirmed_at": clock.now(), "last_step": step})
    audit.record("auth.2fa_enrolled", actor=user, obj=user, client_ip=ip)
    return True


@transaction.atomic
def verify_code(user: User, code: str, ip: str | None) -> bool:
    """Check a code against the user's authenticator; each code is accepted once."""
    device = TOTPDevice.objects.select_for_update().filter(
        user=user, confirmed_at__isnull=False).first()
    step = _matching_step(device.secret, code) if device else None
    if device is None or step is None or step <= device.last_step:
        audit.record("auth.2fa_failed", actor=user, obj=user, client_ip=ip)
        return False
    device.last_step = step
    device.save(update_fields=["last_step"])
    audit.record("auth.2fa_verified", actor=user, obj=user, client_ip=ip)
    return True


# ---------------------------------------------------------------- password age


def password_expired(user: Any) -> bool:
    """Administrators change their password every ``BIHUAN_ADMIN_PASSWORD_MAX_AGE_DAYS``."""
    days = int(_setting("BIHUAN_ADMIN_PASSWORD_MAX_AGE_DAYS", 90))
    if days <= 0 or not getattr(user, "is_authenticated", False):
        return False
    if not (user.is_staff or user.is_superuser or scope_of(user).admin_roles):
        return False
    if not user.has_usable_password():
        return False
    changed = user.password_changed_at or user.date_joined
    return bool(changed is not None and clock.now() - changed > dt.timedelta(days=days))
