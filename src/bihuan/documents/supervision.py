"""挂牌督办: the listed-supervision notice of a hazard, with its document number.

Listing is a service (``hazards.services.list_supervision``); this only prints
the record it wrote: supervising level, document number (文号), the hazard and
its place, the responsible person, the deadline, who listed it, who delivered
it and who signed for it, and whether it has since been de-listed (摘牌).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bihuan.accounts.choices import OFFICIAL_ROLES, Role
from bihuan.accounts.scopes import scope_of
from bihuan.documents.rendering import render_pdf
from bihuan.hazards.models import Hazard, Supervision
from bihuan.inspections.forms import localized

TEMPLATE = "documents/supervision.html"


@dataclass(frozen=True)
class SupervisionNotice:
    supervision: Supervision
    hazard: Hazard
    place: Any
    authority: str
    hazard_text: str
    legal_basis: str

    @property
    def filename(self) -> str:
        return f"supervision-{self.supervision.pk}.pdf"


def visible_supervisions(user: Any) -> Any:
    """Listings of hazards the user sees, for officials and the responsible party (to whom
    the notice is delivered). A citizen who reported the hazard does not get the document."""
    roles = scope_of(user).roles()
    if not roles & (set(OFFICIAL_ROLES) | {Role.PARTY}):
        return Supervision.objects.none()
    return Supervision.objects.filter(hazard__in=Hazard.objects.visible_to(user))


def supervision_notice(supervision: Supervision) -> SupervisionNotice:
    supervision = Supervision.objects.select_related(
        "hazard__place__party", "hazard__area", "hazard__checklist_item", "listed_by",
        "delisted_by",
    ).get(pk=supervision.pk)
    hazard = supervision.hazard
    item = hazard.checklist_item
    area = hazard.area
    if supervision.level == "city":
        from django.conf import settings

        from bihuan.areas.models import Area

        city = Area.objects.filter(code=settings.BIHUAN_CITY_CODE).first()
        authority = city.name if city else ""
    else:
        town = area.town()
        authority = town.name if town else area.name
    return SupervisionNotice(
        supervision=supervision, hazard=hazard, place=hazard.place, authority=authority,
        hazard_text=hazard.description or (localized(item, "text") if item else ""),
        legal_basis=localized(item, "legal_basis") if item else "",
    )


def supervision_pdf(notice: SupervisionNotice) -> bytes:
    return render_pdf(TEMPLATE, {"notice": notice, "supervision": notice.supervision,
                                 "hazard": notice.hazard, "place": notice.place})
