"""Inspections: one submission writes the visit, its per-item results and its findings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bihuan.accounts.choices import Role
from bihuan.audit import services as audit
from bihuan.checklists.choices import ChecklistStatus
from bihuan.checklists.models import Checklist
from bihuan.core import clock, images
from bihuan.core.errors import PermissionDenied, ValidationFailed
from bihuan.hazards import services as hazard_services
from bihuan.hazards.models import Hazard
from bihuan.inspections.choices import (
    FollowUpOutcome,
    InspectionKind,
    InspectionStatus,
    ItemOutcome,
)
from bihuan.inspections.models import CarriedHazard, Inspection, InspectionResult
from bihuan.places.models import Place

# A signature drawn on a phone's canvas is a few dozen KB; anything bigger is not one.
MAX_SIGNATURE_BYTES = 512 * 1024
SIGNER_NAME_MAX = 50  # Inspection.signed_by_name


@dataclass(frozen=True)
class Finding:
    """A hazard found during the visit, against one checklist item."""

    item_code: str
    description: str = ""
    requirement: str = ""
    deadline: dt.date | None = None
    rectified_on_spot: bool = False
    evidence: Sequence[hazard_services.EvidenceFile] = field(default_factory=tuple)


def outstanding_hazards(place: Place) -> list[Hazard]:
    """The place's open hazards: a follow-up visit starts from these, not a blank form."""
    return list(Hazard.objects.filter(place=place).open().order_by("registered_at", "id"))


def _kind_allowed(kind: str, role: str) -> bool:
    if kind == InspectionKind.SELF_CHECK:
        return role == Role.PARTY
    return role != Role.PARTY


@transaction.atomic
def submit_inspection(
    *,
    actor: Any,
    place: Place | int,
    kind: str,
    checklist: Checklist,
    results: Mapping[str, str],
    findings: Sequence[Finding] = (),
    carried: Mapping[int, str] | None = None,
    campaign: Any | None = None,
    team: Any | None = None,
    org_unit: Any | None = None,
    started_at: dt.datetime | None = None,
    client_key: uuid.UUID | str | None = None,
    note: str = "",
    client_ip: str | None = None,
    signature: bytes | None = None,
    signed_by_name: str = "",
) -> Inspection:
    """Record a finished visit. A retried submission with the same ``client_key``
    returns the first inspection and writes nothing new.

    ``signature`` is the responsible party's signature (a PNG drawn on the phone),
    stored with ``signed_by_name``. A visit whose findings leave anything to
    rectify gets its rectification notice number (整改通知书文号).
    """
    if client_key is not None:
        existing = Inspection.objects.visible_to(actor).filter(client_key=client_key).first()
        if existing is not None:
            return existing
    access = hazard_services.field_access(actor, place)
    place_obj = access.place
    if kind not in InspectionKind.values:
        raise ValidationFailed(_("Unknown kind of inspection."), field="kind")
    signed_by_name = (signed_by_name or "").strip()
    if len(signed_by_name) > SIGNER_NAME_MAX:
        raise ValidationFailed(_("The signer's name is too long."), field="signed_by_name")
    signature_png = _clean_signature(signature) if signature else None
    if not any(_kind_allowed(kind, g.role) for g in access.grants):
        raise PermissionDenied()
    if access.cross is not None:
        # Only through the team's assignment: this visit is the team's cross-inspection.
        if kind != InspectionKind.CROSS:
            raise PermissionDenied()
        team = access.cross.team
        campaign = access.cross.draw.campaign
    if checklist.status != ChecklistStatus.ACTIVE:
        raise ValidationFailed(_("This checklist version is not in use."), field="checklist")
    if place_obj.kind not in (checklist.place_kinds or []):
        raise ValidationFailed(_("This checklist does not apply to this kind of place."),
                               field="checklist")
    items = {item.code: item for item in checklist.items.select_related("deadline_rule")}
    for code, outcome in results.items():
        if code not in items:
            raise ValidationFailed(
                _("Hazard code %(code)s is not in this checklist version.") % {"code": code},
                field="results",
            )
        if outcome not in ItemOutcome.values:
            raise ValidationFailed(_("Unknown result for item %(code)s.") % {"code": code},
                                   field="results")
    for finding in findings:
        if finding.item_code not in items:
            raise ValidationFailed(
                _("Hazard code %(code)s is not in this checklist version.")
                % {"code": finding.item_code},
                field="findings",
            )
        if results.get(finding.item_code, ItemOutcome.FAIL) != ItemOutcome.FAIL:
            raise ValidationFailed(
                _("Item %(code)s has a finding but is not marked as failed.")
                % {"code": finding.item_code},
                field="findings",
            )
    inspection = Inspection(
        place=place_obj, kind=kind, checklist=checklist, inspector=actor, team=team,
        org_unit=org_unit, campaign=campaign, status=InspectionStatus.SUBMITTED,
        started_at=started_at or clock.now(), submitted_at=clock.now(), note=note,
    )
    if client_key is not None:
        inspection.client_key = uuid.UUID(str(client_key))
    try:
        with transaction.atomic():
            inspection.save(force_insert=True)
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its result.
        existing = Inspection.objects.visible_to(actor).filter(
            client_key=inspection.client_key
        ).first()
        if existing is None:
            raise
        return existing
    from bihuan.dashboard.summaries import record_inspection

    # Coverage on the dashboard moves in the same transaction as the visit.
    record_inspection(inspection)
    merged: dict[str, str] = dict.fromkeys((f.item_code for f in findings), ItemOutcome.FAIL)
    merged.update(results)
    InspectionResult.objects.bulk_create(
        [InspectionResult(inspection=inspection, item=items[code], outcome=outcome)
         for code, outcome in merged.items()]
    )
    open_hazards = {h.pk: h for h in outstanding_hazards(place_obj)}
    carried = carried or {}
    for hazard_id in carried:
        if hazard_id not in open_hazards:
            raise ValidationFailed(_("A carried-forward hazard is not open at this place."),
                                   field="carried")
    CarriedHazard.objects.bulk_create(
        [CarriedHazard(inspection=inspection, hazard_id=hid,
                       outcome=carried.get(hid, FollowUpOutcome.NOT_CHECKED))
         for hid in open_hazards]
    )
    for finding in findings:
        hazard_services.register_hazard(
            actor=actor, place=place_obj, item=items[finding.item_code], inspection=inspection,
            description=finding.description, requirement=finding.requirement,
            deadline=finding.deadline, rectified_on_spot=finding.rectified_on_spot,
            evidence=finding.evidence, campaign=campaign, client_ip=client_ip,
        )
    stored: list[str] = []
    if kind != InspectionKind.SELF_CHECK and any(not f.rectified_on_spot for f in findings):
        inspection.notice_number = notice_number(inspection)
        stored.append("notice_number")
    if signature_png is not None:
        inspection.party_signature.save(f"{inspection.client_key}.png",
                                         ContentFile(signature_png), save=False)
        stored.append("party_signature")
    if signed_by_name:
        inspection.signed_by_name = signed_by_name
        stored.append("signed_by_name")
    if stored:
        inspection.save(update_fields=stored)
    audit.record("inspection.submit", actor=actor, obj=inspection, client_ip=client_ip,
                 data={"place": place_obj.pk, "kind": kind, "checklist": checklist.pk,
                       "findings": len(findings), "notice": inspection.notice_number,
                       "signed": signature_png is not None})
    return inspection


def _clean_signature(content: bytes) -> bytes:
    """A signature is a small image; what is stored is its re-encoded pixels only."""
    try:
        return images.public_copy(content, max_bytes=MAX_SIGNATURE_BYTES)
    except ValidationFailed as error:
        raise ValidationFailed(_("The signature could not be read. Sign again."),
                               field="signature") from error


def notice_number(inspection: Inspection) -> str:
    """The rectification notice's document number, e.g. 永消通〔2026〕1234号."""
    prefix = getattr(settings, "BIHUAN_NOTICE_PREFIX", "永消通")
    year = timezone.localtime(inspection.submitted_at or clock.now()).year
    return f"{prefix}〔{year}〕{inspection.pk}号"
