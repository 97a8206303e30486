"""Citizen reports: filing (public, rate-limited) and triage (officials in scope).

Every change is one function here: validation first, then one transaction with
the write and exactly one audit entry. A refused request writes nothing (not
even the photo file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils.translation import gettext as _

from bihuan.accounts.choices import Role
from bihuan.accounts.scopes import scope_of
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.audit import services as audit
from bihuan.checklists.choices import ChecklistStatus
from bihuan.checklists.models import ChecklistItem
from bihuan.core import clock
from bihuan.core.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import EvidenceKind, HazardSource
from bihuan.hazards.models import Hazard
from bihuan.hazards.rules import FIELD
from bihuan.places.models import Place
from bihuan.places.services import LAT_RANGE, LON_RANGE
from bihuan.reports.choices import ReportStatus
from bihuan.reports.geo import bounding_box, haversine_m
from bihuan.reports.models import CitizenReport, new_ticket

# The same bound as hazard evidence: an accepted report's photo becomes the hazard's
# "before" photo without a second upload.
MAX_PHOTO_BYTES = hazard_services.MAX_EVIDENCE_BYTES
MAX_DESCRIPTION = 1000
# Reports this close to each other are shown to the triaging official as possible duplicates.
DUPLICATE_RADIUS_M = 100.0
# Places this close to a located report are offered first when it is accepted.
PLACE_RADIUS_M = 300.0


def rate_limits() -> tuple[int, int]:
    """(per hour, per day) reports from one client address."""
    return (int(getattr(settings, "BIHUAN_REPORTS_PER_HOUR", 3)),
            int(getattr(settings, "BIHUAN_REPORTS_PER_DAY", 10)))


def hash_client_address(client_ip: str | None) -> str:
    """A keyed hash of the client address: rate limiting without storing the address."""
    key = f"bihuan.reports.client:{settings.SECRET_KEY}".encode()
    return hmac.new(key, (client_ip or "unknown").encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- where a report falls


def _city_prefix() -> str:
    city = Area.objects.filter(code=settings.BIHUAN_CITY_CODE).values_list("path", flat=True)
    return city.first() or ""


def town_choices() -> list[Area]:
    """The towns and subdistricts a reporter may pick when the phone gives no location."""
    return list(
        Area.objects.filter(level=AreaLevel.TOWN, path__startswith=_city_prefix())
        .order_by("code")
    )


def locate_area(latitude: Decimal, longitude: Decimal) -> Area | None:
    """The village or town whose centre is nearest, among areas with coordinates;
    ``None`` when none is within ``BIHUAN_REPORT_AREA_MAX_KM`` (the point is elsewhere)."""
    max_m = float(getattr(settings, "BIHUAN_REPORT_AREA_MAX_KM", 20)) * 1000
    rows = Area.objects.filter(
        level__in=[AreaLevel.VILLAGE, AreaLevel.TOWN], path__startswith=_city_prefix(),
        latitude__isnull=False, longitude__isnull=False,
    ).values_list("pk", "latitude", "longitude", "path")
    best: tuple[float, int, str, int] | None = None
    for pk, lat, lon, path in rows:
        if lat is None or lon is None:
            continue
        # On a tie, the deeper area (a village rather than its town) wins.
        key = (haversine_m(latitude, longitude, lat, lon), -path.count("/"), path, pk)
        if best is None or key < best:
            best = key
    if best is None or best[0] > max_m:
        return None
    return Area.objects.get(pk=best[3])


def _resolve_area(latitude: Decimal | None, longitude: Decimal | None,
                  town: Area | int | None) -> Area:
    town_obj: Area | None = None
    if town is not None:
        town_id = town.pk if isinstance(town, Area) else town
        town_obj = Area.objects.filter(pk=town_id, level=AreaLevel.TOWN,
                                       path__startswith=_city_prefix()).first()
        if town_obj is None:
            raise ValidationFailed(_("Choose a town or subdistrict from the list."),
                                   field="town")
    located = locate_area(latitude, longitude) if latitude is not None and longitude is not None \
        else None
    if town_obj is not None:
        # The reporter's choice stands; the location only makes it more precise.
        if located is not None and located.path.startswith(town_obj.path):
            return located
        return town_obj
    if located is not None:
        return located
    if latitude is not None:
        raise ValidationFailed(
            _("Your location is outside the area this service covers. Choose the town or "
              "subdistrict instead."),
            field="town",
        )
    raise ValidationFailed(
        _("Use your location, or choose the town or subdistrict where the hazard is."),
        field="town",
    )


def _coordinate(value: Any, low: Decimal, high: Decimal) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("The location could not be read."), field="latitude") from None
    if not low <= number <= high:
        raise ValidationFailed(_("The location is outside China."), field="latitude")
    return number


# ---------------------------------------------------------------- filing


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes
    sha256: str
    taken_at: dt.datetime | None
    latitude: Decimal | None
    longitude: Decimal | None


def _check_photo(content: bytes | None) -> CheckedPhoto | None:
    if not content:
        return None
    from bihuan.core import images

    try:
        info = images.validate_image(content, max_bytes=MAX_PHOTO_BYTES)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field="photo") from error

    def dec(value: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))

    return CheckedPhoto(content=content, sha256=hashlib.sha256(content).hexdigest(),
                        taken_at=info.taken_at, latitude=dec(info.latitude),
                        longitude=dec(info.longitude))


def _serialise_reporter(ip_hash: str) -> None:
    """Two reports from one address at the same instant must not both pass the count.

    SQLite takes the database write lock at BEGIN (``transaction_mode`` IMMEDIATE);
    PostgreSQL gets a transaction-scoped advisory lock keyed by the address hash.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(ip_hash[:15], 16)])


def _check_rate(ip_hash: str) -> None:
    per_hour, per_day = rate_limits()
    now = clock.now()
    mine = CitizenReport.objects.filter(reporter_ip_hash=ip_hash)
    if mine.filter(created_at__gt=now - dt.timedelta(hours=1)).count() >= per_hour:
        raise ValidationFailed(
            _("You have already sent %(limit)d reports in the last hour. Please try again "
              "later; in an emergency call 119.") % {"limit": per_hour}
        )
    if mine.filter(created_at__gt=now - dt.timedelta(days=1)).count() >= per_day:
        raise ValidationFailed(
            _("You have already sent %(limit)d reports today. Please try again tomorrow; in "
              "an emergency call 119.") % {"limit": per_day}
        )


@transaction.atomic
def file_report(
    *,
    description: str,
    photo: bytes | None = None,
    latitude: Any = None,
    longitude: Any = None,
    place_description: str = "",
    contact: str = "",
    town: Area | int | None = None,
    client_ip: str | None = None,
) -> CitizenReport:
    """A citizen reports a hazard, without an account. Returns the report (its ticket)."""
    ip_hash = hash_client_address(client_ip)
    # Held until commit: the count below and the insert are one step per address.
    _serialise_reporter(ip_hash)
    _check_rate(ip_hash)
    description = (description or "").strip()
    if not description:
        raise ValidationFailed(_("Describe what you saw."), field="description")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            _("Please keep the description under %(n)d characters.") % {"n": MAX_DESCRIPTION},
            field="description",
        )
    lat = _coordinate(latitude, *LAT_RANGE)
    lon = _coordinate(longitude, *LON_RANGE)
    if (lat is None) != (lon is None):
        raise ValidationFailed(_("The location could not be read."), field="latitude")
    place_description = (place_description or "").strip()[:300]
    contact = (contact or "").strip()
    if len(contact) > 100:
        raise ValidationFailed(_("The contact is too long."), field="contact")
    area = _resolve_area(lat, lon, town)
    checked = _check_photo(photo)
    report = CitizenReport(
        ticket=_unused_ticket(), description=description, latitude=lat, longitude=lon,
        place_description=place_description, contact=contact, area=area,
        status=ReportStatus.NEW, reporter_ip_hash=ip_hash, created_at=clock.now(),
    )
    if checked is not None:
        report.photo_sha256 = checked.sha256
        report.photo_taken_at = checked.taken_at
        report.photo_latitude = checked.latitude
        report.photo_longitude = checked.longitude
        report.photo.save(checked.sha256, ContentFile(checked.content), save=False)
    report.save(force_insert=True)
    # Personal data (contact, address hash) stays out of the audit trail.
    audit.record("report.file", actor=None, obj=report,
                 data={"ticket": report.ticket, "area": area.code, "photo": checked is not None,
                       "located": lat is not None})
    return report


def _unused_ticket() -> str:
    for _attempt in range(10):
        ticket = new_ticket()
        if not CitizenReport.objects.filter(ticket=ticket).exists():
            return ticket
    raise RuntimeError("no unused ticket after 10 attempts")  # 40 random bits: never


def find_by_ticket(ticket: str) -> CitizenReport | None:
    """The public lookup: the ticket is the only key (case and spaces forgiven)."""
    normalised = (ticket or "").strip().upper().replace(" ", "")
    if not normalised:
        return None
    return (
        CitizenReport.objects.select_related("hazard", "hazard__area", "area",
                                             "duplicate_of__hazard")
        .filter(ticket=normalised).first()
    )


# ---------------------------------------------------------------- triage


def _lock(report: CitizenReport | int, actor: Any) -> CitizenReport:
    report_id = report.pk if isinstance(report, CitizenReport) else report
    # The row lock serialises triage: two officials acting on one report at once queue
    # here, and the second is told the report was already triaged.
    queryset = (
        CitizenReport.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("area")
    )
    try:
        return queryset.get(pk=report_id)
    except (CitizenReport.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _check_role(actor: Any, report: CitizenReport, roles: frozenset[str]) -> str:
    grants = scope_of(actor).grants_for(report.area.path, "")
    usable = [g.role for g in grants if g.role in roles]
    if not usable:
        raise PermissionDenied()
    return usable[0]


def _require_new(report: CitizenReport) -> None:
    if report.status != ReportStatus.NEW:
        raise TransitionNotAllowed(
            _("This report was already triaged (“%(status)s”).")
            % {"status": ReportStatus(report.status).label}
        )


def _finish(report: CitizenReport, actor: Any, status: str, **fields: Any) -> None:
    report.status = status
    report.triaged_by = actor
    report.triaged_at = clock.now()
    for name, value in fields.items():
        setattr(report, name, value)
    report.save(update_fields=["status", "triaged_by", "triaged_at", *fields])


def item_for_code(place: Place, code: str) -> ChecklistItem | None:
    """The checklist item with ``code`` in an active checklist for the place's kind."""
    code = (code or "").strip().upper()
    if not code:
        return None
    for item in ChecklistItem.objects.filter(
        code=code, checklist__status=ChecklistStatus.ACTIVE
    ).select_related("checklist", "deadline_rule"):
        if place.kind in (item.checklist.place_kinds or []):
            return item
    raise ValidationFailed(
        _("Hazard code %(code)s is not in a checklist for this kind of place.") % {"code": code},
        field="item_code",
    )


@transaction.atomic
def triage_accept(
    *,
    actor: Any,
    report: CitizenReport | int,
    place: Place | int,
    item: ChecklistItem | None = None,
    description: str = "",
    client_ip: str | None = None,
) -> Hazard:
    """Accept the report as a hazard at ``place``: it starts ``reported`` (待核实) and an
    official confirms it on site through the normal loop. The reporter's photo becomes
    the hazard's "before" photo."""
    r = _lock(report, actor)
    _require_new(r)
    role = _check_role(actor, r, FIELD)
    if item is not None:
        place_obj = place if isinstance(place, Place) else Place.objects.filter(pk=place).first()
        if place_obj is None or place_obj.kind not in (item.checklist.place_kinds or []):
            raise ValidationFailed(_("This hazard code does not apply to this kind of place."),
                                   field="item_code")
    evidence = []
    if r.photo:
        with r.photo.open("rb") as handle:
            content = handle.read()
        evidence.append(hazard_services.EvidenceFile(
            content=content, kind=EvidenceKind.BEFORE, name="report.jpg",
            taken_at=r.photo_taken_at,
            latitude=float(r.photo_latitude) if r.photo_latitude is not None else None,
            longitude=float(r.photo_longitude) if r.photo_longitude is not None else None,
        ))
    hazard = hazard_services.register_hazard(
        actor=actor, place=place, item=item,
        description=(description or "").strip() or (r.description if item is None else ""),
        source=HazardSource.CITIZEN_REPORT, evidence=evidence, client_ip=client_ip,
    )
    _finish(r, actor, ReportStatus.ACCEPTED, hazard=hazard)
    audit.record("report.accept", actor=actor, obj=r, client_ip=client_ip,
                 data={"ticket": r.ticket, "hazard": hazard.pk, "place": hazard.place_id,
                       "role": role})
    return hazard


@transaction.atomic
def triage_dismiss(
    *, actor: Any, report: CitizenReport | int, reason: str, client_ip: str | None = None,
) -> CitizenReport:
    """Dismiss the report with a reason the reporter will read."""
    r = _lock(report, actor)
    _require_new(r)
    # The same people who may dismiss a reported hazard (not a grid worker alone).
    role = _check_role(actor, r, FIELD - {Role.GRID_WORKER})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required for this action."), field="reason")
    _finish(r, actor, ReportStatus.DISMISSED, outcome_reason=reason)
    audit.record("report.dismiss", actor=actor, obj=r, client_ip=client_ip,
                 data={"ticket": r.ticket, "reason": reason, "role": role})
    return r


@transaction.atomic
def mark_duplicate(
    *, actor: Any, report: CitizenReport | int, of: CitizenReport | int,
    client_ip: str | None = None,
) -> CitizenReport:
    """The report describes the same hazard as ``of``: its reporter follows that one."""
    r = _lock(report, actor)
    _require_new(r)
    role = _check_role(actor, r, FIELD)
    of_id = of.pk if isinstance(of, CitizenReport) else of
    original = CitizenReport.objects.visible_to(actor).filter(pk=of_id).first()
    if original is None:
        raise NotFound()
    # Point at the first report of the chain, never at another duplicate.
    seen: set[int] = set()
    while original.duplicate_of_id is not None and original.pk not in seen:
        seen.add(original.pk)
        original = CitizenReport.objects.get(pk=original.duplicate_of_id)
    if original.pk == r.pk:
        raise ValidationFailed(_("A report cannot be a duplicate of itself."), field="of")
    _finish(r, actor, ReportStatus.DUPLICATE, duplicate_of=original)
    audit.record("report.duplicate", actor=actor, obj=r, client_ip=client_ip,
                 data={"ticket": r.ticket, "of": original.ticket, "role": role})
    return r


# ---------------------------------------------------------------- reading helpers


def nearby_open_reports(
    report: CitizenReport, actor: Any, radius_m: float = DUPLICATE_RADIUS_M
) -> list[tuple[CitizenReport, float]]:
    """Other open reports within ``radius_m`` the actor can see, nearest first."""
    if report.latitude is None or report.longitude is None:
        return []
    lat_min, lat_max, lon_min, lon_max = bounding_box(report.latitude, report.longitude,
                                                      radius_m)
    candidates = (
        CitizenReport.objects.open().visible_to(actor)
        .filter(latitude__range=(lat_min, lat_max), longitude__range=(lon_min, lon_max))
        .exclude(pk=report.pk)
        .select_related("hazard", "area")
    )
    found = []
    for other in candidates:
        assert other.latitude is not None and other.longitude is not None
        distance = haversine_m(report.latitude, report.longitude, other.latitude,
                               other.longitude)
        if distance <= radius_m:
            found.append((other, distance))
    return sorted(found, key=lambda pair: (pair[1], -pair[0].pk))


def place_choices(report: CitizenReport, actor: Any, limit: int = 200) -> list[Place]:
    """Places an official may attach the report to: near its location first, then the
    places of its area."""
    visible = Place.objects.visible_to(actor).filter(active=True).select_related("area")
    chosen: list[Place] = []
    if report.latitude is not None and report.longitude is not None:
        lat_min, lat_max, lon_min, lon_max = bounding_box(report.latitude, report.longitude,
                                                          PLACE_RADIUS_M)
        near = visible.filter(latitude__range=(lat_min, lat_max),
                              longitude__range=(lon_min, lon_max))
        chosen = sorted(
            near,
            key=lambda p: haversine_m(report.latitude or 0, report.longitude or 0,
                                      p.latitude or 0, p.longitude or 0),
        )[:limit]
    seen = {p.pk for p in chosen}
    rest = visible.filter(area__path__startswith=report.area.path).exclude(pk__in=seen)
    chosen.extend(rest.order_by("name", "id")[: max(0, limit - len(chosen))])
    return chosen
