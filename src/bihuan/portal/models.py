"""Links that open the responsible party's portal without a password (门户链接).

An official hands a party a link (on the rectification notice, by text message);
the link carries a random token of which only the SHA-256 hash is stored, so a
copy of the database opens no portal. Tokens expire and can be revoked; they are
written by ``bihuan.portal.services`` only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bihuan.core import clock
from bihuan.core.scoping import ScopedQuerySet


def default_token_days() -> int:
    return int(getattr(settings, "BIHUAN_PORTAL_TOKEN_DAYS", 60))


class PortalTokenQuerySet(ScopedQuerySet["PortalToken"]):
    """Officials see the tokens of parties whose places are in their scope; the party
    itself does not manage its links."""

    area_path_lookup = "party__places__area__path"
    place_kind_lookup = "party__places__kind"

    def visible_to(self, user: Any) -> PortalTokenQuerySet:
        # A party with several places joins several times: de-duplicate.
        return super().visible_to(user).distinct()  # type: ignore[return-value]

    def valid(self, at: dt.datetime | None = None) -> PortalTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=at or clock.now())


class PortalToken(models.Model):
    party = models.ForeignKey("places.Party", on_delete=models.PROTECT,
                              related_name="portal_tokens", verbose_name=_("responsible party"))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("issued by"))
    created_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("revoked by"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = PortalTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")
        indexes = [models.Index(fields=["party", "-created_at"], name="portal_token_party")]

    def __str__(self) -> str:
        return f"{self.party_id} {self.token_hash[:8]}…"

    def is_valid(self, at: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (at or clock.now())
