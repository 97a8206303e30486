"""The responsible party's portal: issuing and revoking links, and entering by one.

Decision, the party user (门户用户): the hazard loop records who did what, so its
services act for a ``User`` holding a role grant over the hazard. A party that
opens the portal through a link has no login. On its first visit the portal
creates a dedicated user for it (username ``party-<party id>``, display name the
party's name, an *unusable password*, so nobody can log in as it with a
password; ``is_active`` stays true because inactive users have no scope at all),
gives it one ``party`` membership and links it as ``Party.user``. What the party
does through the portal (rectification evidence, extension requests,
self-checks) is then recorded as done by that user, in the hazard events and in
the audit trail, exactly as if the party had logged in. A party that already has
a login keeps it, and the portal acts as that user. The creation is audited in
the ``permissions`` stream like every other role grant.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from bihuan.accounts.choices import OFFICIAL_ROLES, Role
from bihuan.accounts.models import Membership, User
from bihuan.accounts.scopes import forget_scope, scope_of
from bihuan.audit import services as audit
from bihuan.core import clock
from bihuan.core.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from bihuan.hazards.models import Hazard
from bihuan.places.models import Party, Place
from bihuan.portal.models import PortalToken, default_token_days

MAX_TOKEN_DAYS = 365


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def is_official_over_party(actor: Any, party: Party) -> bool:
    """Whether ``actor`` holds an official role over at least one of the party's places."""
    scope = scope_of(actor)
    places = Place.objects.visible_to(actor).filter(party=party).select_related("area")
    return any(
        grant.role in OFFICIAL_ROLES
        for place in places
        for grant in scope.grants_for(place.area.path, place.kind)
    )


def party_for_official(actor: Any, party: Party | int) -> Party:
    """The party if ``actor`` is an official over one of its places: NotFound when the
    party is out of scope, PermissionDenied when seen otherwise (its own login)."""
    party_id = party.pk if isinstance(party, Party) else party
    # A party is in an official's scope through its places.
    party_obj: Party | None = (
        Party.objects.filter(pk=party_id, places__in=Place.objects.visible_to(actor))
        .distinct().first()
    )
    if party_obj is None:
        raise NotFound()
    if not is_official_over_party(actor, party_obj):
        raise PermissionDenied()
    return party_obj


@transaction.atomic
def issue_token(
    *, actor: Any, party: Party | int, days: int | None = None, client_ip: str | None = None,
) -> tuple[PortalToken, str]:
    """A new portal link for ``party``; the raw token is returned once and never stored."""
    party_obj = party_for_official(actor, party)
    days = default_token_days() if days is None else days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationFailed(
            _("A link is valid for 1 to %(max)d days.") % {"max": MAX_TOKEN_DAYS}, field="days"
        )
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    token = PortalToken.objects.create(
        party=party_obj, token_hash=hash_token(raw), created_by=actor, created_at=now,
        expires_at=now + timedelta(days=days),
    )
    audit.record("portal.token.issue", actor=actor, obj=token, client_ip=client_ip,
                 data={"party": party_obj.pk, "expires_at": token.expires_at.isoformat()})
    return token, raw


@transaction.atomic
def revoke_token(
    *, actor: Any, token: PortalToken | int, client_ip: str | None = None,
) -> PortalToken:
    token_id = token.pk if isinstance(token, PortalToken) else token
    # Found through the scope first (a DISTINCT query cannot take a row lock), then locked:
    # a revocation racing a first visit leaves the token revoked either way.
    if not PortalToken.objects.visible_to(actor).filter(pk=token_id).exists():
        raise NotFound()
    locked = (
        PortalToken.objects.select_for_update(of=("self",)).select_related("party")
        .get(pk=token_id)
    )
    if not is_official_over_party(actor, locked.party):
        raise PermissionDenied()
    if locked.revoked_at is not None:
        raise TransitionNotAllowed(_("This link was already revoked."))
    locked.revoked_at = clock.now()
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit.record("portal.token.revoke", actor=actor, obj=locked, client_ip=client_ip,
                 data={"party": locked.party_id})
    return locked


def valid_token(raw: str) -> PortalToken | None:
    """The token a raw link carries, if it is still valid (unknown, expired, revoked: None)."""
    token = (
        PortalToken.objects.select_related("party")
        .filter(token_hash=hash_token(raw or "")).first()
    )
    return token if token is not None and token.is_valid() else None


@transaction.atomic
def enter_portal(*, raw_token: str, client_ip: str | None = None) -> PortalToken:
    """Open the portal by a link: the party gets its portal user on first use."""
    token = (
        PortalToken.objects.select_for_update()
        .filter(token_hash=hash_token(raw_token or "")).first()
    )
    # Unknown, expired and revoked look the same to whoever holds the link.
    if token is None or not token.is_valid():
        raise NotFound()
    user = ensure_party_user(token.party_id, token=token, client_ip=client_ip)
    token.last_used_at = clock.now()
    token.save(update_fields=["last_used_at"])
    audit.record("portal.enter", actor=user, obj=token, client_ip=client_ip,
                 data={"party": token.party_id})
    return token


def ensure_party_user(party_id: int, *, token: PortalToken | None = None,
                      client_ip: str | None = None) -> User:
    """The party's user, created on first use (see the module's docstring)."""
    # The party's row lock: two first visits at once create one user, not two.
    party = Party.objects.select_for_update(of=("self",)).select_related("user").get(pk=party_id)
    if party.user is not None:
        return party.user
    username = f"party-{party.pk}"
    if User.objects.filter(username=username).exists():
        username = f"party-{party.pk}-{secrets.token_hex(3)}"
    user = User(username=username, display_name=party.name[:100])
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, role=Role.PARTY)
    party.user = user
    party.save(update_fields=["user"])
    forget_scope(user)
    audit.record("portal.party_user.create", actor=None, obj=user, stream="permissions",
                 client_ip=client_ip,
                 data={"user": user.pk, "party": party.pk, "role": Role.PARTY,
                       "token": token.pk if token is not None else None})
    return user


# ---------------------------------------------------------------- what the party sees


def party_places(party: Party | int) -> QuerySet[Place]:
    party_id = party.pk if isinstance(party, Party) else party
    return Place.objects.filter(party_id=party_id).select_related("area")


def party_hazards(party: Party | int) -> QuerySet[Hazard]:
    party_id = party.pk if isinstance(party, Party) else party
    return Hazard.objects.filter(place__party_id=party_id).select_related("place", "area")
