"""Every change to a tenant: register, move out, reveal, purge, re-key.

Each function validates first (nothing written on a refusal), then writes and
appends its audit entry in one transaction. A tenant is reached only through
``Tenant.objects.visible_to(actor)`` (its place's scope): out of scope is
``NotFound``, exactly like a tenant that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.scopes import scope_of
from bihuan.audit import services as audit
from bihuan.core import clock, crypto
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.core.masking import may_see_personal_data
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Place
from bihuan.tenants.models import ID_NUMBER_PURPOSE, PHONE_PURPOSE, Tenant
from bihuan.tenants.validators import normalise_id_number, normalise_phone

# Places whose tenants are registered (流动人口登记 applies to rented housing).
TENANT_PLACE_KINDS = frozenset({PlaceKind.RENTAL_HOUSE.value})
NAME_MAX = 50
ROOM_MAX = 20
REASON_MAX = 200
ROTATION_BATCH = 500


# ---------------------------------------------------------------- who may do what


def takes_tenants(place: Place) -> bool:
    return place.kind in TENANT_PLACE_KINDS


def may_register(user: Any, place: Place) -> bool:
    """Officials with a grant over the place, and the place's own responsible party."""
    if not takes_tenants(place):
        return False
    scope = scope_of(user)
    if any(g.role in OFFICIAL_ROLES for g in scope.grants_for(place.area.path, place.kind)):
        return True
    party_user = place.party.user_id if place.party_id and place.party else None
    return scope.is_party and party_user is not None and party_user == scope.user_id


def may_reveal(user: Any) -> bool:
    """Revealing needs the personal-data permission (``BIHUAN_PERSONAL_DATA_ROLES``)."""
    return may_see_personal_data(user)


def _visible_place(actor: Any, place_pk: int, *, lock: bool = False) -> Place:
    queryset = Place.objects.visible_to(actor).select_related("area", "party")
    if lock:
        # Serialises registrations in one place (the "once per place" check below).
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=place_pk)
    except (Place.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def _visible_tenant(actor: Any, tenant_pk: int, *, lock: bool = False) -> Tenant:
    queryset = Tenant.objects.visible_to(actor).select_related("place__area", "place__party")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=tenant_pk)
    except (Tenant.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def _text(value: str, *, field: str, limit: int, missing: Any) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationFailed(missing, field=field)
    if len(text) > limit:
        raise ValidationFailed(_("At most %(limit)d characters.") % {"limit": limit},
                               field=field)
    return text


# ---------------------------------------------------------------- registration


def register_tenant(
    *,
    actor: Any,
    place_pk: int,
    name: str,
    id_number: str,
    phone: str,
    room: str,
    moved_in_on: dt.date,
    client_ip: str | None = None,
) -> Tenant:
    """Register one tenant of a rental place; the ID number and phone sealed at rest."""
    today = clock.today()
    name = _text(name, field="name", limit=NAME_MAX, missing=_("Enter the tenant's name."))
    room = _text(room, field="room", limit=ROOM_MAX, missing=_("Enter the room."))
    number = normalise_id_number(id_number, today=today)
    phone = normalise_phone(phone)
    if moved_in_on > today:
        raise ValidationFailed(_("The move-in date cannot be in the future."),
                               field="moved_in_on")
    ring = crypto.keyring()
    number_hash = crypto.lookup_hash(number, purpose=ID_NUMBER_PURPOSE, ring=ring)
    with transaction.atomic():
        place = _visible_place(actor, place_pk, lock=True)
        if not may_register(actor, place):
            raise PermissionDenied(_("You may not register tenants of this place."))
        if Tenant.objects.filter(place=place, id_number_hash=number_hash,
                                 moved_out_on__isnull=True).exists():
            raise ValidationFailed(_("This person is already registered as living here."),
                                   field="id_number")
        tenant = Tenant.objects.create(
            place=place, name=name, room=room, moved_in_on=moved_in_on,
            id_number_sealed=crypto.encrypt(number, purpose=ID_NUMBER_PURPOSE, ring=ring),
            id_number_hash=number_hash,
            phone_sealed=crypto.encrypt(phone, purpose=PHONE_PURPOSE, ring=ring) if phone else "",
            registered_by=actor if getattr(actor, "pk", None) else None,
            registered_at=clock.now(),
        )
        # No personal data in the audit trail: the record names the row, not the person.
        audit.record("tenants.register", actor=actor, obj=tenant, client_ip=client_ip,
                     data={"place": place.pk, "room": room,
                           "moved_in_on": moved_in_on.isoformat()})
    return tenant


def record_move_out(
    *, actor: Any, tenant_pk: int, moved_out_on: dt.date, client_ip: str | None = None,
) -> Tenant:
    today = clock.today()
    if moved_out_on > today:
        raise ValidationFailed(_("The move-out date cannot be in the future."),
                               field="moved_out_on")
    with transaction.atomic():
        tenant = _visible_tenant(actor, tenant_pk, lock=True)
        if not may_register(actor, tenant.place):
            raise PermissionDenied(_("You may not record tenants of this place."))
        if tenant.moved_out_on is not None:
            raise ValidationFailed(_("This tenant has already moved out."),
                                   field="moved_out_on")
        if moved_out_on < tenant.moved_in_on:
            raise ValidationFailed(_("The move-out date is before the move-in date."),
                                   field="moved_out_on")
        tenant.moved_out_on = moved_out_on
        tenant.save(update_fields=["moved_out_on"])
        audit.record("tenants.move_out", actor=actor, obj=tenant, client_ip=client_ip,
                     data={"place": tenant.place_id, "moved_out_on": moved_out_on.isoformat()})
    return tenant


# ---------------------------------------------------------------- look-up and reveal


def find_by_id_number(actor: Any, id_number: str) -> list[Tenant]:
    """Tenants with exactly this ID number that ``actor`` may see (by the keyed hash)."""
    number = normalise_id_number(id_number)
    number_hash = crypto.lookup_hash(number, purpose=ID_NUMBER_PURPOSE)
    return list(Tenant.objects.visible_to(actor).filter(id_number_hash=number_hash)
                .select_related("place__area").order_by("-moved_in_on", "-id"))


@dataclass(frozen=True)
class Revealed:
    tenant: Tenant
    id_number: str
    phone: str


def reveal_tenant(
    *, actor: Any, tenant_pk: int, reason: str, client_ip: str | None = None,
) -> Revealed:
    """The clear ID number and phone, once, for a stated reason, on the audit trail."""
    reason = _text(reason, field="reason", limit=REASON_MAX,
                   missing=_("Say why you need to see the full ID number and phone."))
    with transaction.atomic():
        tenant = _visible_tenant(actor, tenant_pk, lock=True)
        if not may_reveal(actor):
            raise PermissionDenied(_("You may not see personal data unmasked."))
        revealed = Revealed(tenant=tenant, id_number=tenant.id_number(), phone=tenant.phone())
        audit.record("tenants.reveal", actor=actor, obj=tenant, client_ip=client_ip,
                     data={"reason": reason, "fields": ["id_number", "phone"],
                           "place": tenant.place_id})
    return revealed


# ---------------------------------------------------------------- occupancy


@dataclass(frozen=True)
class RoomOccupancy:
    room: str
    people: int
    limit: int

    @property
    def overcrowded(self) -> bool:
        return self.people > self.limit


def max_per_room() -> int:
    return int(getattr(settings, "BIHUAN_TENANTS_MAX_PER_ROOM", 2))


def occupancy(place: Place, on: dt.date | None = None) -> list[RoomOccupancy]:
    """People living in each room of ``place`` on ``on`` (today), by room.

    Feeds the overcrowding check (RH-06: at most ``BIHUAN_TENANTS_MAX_PER_ROOM``
    people per room). The caller has already found ``place`` through its scope.
    """
    day = on or clock.today()
    limit = max_per_room()
    rows = (Tenant.objects.filter(place=place).living_on(day).values("room")
            .annotate(people=Count("id")).order_by("room"))
    return [RoomOccupancy(room=r["room"], people=r["people"], limit=limit) for r in rows]


def overcrowded_rooms(place: Place, on: dt.date | None = None) -> list[RoomOccupancy]:
    return [room for room in occupancy(place, on) if room.overcrowded]


# ---------------------------------------------------------------- retention and keys


def retention_days() -> int:
    return int(getattr(settings, "BIHUAN_TENANTS_RETENTION_DAYS", 180))


def purge_moved_out(*, actor: Any = None, today: dt.date | None = None) -> int:
    """Delete tenants who moved out more than the retention period ago; audited."""
    cutoff = (today or clock.today()) - dt.timedelta(days=retention_days())
    with transaction.atomic():
        expired = list(Tenant.objects.select_for_update()
                       .filter(moved_out_on__lt=cutoff).order_by("pk")
                       .values_list("pk", flat=True))
        if not expired:
            return 0
        Tenant.objects.filter(pk__in=expired).delete()
        audit.record("tenants.purge", actor=actor, stream="tenants.purge",
                     data={"moved_out_before": cutoff.isoformat(), "count": len(expired),
                           "tenants": expired})
    return len(expired)


@dataclass(frozen=True)
class Rotation:
    key_id: str
    rows: int
    reencrypted: int


def rotate_keys(*, actor: Any = None) -> Rotation:
    """Re-seal every tenant under the current key (and re-hash under the look-up key).

    Batches of ``ROTATION_BATCH`` rows, each locked and rewritten in its own
    transaction, so a large table does not hold one long lock; run it again
    after an interruption and it finishes the rest.
    """
    ring = crypto.keyring()
    rows = reencrypted = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(Tenant.objects.select_for_update().filter(pk__gt=last_pk)
                         .order_by("pk")[:ROTATION_BATCH])
            if not batch:
                break
            changed = []
            for tenant in batch:
                number = crypto.decrypt(tenant.id_number_sealed, purpose=ID_NUMBER_PURPOSE,
                                        ring=ring)
                phone = (crypto.decrypt(tenant.phone_sealed, purpose=PHONE_PURPOSE, ring=ring)
                         if tenant.phone_sealed else "")
                number_hash = crypto.lookup_hash(number, purpose=ID_NUMBER_PURPOSE, ring=ring)
                stale = (crypto.key_id(tenant.id_number_sealed) != ring.current
                         or (phone and crypto.key_id(tenant.phone_sealed) != ring.current)
                         or tenant.id_number_hash != number_hash)
                if stale:
                    tenant.id_number_sealed = crypto.encrypt(number, purpose=ID_NUMBER_PURPOSE,
                                                             ring=ring)
                    tenant.phone_sealed = (crypto.encrypt(phone, purpose=PHONE_PURPOSE,
                                                          ring=ring) if phone else "")
                    tenant.id_number_hash = number_hash
                    changed.append(tenant)
            Tenant.objects.bulk_update(
                changed, ["id_number_sealed", "phone_sealed", "id_number_hash"])
            rows += len(batch)
            reencrypted += len(changed)
            last_pk = batch[-1].pk
    with transaction.atomic():
        audit.record("pii.rotate_key", actor=actor, stream="pii",
                     data={"key_id": ring.current, "rows": rows, "reencrypted": reencrypted})
    return Rotation(key_id=ring.current, rows=rows, reencrypted=reencrypted)
