"""Registering places and responsible parties (collect once, reuse everywhere)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.scopes import scope_of
from bihuan.areas.models import Area
from bihuan.audit import services as audit
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Party, Place

# Yongkang's surroundings with a wide margin; catches swapped or GCJ-02-less garbage.
LAT_RANGE = (Decimal("18"), Decimal("54"))
LON_RANGE = (Decimal("73"), Decimal("136"))


@transaction.atomic
def register_place(
    *,
    actor: Any,
    area: Area | int,
    name: str,
    kind: str,
    address: str,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    party: Party | None = None,
    client_ip: str | None = None,
) -> Place:
    area_id = area.pk if isinstance(area, Area) else area
    try:
        area_obj = Area.objects.visible_to(actor).get(pk=area_id)
    except (Area.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    scope = scope_of(actor)
    if not any(g.role in OFFICIAL_ROLES for g in scope.grants_for(area_obj.path, kind)):
        raise PermissionDenied()
    if kind not in PlaceKind.values:
        raise ValidationFailed(_("Unknown kind of place."), field="kind")
    if not (name or "").strip():
        raise ValidationFailed(_("The place needs a name."), field="name")
    if not (address or "").strip():
        raise ValidationFailed(_("The place needs an address."), field="address")
    lat = Decimal(str(latitude)) if latitude is not None else None
    lon = Decimal(str(longitude)) if longitude is not None else None
    if (lat is None) != (lon is None):
        raise ValidationFailed(_("Give both latitude and longitude, or neither."),
                               field="latitude")
    if lat is not None and lon is not None and not (
        LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]
    ):
        raise ValidationFailed(_("The location is outside China."), field="latitude")
    place = Place.objects.create(
        area=area_obj, name=name.strip(), kind=kind, address=address.strip(),
        latitude=lat, longitude=lon, party=party,
    )
    audit.record("place.create", actor=actor, obj=place, client_ip=client_ip,
                 data={"area": area_obj.code, "kind": kind, "name": place.name})
    return place


@transaction.atomic
def register_party(
    *, actor: Any, name: str, kind: str, role: str, phone: str = "",
    client_ip: str | None = None,
) -> Party:
    if not (name or "").strip():
        raise ValidationFailed(_("The responsible party needs a name."), field="name")
    party = Party.objects.create(name=name.strip(), kind=kind, role=role, phone=phone.strip())
    # Personal data stays out of the audit trail: the name and the row id suffice.
    audit.record("party.create", actor=actor, obj=party, client_ip=client_ip,
                 data={"kind": kind, "role": role})
    return party
