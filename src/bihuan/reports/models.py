"""Citizen reports (随手拍): filed without an account, triaged by the territorial authority.

A report is written by ``bihuan.reports.services`` only. The reporter follows it by
its ticket on a public status page that never shows the contact, the reporter's
place description or a private address.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.accounts.scopes import scope_of
from bihuan.core import clock
from bihuan.core.scoping import ScopedQuerySet
from bihuan.hazards.choices import OPEN_STATES
from bihuan.reports.choices import ReportStatus


def new_ticket() -> str:
    """A short, unguessable ticket: the city prefix and 8 base32 characters (40 bits)."""
    code = base64.b32encode(secrets.token_bytes(5)).decode("ascii")
    return f"{settings.BIHUAN_HAZARD_PREFIX}-{code}"


def report_photo_path(instance: CitizenReport, filename: str) -> str:
    return f"reports/{clock.today():%Y/%m}/{instance.photo_sha256[:2]}/{instance.photo_sha256}"


class CitizenReportQuerySet(ScopedQuerySet["CitizenReport"]):
    """Reports are seen by the area roles whose subtree holds the report's area.

    A report is not attached to a place until it is accepted, so it has no place
    kind, and department inspectors (whose jurisdiction is a set of place kinds,
    city-wide) see none: triage is the territorial authority's work (属地). Once
    accepted, the hazard carries the place's kind and the department sees it there.
    ``scope_filter`` is overridden rather than pointing ``place_kind_lookup`` at a
    column that happens never to hold a place kind: the rule is stated, not implied.
    Parties see no reports; reporters have no account and follow theirs by ticket.
    """

    area_path_lookup = "area__path"
    place_kind_lookup = ""  # never used: see scope_filter

    def scope_filter(self, user: Any) -> Q | None:
        scope = scope_of(user)
        if not scope.area_paths:
            return None
        condition = Q()
        for path in scope.area_paths:
            condition |= Q(**{f"{self.area_path_lookup}__startswith": path})
        return condition

    def open(self) -> CitizenReportQuerySet:
        """Still a live case: waiting for triage, or accepted into a hazard still open."""
        return self.filter(
            Q(status=ReportStatus.NEW)
            | Q(status=ReportStatus.ACCEPTED, hazard__state__in=sorted(OPEN_STATES))
        )


class CitizenReport(models.Model):
    ticket = models.CharField(_("ticket"), max_length=16, unique=True, default=new_ticket,
                              editable=False)
    description = models.TextField(_("what is wrong"), max_length=1000)
    # Stored as uploaded (after validation), for officials; the public sees a copy
    # without EXIF metadata (``core.images.public_copy``).
    photo = models.FileField(_("photo"), upload_to=report_photo_path, max_length=200,
                             blank=True)
    photo_sha256 = models.CharField(_("photo SHA-256"), max_length=64, blank=True)
    photo_taken_at = models.DateTimeField(_("photo taken at"), null=True, blank=True)
    photo_latitude = models.DecimalField(_("photo latitude"), max_digits=9, decimal_places=6,
                                         null=True, blank=True)
    photo_longitude = models.DecimalField(_("photo longitude"), max_digits=9,
                                          decimal_places=6, null=True, blank=True)
    # WGS-84, from the phone's location (or, later, a map pick).
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)
    place_description = models.CharField(_("where"), max_length=300, blank=True)
    # Personal data: shown to the officials who triage, never on a public page.
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT,
                             related_name="citizen_reports", verbose_name=_("area"))
    status = models.CharField(_("status"), max_length=12, choices=ReportStatus.choices,
                              default=ReportStatus.NEW)
    outcome_reason = models.TextField(_("reason"), blank=True)
    # HMAC of the client address: enough to rate-limit, never the address itself.
    reporter_ip_hash = models.CharField(_("reporter address hash"), max_length=64)
    created_at = models.DateTimeField(_("filed at"))
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("triaged by"))
    triaged_at = models.DateTimeField(_("triaged at"), null=True, blank=True)
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="citizen_reports",
                               verbose_name=_("hazard"))
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="duplicates", verbose_name=_("duplicate of"))

    objects = CitizenReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("citizen report")
        verbose_name_plural = _("citizen reports")
        indexes = [
            # The rate limit counts one reporter's reports of the last hour and day.
            models.Index(fields=["reporter_ip_hash", "created_at"], name="report_rate_limit"),
            # The triage list: an area subtree, newest first.
            models.Index(fields=["area", "status"], name="report_area_status"),
            models.Index(fields=["-created_at", "-id"], name="report_recent"),
            # De-duplication looks for new reports in a small box around a point.
            models.Index(fields=["latitude", "longitude"], name="report_new_location",
                         condition=Q(status=ReportStatus.NEW)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.ACCEPTED) | Q(hazard__isnull=False),
                name="report_accepted_has_hazard",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.DUPLICATE) | Q(duplicate_of__isnull=False),
                name="report_duplicate_has_original",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="report_both_coordinates",
            ),
        ]

    def __str__(self) -> str:
        return self.ticket

    @property
    def is_new(self) -> bool:
        return self.status == ReportStatus.NEW

    def waiting_too_long(self) -> bool:
        """Not yet triaged within the on-site check time (derived, never stored)."""
        hours = getattr(settings, "BIHUAN_REPORT_CHECK_HOURS", 24)
        return self.is_new and (clock.now() - self.created_at).total_seconds() > hours * 3600
