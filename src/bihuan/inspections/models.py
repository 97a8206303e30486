"""Inspections (visits) of a place, their per-item results and carried-forward hazards."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.core.scoping import ScopedQuerySet
from bihuan.inspections.choices import (
    FollowUpOutcome,
    InspectionKind,
    InspectionStatus,
    ItemOutcome,
)


class InspectionQuerySet(ScopedQuerySet["Inspection"]):
    area_path_lookup = "place__area__path"
    place_kind_lookup = "place__kind"
    party_user_lookup = "place__party__user_id"

    def own_records(self, scope: Any) -> Q | None:
        # A cross-inspection team member keeps their visits in another town's places.
        if scope.user_id is None:
            return None
        return Q(inspector_id=scope.user_id, kind=InspectionKind.CROSS)


class Inspection(models.Model):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT,
                              related_name="inspections", verbose_name=_("place"))
    kind = models.CharField(_("kind"), max_length=20, choices=InspectionKind.choices)
    checklist = models.ForeignKey("checklists.Checklist", on_delete=models.PROTECT,
                                  verbose_name=_("checklist"))
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="inspections", verbose_name=_("inspector"))
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, null=True, blank=True,
                             verbose_name=_("team"))
    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, null=True,
                                 blank=True, verbose_name=_("organisational unit"))
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="inspections",
                                 verbose_name=_("campaign"))
    status = models.CharField(_("status"), max_length=20, choices=InspectionStatus.choices,
                              default=InspectionStatus.IN_PROGRESS)
    started_at = models.DateTimeField(_("started at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # A client-generated key: a retried submission finds the first one.
    client_key = models.UUIDField(_("client key"), default=uuid.uuid4, unique=True)
    notice_number = models.CharField(_("notice number"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The responsible party's signature on the notice, drawn on the phone (a PNG).
    party_signature = models.FileField(_("party's signature"),
                                       upload_to="signatures/%Y/%m/", blank=True)
    signed_by_name = models.CharField(_("signed by"), blank=True, max_length=50)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        indexes = [models.Index(fields=["place", "-started_at"], name="inspection_place_recent")]

    def __str__(self) -> str:
        return f"{self.place} {self.started_at:%Y-%m-%d}"


class InspectionResult(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results",
                                   verbose_name=_("inspection"))
    item = models.ForeignKey("checklists.ChecklistItem", on_delete=models.PROTECT,
                             verbose_name=_("checklist item"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=ItemOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("inspection result")
        verbose_name_plural = _("inspection results")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="result_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.item_id} {self.outcome}"


class CarriedHazard(models.Model):
    """An outstanding hazard of the place, carried into this inspection to be re-checked."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE,
                                   related_name="carried", verbose_name=_("inspection"))
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.PROTECT,
                               related_name="carried_into", verbose_name=_("hazard"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=FollowUpOutcome.choices,
                               default=FollowUpOutcome.NOT_CHECKED)

    class Meta:
        verbose_name = _("carried-forward hazard")
        verbose_name_plural = _("carried-forward hazards")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "hazard"], name="carried_once"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.hazard_id} {self.outcome}"
