"""Open311 GeoReport v2 mapped onto citizen reports (``bihuan.reports``).

A *service* is a kind of fire hazard a citizen can report; a *service request*
is a :class:`~bihuan.reports.models.CitizenReport`, identified by its ticket. Filing
goes through ``reports.services.file_report`` (the same validation, area
resolution and rate limit as the public form); the status a client reads back is
what the public status page shows: states and dates, the village or town, never
the contact, the reporter's place description or a precise location.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bihuan.areas.models import Area
from bihuan.core import clock
from bihuan.core.errors import ValidationFailed
from bihuan.hazards.choices import OPEN_STATES, HazardState
from bihuan.reports import services as reports
from bihuan.reports.choices import ReportStatus
from bihuan.reports.models import CitizenReport

# A list without ids covers this many days and returns at most this many requests
# (the specification's defaults).
DEFAULT_WINDOW_DAYS = 90
MAX_RESULTS = 1000


@dataclass(frozen=True)
class Service:
    code: str
    name: Any
    description: Any
    keywords: str


GROUP = _("Fire safety")
SERVICES: tuple[Service, ...] = (
    Service("fire-hazard", _("Fire hazard"),
            _("Any fire-safety hazard not listed separately."), "fire,hazard,消防,隐患"),
    Service("blocked-exit", _("Blocked exit or escape route"),
            _("Locked or blocked exits, stairwells or corridors full of goods."),
            "exit,corridor,stairwell,疏散通道,安全出口"),
    Service("ebike-charging", _("E-bike parked or charged indoors"),
            _("Electric bikes or batteries charged in a stairwell, corridor or home."),
            "e-bike,battery,charging,电动自行车,充电"),
    Service("fire-equipment", _("Missing or broken fire equipment"),
            _("Extinguishers, hydrants, alarms or emergency lights missing or out of order."),
            "extinguisher,hydrant,alarm,灭火器,消火栓"),
    Service("mixed-use", _("People living where goods are made or stored"),
            _("Living, working and storage in one building (三合一), or goods stored where "
              "people sleep."), "三合一,仓库,住人"),
    Service("wiring", _("Dangerous wiring or gas"),
            _("Overloaded sockets, exposed wiring, gas cylinders used unsafely."),
            "wiring,electric,gas,电线,燃气"),
)
BY_CODE = {s.code: s for s in SERVICES}


def service_by_code(code: str) -> Service | None:
    return BY_CODE.get((code or "").strip())


def _tag(service: Service) -> str:
    # The officials who triage read Chinese: the tag is written in Chinese whatever
    # the client's language, and read back the same way.
    with translation.override("zh-hans"):
        return f"【{service.name}】"


def service_of(report: CitizenReport) -> Service:
    for service in SERVICES:
        if report.description.startswith(_tag(service)):
            return service
    return SERVICES[0]


def _town_in(address: str) -> Area | None:
    """A town or subdistrict named in a free-text address (长 names first)."""
    towns = sorted(reports.town_choices(), key=lambda a: -len(a.name))
    for town in towns:
        for name in {town.name, town.short_name}:
            if name and name in address:
                return town
    return None


def file_request(
    *, service_code: str, description: str, lat: str | None, long: str | None,
    address_string: str, contact: str, media: bytes | None, client_ip: str | None,
) -> CitizenReport:
    """POST requests: one citizen report, through the reports app's own service."""
    service = service_by_code(service_code)
    if service is None:
        raise ValidationFailed(gettext("Unknown service_code."), field="service_code")
    description = (description or "").strip()
    if not description:
        raise ValidationFailed(gettext("Describe what you saw."), field="description")
    address_string = (address_string or "").strip()
    located = lat not in (None, "") and long not in (None, "")
    town = None
    if not located:
        if not address_string:
            raise ValidationFailed(
                gettext("Send lat and long, or an address_string naming the town."),
                field="lat",
            )
        town = _town_in(address_string)
        if town is None:
            raise ValidationFailed(
                gettext("The address_string names no town or subdistrict we serve."),
                field="address_string",
            )
    return reports.file_report(
        description=f"{_tag(service)}{description}"[: reports.MAX_DESCRIPTION],
        photo=media, latitude=lat if located else None, longitude=long if located else None,
        place_description=address_string[:300], contact=contact[:100], town=town,
        client_ip=client_ip,
    )


# ---------------------------------------------------------------- reading back


def _public_area(area: Area) -> Area:
    """The village or town only: a grid is finer than the public needs."""
    codes = [c for c in area.path.split("/") if c]
    if len(codes) <= 3:
        return area
    return Area.objects.filter(code=codes[2]).first() or area


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def public_request(report: CitizenReport, request: Any = None) -> dict[str, Any]:
    """One service request as GeoReport v2 has it (public fields only)."""
    shown = report.duplicate_of if (report.status == ReportStatus.DUPLICATE
                                    and report.duplicate_of is not None) else report
    hazard = shown.hazard if shown.status == ReportStatus.ACCEPTED else None
    if shown.status == ReportStatus.NEW:
        is_open, notes = True, str(ReportStatus.NEW.label)
    elif hazard is not None:
        is_open = hazard.state in OPEN_STATES
        notes = f"{ReportStatus.ACCEPTED.label}: {HazardState(hazard.state).label}"
    else:
        is_open = False
        notes = str(ReportStatus(shown.status).label)
        if shown.outcome_reason:
            notes = f"{notes}: {shown.outcome_reason}"
    updated = max(filter(None, [report.created_at, report.triaged_at, shown.triaged_at,
                                hazard.closed_at if hazard is not None else None]))
    service = service_of(report)
    area = _public_area(hazard.area if hazard is not None else shown.area)
    media_url = None
    if report.photo:
        media_url = reverse("reports:photo", args=[report.ticket])
        if request is not None:
            media_url = request.build_absolute_uri(media_url)
    return {
        "service_request_id": report.ticket,
        "status": "open" if is_open else "closed",
        "status_notes": notes,
        "service_name": str(service.name),
        "service_code": service.code,
        "description": report.description.removeprefix(_tag(service)),
        "agency_responsible": area.name,
        "service_notice": "",
        "requested_datetime": _iso(report.created_at),
        "updated_datetime": _iso(updated),
        "expected_datetime": (f"{hazard.deadline.isoformat()}T18:00:00+08:00"
                              if hazard is not None and hazard.deadline and is_open else None),
        "address": area.name,
        "address_id": None,
        "zipcode": None,
        "media_url": media_url,
    }


def _parse_moment(value: str, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(gettext("Dates are ISO 8601, e.g. 2026-09-14T10:00:00+08:00."),
                               field=field) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def filter_requests(queryset: QuerySet[CitizenReport], params: Any) -> list[CitizenReport]:
    """GET requests: the specification's filters on reports already limited to the caller."""
    ids = [i.strip().upper() for i in (params.get("service_request_id") or "").split(",")
           if i.strip()]
    if ids:
        return list(queryset.filter(ticket__in=ids[:MAX_RESULTS]).order_by("-created_at"))
    end = (_parse_moment(params["end_date"], "end_date") if params.get("end_date")
           else clock.now())
    start = (_parse_moment(params["start_date"], "start_date") if params.get("start_date")
             else end - dt.timedelta(days=DEFAULT_WINDOW_DAYS))
    queryset = queryset.filter(created_at__gte=start, created_at__lte=end)
    rows = list(queryset.select_related("hazard", "area", "duplicate_of__hazard")
                .order_by("-created_at", "-id")[: MAX_RESULTS * 2])
    codes = {c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()}
    statuses = {s.strip() for s in (params.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise ValidationFailed(gettext("status is open or closed."), field="status")
    found = []
    for report in rows:
        if codes and service_of(report).code not in codes:
            continue
        if statuses and public_request(report)["status"] not in statuses:
            continue
        found.append(report)
    return found[:MAX_RESULTS]
