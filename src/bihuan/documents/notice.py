"""整改通知书: the rectification notice of an inspection, as a PDF.

The same facts as the inspection's HTML notice (``inspections:notice``): the
hazards the visit registered, split into those to rectify by a deadline and
those rectified on the spot, the earlier hazards re-checked, and the party's
signature captured on the phone. The QR code opens the place's plate link
(``places:by_token``): a responsible party who scans it lands in its portal, an
official on the place's page. It is the place's standing token, so printing a
notice issues no new portal link and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import segno
from django.urls import reverse
from django.utils import timezone

from bihuan.documents.rendering import data_uri, render_pdf
from bihuan.hazards.choices import HazardAction
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.inspections.forms import localized
from bihuan.inspections.models import CarriedHazard, Inspection

TEMPLATE = "documents/notice.html"


@dataclass(frozen=True)
class NoticeRow:
    hazard: Hazard
    text: str
    detail: str
    legal_basis: str


@dataclass
class RectificationNotice:
    inspection: Inspection
    authority: str
    inspected_on: dt.date
    to_rectify: list[NoticeRow] = field(default_factory=list)
    on_spot: list[NoticeRow] = field(default_factory=list)
    carried: list[CarriedHazard] = field(default_factory=list)
    portal_url: str = ""
    qr_png: str = ""  # a data: URI
    signature_png: str = ""  # a data: URI, when the party signed on the phone

    @property
    def place(self) -> Any:
        return self.inspection.place

    @property
    def filename(self) -> str:
        return f"notice-{self.inspection.pk}.pdf"


def _row(hazard: Hazard) -> NoticeRow:
    item = hazard.checklist_item
    return NoticeRow(
        hazard=hazard,
        text=localized(item, "text") if item else hazard.description,
        detail=hazard.description if item and hazard.description != item.text else "",
        legal_basis=localized(item, "legal_basis") if item else "",
    )


def qr_png(target: str) -> str:
    qr = segno.make(target, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    return data_uri(buffer.getvalue(), "image/png")


def notice_for(inspection: Inspection, *, base_url: str) -> RectificationNotice:
    """The notice's facts. ``inspection`` must already be one the reader may see
    (looked up through ``visible_to``); ``base_url`` makes the QR link absolute."""
    inspection = Inspection.objects.select_related(
        "place__area", "place__party", "inspector", "org_unit", "checklist",
    ).get(pk=inspection.pk)
    hazards = list(
        inspection.hazards.select_related("checklist_item", "deadline_rule").order_by("id")
    )
    on_spot_ids = set(
        HazardEvent.objects.filter(hazard__in=hazards, seq=1,
                                   action=HazardAction.RECTIFY_ON_SPOT)
        .values_list("hazard_id", flat=True)
    )
    place = inspection.place
    town = place.area.town()
    authority = inspection.org_unit.name if inspection.org_unit else (town.name if town else "")
    rows = [_row(h) for h in hazards]
    portal_url = base_url.rstrip("/") + reverse("places:by_token", args=[place.qr_token])
    signature = ""
    if inspection.party_signature:
        with inspection.party_signature.open("rb") as handle:
            signature = data_uri(handle.read(), "image/png")
    return RectificationNotice(
        inspection=inspection,
        authority=authority,
        inspected_on=timezone.localtime(inspection.started_at).date(),
        to_rectify=[r for r in rows if r.hazard.pk not in on_spot_ids],
        on_spot=[r for r in rows if r.hazard.pk in on_spot_ids],
        carried=list(inspection.carried.select_related("hazard").order_by("hazard_id")),
        portal_url=portal_url,
        qr_png=qr_png(portal_url),
        signature_png=signature,
    )


def notice_pdf(notice: RectificationNotice) -> bytes:
    return render_pdf(TEMPLATE, {"notice": notice, "inspection": notice.inspection,
                                 "place": notice.place})
