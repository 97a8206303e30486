"""Campaigns (攻坚行动): named, time-boxed, scoped to an area."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: Any) -> CampaignQuerySet:
        from bihuan.areas.models import Area

        # A campaign is visible to whoever sees any part of its area.
        paths = list(Area.objects.visible_to(user).values_list("path", flat=True)[:1])
        if not paths:
            return self.none()
        from bihuan.accounts.scopes import scope_of

        scope = scope_of(user)
        visible_roots = scope.area_paths + [p for p, _k in scope.kind_grants]
        ids = [
            c.pk
            for c in self.select_related("area")
            if any(c.area.path.startswith(p) or p.startswith(c.area.path) for p in visible_roots)
        ]
        return self.filter(pk__in=ids)


class Campaign(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, verbose_name=_("area"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    place_kinds = models.JSONField(_("place kinds"), default=list, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name
