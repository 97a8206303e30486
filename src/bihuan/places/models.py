"""Places under inspection and their responsible parties."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import models
from django.utils.translation import gettext_lazy as _

from bihuan.core.scoping import ScopedQuerySet
from bihuan.imports.normalize import address_key  # pure functions, no models
from bihuan.places.choices import PartyKind, PartyRole, PlaceKind

ADDRESS_KEY_LENGTH = 255


def new_qr_token() -> str:
    return secrets.token_urlsafe(16)


def address_lookup_key(address: str) -> str:
    """What ``Place.address_key`` holds for an address (the matching key, cut to the column)."""
    return address_key(address)[:ADDRESS_KEY_LENGTH]


class AddressKeyField(models.CharField):  # type: ignore[type-arg]
    """The matching key of the place's ``address``, recomputed on every ORM write.

    Duplicate detection (imports) looks places up by it through an index instead of
    scanning the table. ``pre_save`` runs in ``save()``, ``create()`` and
    ``bulk_create()``, so no caller has to remember it; writers that bypass the ORM
    (COPY, raw SQL) get the column's database default ``""``, and look-ups fall back
    to the exact address for those rows (see ``places_at_addresses``).
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = address_lookup_key(model_instance.address)  # type: ignore[attr-defined]
        setattr(model_instance, self.attname, value)
        return value


@AddressKeyField.register_lookup
class AnyOf(models.Lookup):
    """``address_key__any_of=[...]`` (and ``address__any_of``): on PostgreSQL
    ``= ANY(...)`` with the list as ONE parameter (a few hundred keys as separate ``IN``
    parameters, or as an array that the driver quotes element by element, cost the
    client more than the query costs the server); ``IN (...)`` elsewhere."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [str(value) for value in self.rhs]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            joined = _UNIT_SEPARATOR.join(values)
            if joined.count(_UNIT_SEPARATOR) == len(values) - 1:  # no value holds one
                # string_to_array() of a constant is folded at planning: the same index
                # scan as a literal array.
                return f"{lhs} = ANY(string_to_array(%s, chr(31)))", [*lhs_params, joined]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


# U+001F never survives normalisation (white space, which addresses and keys drop); a
# list holding one anyway goes as an array.
_UNIT_SEPARATOR = "\x1f"


class PartyQuerySet(ScopedQuerySet["Party"]):
    area_path_lookup = "places__area__path"
    place_kind_lookup = "places__kind"
    party_user_lookup = "user_id"

    def visible_to(self, user):  # type: ignore[no-untyped-def]
        # A party reaches its places through a join: de-duplicate.
        return super().visible_to(user).distinct()


class Party(models.Model):
    """A responsible party (主体责任人): owner, landlord, operator or manager."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=PartyKind.choices,
                            default=PartyKind.PERSON)
    role = models.CharField(_("role"), max_length=20, choices=PartyRole.choices,
                            default=PartyRole.OWNER)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="party", verbose_name=_("login"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PartyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("responsible party")
        verbose_name_plural = _("responsible parties")

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        if len(self.phone) < 7:
            return self.phone
        return self.phone[:3] + "****" + self.phone[-4:]


class PlaceQuerySet(ScopedQuerySet["Place"]):
    area_path_lookup = "area__path"
    place_kind_lookup = "kind"
    party_user_lookup = "party__user_id"


class Place(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=PlaceKind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="places",
                             verbose_name=_("area"))
    address = models.CharField(_("address"), max_length=255)
    # Kept by the field itself (see AddressKeyField); never typed.
    address_key = AddressKeyField(_("address key"), max_length=ADDRESS_KEY_LENGTH, blank=True,
                                  editable=False, default="", db_default="")
    # WGS-84, as phones report it; converted only for display.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="places", verbose_name=_("responsible party"))
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    rooms = models.PositiveSmallIntegerField(_("rooms"), null=True, blank=True)
    qr_token = models.CharField(_("QR token"), max_length=32, unique=True, default=new_qr_token,
                                editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        indexes = [
            models.Index(fields=["area", "kind"], name="place_area_kind"),
            models.Index(fields=["address_key"], name="place_address_key"),
            # Rows written around the ORM (COPY, raw SQL) have no key: the exact-address
            # fallback of the duplicate look-up finds them through this (small) index.
            models.Index(fields=["address"], name="place_address_unkeyed",
                         condition=models.Q(address_key="")),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "address" in update_fields \
                and "address_key" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "address_key"]
        super().save(*args, **kwargs)


# Keys per look-up query. With ~1,000 keys in one list, PostgreSQL estimates a hashed
# scan of the whole table (100,000 places) cheaper than the index probes and takes
# ~70 ms instead of ~7; with a few hundred it keeps to the index.
ADDRESS_LOOKUP_CHUNK = 250


def places_at_addresses(queryset: models.QuerySet[Place], addresses: Iterable[str], *,
                        keys: Mapping[str, str] | None = None, unkeyed: bool = True,
                        ) -> Iterator[models.QuerySet[Place]]:
    """The places of ``queryset`` whose address has the matching key of one of
    ``addresses`` (through the ``place_address_key`` index) or, for rows written
    without a key (``unkeyed``: see :func:`unkeyed_places_exist`), exactly one of
    ``addresses``: as querysets over at most ``ADDRESS_LOOKUP_CHUNK`` keys each, no
    place in two of them. ``keys``: address → :func:`address_lookup_key`, when the
    caller has them already. Callers compare the full keys again in Python."""
    by_key: dict[str, list[str]] = {}
    for address in set(addresses):
        key = keys[address] if keys is not None else address_lookup_key(address)
        by_key.setdefault(key, []).append(address)
    ordered = sorted(by_key)
    for start in range(0, len(ordered), ADDRESS_LOOKUP_CHUNK):
        chunk = ordered[start:start + ADDRESS_LOOKUP_CHUNK]
        condition = models.Q(address_key__any_of=[key for key in chunk if key])
        if unkeyed:
            condition |= models.Q(address_key="", address__any_of=sorted(
                a for key in chunk for a in by_key[key]))
        yield queryset.filter(condition)


# The exact-address fallback takes its list the same way (on this field only).
Place._meta.get_field("address").register_lookup(AnyOf)


def unkeyed_places_exist() -> bool:
    """Whether any place was written around the ORM without its address key (one
    probe of the ``place_address_unkeyed`` index)."""
    return Place.objects.filter(address_key="").exists()
