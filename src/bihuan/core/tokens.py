"""API tokens for systems: created with the secret shown once, stored as a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bihuan.audit import services as audit
from bihuan.core import clock
from bihuan.core.errors import ValidationFailed
from bihuan.core.models import ApiToken

SECRET_PREFIX = "bh_"  # noqa: S105 - a prefix that marks our secrets, not one
# A used token's last-use time is written at most this often (one UPDATE, not one per call).
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def hash_secret(secret: str) -> str:
    """SHA-256 of the secret: 256 random bits need no salt nor a slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(
    *, user: Any, name: str, actor: Any | None = None, expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its secret, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Name the token (the system that will use it)."),
                               field="name")
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationFailed(_("The expiry must be in the future."), field="expires_at")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=secret[:10], digest=hash_secret(secret),
        created_at=clock.now(), expires_at=expires_at,
    )
    audit.record("api_token.create", actor=actor, obj=token, stream="permissions",
                 data={"user": user.pk, "name": token.name, "prefix": token.prefix,
                       "expires_at": expires_at.isoformat() if expires_at else None})
    return token, secret


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: Any | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit.record("api_token.revoke", actor=actor, obj=token, stream="permissions",
                     data={"user": token.user_id, "prefix": token.prefix})
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The live token with this secret (not revoked, not expired, active user), or None."""
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user").filter(digest=hash_secret(secret)).first()
    )
    now = clock.now()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
