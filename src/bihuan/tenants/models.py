"""Tenants (流动人口登记) of rental places: personal data, sealed at rest.

The ID-card number and the phone number are stored only as AES-GCM ciphertext
(:mod:`bihuan.core.crypto`), the ID number also as a keyed hash for exact
look-up. The model never holds them in clear: ``id_number()`` and ``phone()``
open them for the services, and every page shows them masked.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.core import crypto
from bihuan.core.masking import mask_id_number, mask_phone
from bihuan.core.scoping import ScopedQuerySet

# Associated data bound into each ciphertext: a value copied into another column
# (or another app's column) does not open there.
ID_NUMBER_PURPOSE = "tenants.tenant.id_number"
PHONE_PURPOSE = "tenants.tenant.phone"


class TenantQuerySet(ScopedQuerySet["Tenant"]):
    """A tenant is visible exactly where its place is (``Place.visible_to``)."""

    area_path_lookup = "place__area__path"
    place_kind_lookup = "place__kind"
    party_user_lookup = "place__party__user_id"

    def living_on(self, day: dt.date) -> TenantQuerySet:
        """Tenants who live in their place on ``day`` (moved in, not yet out)."""
        return self.filter(Q(moved_out_on__isnull=True) | Q(moved_out_on__gt=day),
                           moved_in_on__lte=day)


class Tenant(models.Model):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="tenants",
                              verbose_name=_("place"))
    name = models.CharField(_("name"), max_length=50)
    id_number_sealed = models.CharField(_("ID number (encrypted)"), max_length=200)
    id_number_hash = models.CharField(_("ID number look-up hash"), max_length=64)
    phone_sealed = models.CharField(_("phone (encrypted)"), max_length=200, blank=True)
    room = models.CharField(_("room"), max_length=20)
    moved_in_on = models.DateField(_("moved in on"))
    moved_out_on = models.DateField(_("moved out on"), null=True, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+",
                                      verbose_name=_("registered by"))
    registered_at = models.DateTimeField(_("registered at"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["place", "room", "id"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        indexes = [
            # Exact look-up by ID number (the keyed hash).
            models.Index(fields=["id_number_hash"], name="tenant_id_hash"),
            # The purge: moved out before the cut-off.
            models.Index(fields=["moved_out_on"], name="tenant_moved_out"),
        ]
        constraints = [
            # One person is registered once per place while living there.
            models.UniqueConstraint(fields=["place", "id_number_hash"],
                                    condition=Q(moved_out_on__isnull=True),
                                    name="tenant_once_per_place"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.room}"

    def id_number(self) -> str:
        """The clear ID number: for services only, never for a template."""
        return crypto.decrypt(self.id_number_sealed, purpose=ID_NUMBER_PURPOSE)

    def phone(self) -> str:
        if not self.phone_sealed:
            return ""
        return crypto.decrypt(self.phone_sealed, purpose=PHONE_PURPOSE)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number())

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone())

    def lives_there_on(self, day: dt.date) -> bool:
        return self.moved_in_on <= day and (self.moved_out_on is None or self.moved_out_on > day)
