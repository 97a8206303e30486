"""Places under inspection and their responsible parties."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bihuan.core.scoping import ScopedQuerySet
from bihuan.places.choices import PartyKind, PartyRole, PlaceKind


def new_qr_token() -> str:
    return secrets.token_urlsafe(16)


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
        indexes = [models.Index(fields=["area", "kind"], name="place_area_kind")]

    def __str__(self) -> str:
        return self.name
