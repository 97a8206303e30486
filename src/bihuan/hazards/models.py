"""Hazards (隐患), their append-only event history and the records around them.

A hazard's ``state`` (and the other loop fields) is written only by
``bihuan.hazards.services``; ``HazardEvent`` rows are never updated or deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.core import clock
from bihuan.core.scoping import ScopedQuerySet
from bihuan.hazards.choices import (
    OPEN_STATES,
    OVERDUE_STATES,
    EvidenceKind,
    ExtensionStatus,
    HazardAction,
    HazardSource,
    HazardState,
    Severity,
    SupervisionLevel,
)


class HazardQuerySet(ScopedQuerySet["Hazard"]):
    area_path_lookup = "area__path"
    place_kind_lookup = "place_kind"
    party_user_lookup = "place__party__user_id"
    citizen_lookup = "reported_by_id"

    def open(self) -> HazardQuerySet:
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, today: dt.date | None = None) -> HazardQuerySet:
        """Derived, never stored: the party's turn, past the deadline, clock not paused."""
        day = today or clock.today()
        return self.filter(
            state__in=OVERDUE_STATES, deadline__lt=day, clock_paused_since__isnull=True
        )

    def not_overdue(self, today: dt.date | None = None) -> HazardQuerySet:
        day = today or clock.today()
        return self.exclude(
            Q(state__in=OVERDUE_STATES, deadline__lt=day, clock_paused_since__isnull=True)
        )


class Hazard(models.Model):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="hazards",
                              verbose_name=_("place"))
    # Copied from the place at registration: scoping and metrics filter on these
    # without joining the place table (a million hazards, a hundred thousand places).
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="hazards",
                             verbose_name=_("area"))
    place_kind = models.CharField(_("place kind"), max_length=30)
    inspection = models.ForeignKey("inspections.Inspection", on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="hazards",
                                   verbose_name=_("inspection"))
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="hazards", verbose_name=_("campaign"))
    checklist_item = models.ForeignKey("checklists.ChecklistItem", on_delete=models.PROTECT,
                                       null=True, blank=True, verbose_name=_("checklist item"))
    code = models.CharField(_("hazard code"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=HazardSource.choices)
    description = models.CharField(_("description"), max_length=500)
    requirement = models.CharField(_("rectification requirement"), max_length=500, blank=True)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    major_candidate = models.BooleanField(_("candidate major hazard"), default=False)
    state = models.CharField(_("state"), max_length=24, choices=HazardState.choices)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    deadline_rule = models.ForeignKey("checklists.DeadlineRule", on_delete=models.PROTECT,
                                      null=True, blank=True, verbose_name=_("deadline rule"))
    clock_paused_since = models.DateField(_("clock paused since"), null=True, blank=True)
    supervision_level = models.CharField(_("supervision"), max_length=10,
                                         choices=SupervisionLevel.choices,
                                         default=SupervisionLevel.NONE)
    recurrence_count = models.PositiveIntegerField(_("recurrences"), default=0)
    look_back_count = models.PositiveIntegerField(_("look-backs"), default=0)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="reported_hazards", verbose_name=_("reported by"))
    registered_at = models.DateTimeField(_("registered at"))
    rectification_submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("rectification submitted by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("closed by"))
    # Optimistic concurrency: every transition increments it; a stale form gets a conflict.
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = HazardQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("hazard")
        verbose_name_plural = _("hazards")
        indexes = [
            models.Index(fields=["area", "state"], name="hazard_area_state"),
            models.Index(fields=["place", "state"], name="hazard_place_state"),
            models.Index(fields=["-registered_at", "-id"], name="hazard_recent"),
            # The overdue list and the deadline sweep read open hazards by deadline only.
            models.Index(fields=["deadline"], name="hazard_open_deadline",
                         condition=Q(state__in=sorted(OPEN_STATES))),
            # The dashboard's list of open major hazards (and candidates): a few thousand
            # rows in a city of a million hazards, read without touching the rest.
            models.Index(fields=["deadline", "id"], name="hazard_open_major",
                         condition=Q(state__in=sorted(OPEN_STATES)) & Q(severity="major")),
            models.Index(fields=["deadline", "id"], name="hazard_open_major_candidate",
                         condition=Q(state__in=sorted(OPEN_STATES)) & Q(major_candidate=True)),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.description[:30]}"

    @property
    def number(self) -> str:
        """The hazard's human number, e.g. YK2026-00001234."""
        year = clock.today().year if self.registered_at is None else self.registered_at.year
        return f"{settings.BIHUAN_HAZARD_PREFIX}{year}-{self.pk or 0:08d}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, today: dt.date | None = None) -> bool:
        day = today or clock.today()
        return (
            self.state in OVERDUE_STATES
            and self.deadline is not None
            and self.deadline < day
            and self.clock_paused_since is None
        )


class AppendOnlyModel(models.Model):
    """Rows of history: created once, never changed or deleted through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} is append-only")


class HazardEventQuerySet(ScopedQuerySet["HazardEvent"]):
    area_path_lookup = "hazard__area__path"
    place_kind_lookup = "hazard__place_kind"
    party_user_lookup = "hazard__place__party__user_id"
    citizen_lookup = "hazard__reported_by_id"

    def update(self, **kwargs: Any) -> int:
        raise TypeError("HazardEvent is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("HazardEvent is append-only")


class HazardEvent(AppendOnlyModel):
    """One step of a hazard's history: who, when, from where, why, with what evidence."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="events",
                               verbose_name=_("hazard"))
    seq = models.PositiveIntegerField(_("sequence"))
    action = models.CharField(_("action"), max_length=30, choices=HazardAction.choices)
    from_state = models.CharField(_("from state"), max_length=24, blank=True)
    to_state = models.CharField(_("to state"), max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("actor"))
    actor_role = models.CharField(_("acting role"), max_length=20)
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    objects = HazardEventQuerySet.as_manager()

    class Meta:
        ordering = ["hazard", "seq"]
        verbose_name = _("hazard event")
        verbose_name_plural = _("hazard events")
        constraints = [
            models.UniqueConstraint(fields=["hazard", "seq"], name="hazard_event_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.hazard_id}#{self.seq} {self.action}"


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"evidence/{clock.today():%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Evidence(AppendOnlyModel):
    """A photo or document attached to a hazard event (before, after, notice)."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="evidence",
                               verbose_name=_("hazard"))
    event = models.ForeignKey(HazardEvent, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="evidence", verbose_name=_("event"))
    kind = models.CharField(_("kind"), max_length=10, choices=EvidenceKind.choices)
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content_type = models.CharField(_("content type"), max_length=50)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"


class ExtensionRequest(models.Model):
    """延期申请: pauses the hazard's clock while pending; the decision is on the record."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="extensions",
                               verbose_name=_("hazard"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"))
    reason = models.TextField(_("reason"))
    requested_deadline = models.DateField(_("requested deadline"))
    status = models.CharField(_("status"), max_length=10, choices=ExtensionStatus.choices,
                              default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(fields=["hazard"], condition=Q(status="pending"),
                                    name="one_pending_extension"),
        ]

    def __str__(self) -> str:
        return f"{self.hazard_id} → {self.requested_deadline} ({self.status})"


class Supervision(models.Model):
    """挂牌督办: a listed-supervision document with its number, ended by de-listing."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="supervisions",
                               verbose_name=_("hazard"))
    level = models.CharField(_("level"), max_length=10, choices=SupervisionLevel.choices)
    document_number = models.CharField(_("document number"), max_length=60, unique=True)
    responsible_person = models.CharField(_("responsible person"), max_length=100)
    deadline = models.DateField(_("deadline"))
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("listed by"))
    listed_at = models.DateTimeField(_("listed at"))
    delivered_by = models.CharField(_("delivered by"), max_length=100, blank=True)
    signed_for_by = models.CharField(_("signed for by"), max_length=100, blank=True)
    delisted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("de-listed by"))
    delisted_at = models.DateTimeField(_("de-listed at"), null=True, blank=True)

    class Meta:
        ordering = ["-listed_at"]
        verbose_name = _("listed supervision")
        verbose_name_plural = _("listed supervisions")

    def __str__(self) -> str:
        return self.document_number


class MajorHazardDecision(models.Model):
    """The collective decision (≥ 3 people, or an expert panel) on a candidate major hazard."""

    hazard = models.ForeignKey(Hazard, on_delete=models.PROTECT, related_name="major_decisions",
                               verbose_name=_("hazard"))
    confirmed = models.BooleanField(_("confirmed as major"))
    participants = models.JSONField(_("participants"))
    expert_panel = models.BooleanField(_("expert panel"), default=False)
    minutes = models.TextField(_("minutes"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    decided_on = models.DateField(_("decided on"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("major hazard decision")
        verbose_name_plural = _("major hazard decisions")

    def __str__(self) -> str:
        return f"{self.hazard_id} {'major' if self.confirmed else 'not major'}"
