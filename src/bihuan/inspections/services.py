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
from bihuan.checklists.models import Checklist, ChecklistItem
from bihuan.core import clock, images
from bihuan.core.errors import DomainError, PermissionDenied, ValidationFailed
from bihuan.hazards import services as hazard_services
from bihuan.hazards.models import Hazard, HazardQuerySet
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


def _outstanding(place_id: int) -> HazardQuerySet:
    return Hazard.objects.filter(place_id=place_id).open().order_by("registered_at", "id")


def outstanding_hazards(place: Place) -> list[Hazard]:
    """The place's open hazards: a follow-up visit starts from these, not a blank form."""
    return list(_outstanding(place.pk))


def _kind_allowed(kind: str, role: str) -> bool:
    if kind == InspectionKind.SELF_CHECK:
        return role == Role.PARTY
    return role != Role.PARTY


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
    access: hazard_services.FieldAccess | None = None,
    items: Sequence[ChecklistItem] | None = None,
    open_hazards: Sequence[Hazard] | None = None,
) -> Inspection:
    """Record a finished visit. A retried submission with the same ``client_key``
    returns the first inspection and writes nothing new.

    ``signature`` is the responsible party's signature (a PNG drawn on the phone),
    stored with ``signed_by_name``. A visit whose findings leave anything to
    rectify gets its rectification notice number (整改通知书文号).

    ``access`` (``field_access(actor, place)``), ``items`` (the checklist's items, with
    their deadline rules) and ``open_hazards`` (``outstanding_hazards(place)``) are what
    a caller that has just read them for the same actor, place and checklist may hand
    over instead of having them read again; each is read here when not given.
    """
    try:
        with transaction.atomic():
            return _submit(
                actor=actor, place=place, kind=kind, checklist=checklist, results=results,
                findings=findings, carried=carried, campaign=campaign, team=team,
                org_unit=org_unit, started_at=started_at, client_key=client_key, note=note,
                client_ip=client_ip, signature=signature, signed_by_name=signed_by_name,
                access=access, items=items, open_hazards=open_hazards,
            )
    except (DomainError, IntegrityError):
        # A retry is found by its key when the insert collides with the first
        # submission (a concurrent one included: its INSERT waits for ours to commit),
        # or when something changed since that makes the same visit invalid now. Not
        # looking it up first saves a query on every submission that is not a retry.
        if client_key is None:
            raise
        existing = Inspection.objects.visible_to(actor).filter(client_key=client_key).first()
        if existing is None:
            raise
        return existing


def _submit(
    *,
    actor: Any,
    place: Place | int,
    kind: str,
    checklist: Checklist,
    results: Mapping[str, str],
    findings: Sequence[Finding],
    carried: Mapping[int, str] | None,
    campaign: Any | None,
    team: Any | None,
    org_unit: Any | None,
    started_at: dt.datetime | None,
    client_key: uuid.UUID | str | None,
    note: str,
    client_ip: str | None,
    signature: bytes | None,
    signed_by_name: str,
    access: hazard_services.FieldAccess | None,
    items: Sequence[ChecklistItem] | None,
    open_hazards: Sequence[Hazard] | None,
) -> Inspection:
    place_id = place.pk if isinstance(place, Place) else place
    if access is None or str(access.place.pk) != str(place_id):
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
    if items is None or any(item.checklist_id != checklist.pk for item in items):
        items = list(checklist.items.select_related("deadline_rule"))
    by_code = {item.code: item for item in items}
    for code, outcome in results.items():
        if code not in by_code:
            raise ValidationFailed(
                _("Hazard code %(code)s is not in this checklist version.") % {"code": code},
                field="results",
            )
        if outcome not in ItemOutcome.values:
            raise ValidationFailed(_("Unknown result for item %(code)s.") % {"code": code},
                                   field="results")
    for finding in findings:
        if finding.item_code not in by_code:
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
        # Written with the row: one UPDATE less when nothing else follows.
        signed_by_name=signed_by_name,
    )
    if client_key is not None:
        inspection.client_key = uuid.UUID(str(client_key))
    # A key already used fails here, before anything else is written or stored; the
    # caller's handler finds the first submission.
    inspection.save(force_insert=True)
    from bihuan.dashboard.summaries import record_inspection

    # Coverage on the dashboard moves in the same transaction as the visit.
    record_inspection(inspection)
    merged: dict[str, str] = dict.fromkeys((f.item_code for f in findings), ItemOutcome.FAIL)
    merged.update(results)
    # By id: a row per item, and setting the related objects costs more than the rows.
    InspectionResult.objects.bulk_create(
        [InspectionResult(inspection_id=inspection.pk, item_id=by_code[code].pk,
                          outcome=outcome)
         for code, outcome in merged.items()]
    )
    # Read committed: a read here sees no more than the caller's read a moment ago
    # (neither locks), so the caller's list is as good as a new one. Only the ids are
    # needed: read as such, not as rows (most visits find none open).
    if open_hazards is None:
        open_ids = list(_outstanding(place_obj.pk).values_list("pk", flat=True))
    else:
        open_ids = [h.pk for h in open_hazards]
    carried = carried or {}
    for hazard_id in carried:
        if hazard_id not in open_ids:
            raise ValidationFailed(_("A carried-forward hazard is not open at this place."),
                                   field="carried")
    if open_ids:
        CarriedHazard.objects.bulk_create(
            [CarriedHazard(inspection_id=inspection.pk, hazard_id=hid,
                           outcome=carried.get(hid, FollowUpOutcome.NOT_CHECKED))
             for hid in dict.fromkeys(open_ids)]
        )
    for finding in findings:
        hazard_services.register_hazard(
            actor=actor, place=place_obj, item=by_code[finding.item_code], inspection=inspection,
            description=finding.description, requirement=finding.requirement,
            deadline=finding.deadline, rectified_on_spot=finding.rectified_on_spot,
            evidence=finding.evidence, campaign=campaign, client_ip=client_ip, access=access,
        )
    stored: list[str] = []
    if kind != InspectionKind.SELF_CHECK and any(not f.rectified_on_spot for f in findings):
        inspection.notice_number = notice_number(inspection)
        stored.append("notice_number")
    if signature_png is not None:
        inspection.party_signature.save(f"{inspection.client_key}.png",
                                         ContentFile(signature_png), save=False)
        stored.append("party_signature")
    if stored:
        inspection.save(update_fields=stored)
    # ``locked``: the inspection's stream is new and its row is this transaction's own,
    # invisible to anyone else until commit, so nobody else can append to it meanwhile.
    audit.record("inspection.submit", actor=actor, obj=inspection, client_ip=client_ip,
                 data={"place": place_obj.pk, "kind": kind, "checklist": checklist.pk,
                       "findings": len(findings), "notice": inspection.notice_number,
                       "signed": signature_png is not None},
                 locked=True)
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
