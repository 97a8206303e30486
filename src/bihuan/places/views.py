"""Place pages: search (by name, address or nearby), a place's page and its QR plate.

Every lookup goes through ``Place.objects.visible_to(request.user)``: a place
out of scope is a 404, exactly like a missing one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import segno
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.scopes import scope_of
from bihuan.core import clock, exports
from bihuan.core.masking import may_see_personal_data, phone_for
from bihuan.core.pagination import keyset_page
from bihuan.hazards.choices import OPEN_STATES
from bihuan.hazards.models import Hazard
from bihuan.hazards.views import export_links, url_if_exists
from bihuan.inspections.models import Inspection
from bihuan.places.choices import PlaceKind
from bihuan.places.filters import PlaceFilterSet
from bihuan.places.forms import PlaceSearchForm
from bihuan.places.models import Place

PAGE_SIZE = 30
# "Nearby" looks in growing boxes until it has enough places (metres).
NEARBY_RADII = (250, 1000, 5000, 25000)
NEARBY_LIMIT = 30
# At most this many rows are read from one box (a dense block of rental houses).
NEARBY_SCAN = 2000
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_320.0
CLOSED_SHOWN = 20


def is_official(user: Any) -> bool:
    return bool(scope_of(user).roles() & set(OFFICIAL_ROLES))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class NearbyPlace:
    place: Place
    distance: float


def nearby(queryset: Any, lat: float, lon: float) -> list[NearbyPlace]:
    """The nearest places of ``queryset``: a bounding box in SQL, the exact order in Python."""
    found: list[NearbyPlace] = []
    for radius in NEARBY_RADII:
        dlat = radius / METRES_PER_DEGREE
        dlon = radius / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
        box = queryset.filter(
            latitude__range=(Decimal(f"{lat - dlat:.6f}"), Decimal(f"{lat + dlat:.6f}")),
            longitude__range=(Decimal(f"{lon - dlon:.6f}"), Decimal(f"{lon + dlon:.6f}")),
        )
        found = []
        for place in box[:NEARBY_SCAN]:
            distance = haversine_m(lat, lon, float(place.latitude), float(place.longitude))
            # The box's corners reach further than the radius: keep the circle only, so
            # everything outside it is known to be further than everything inside.
            if distance <= radius:
                found.append(NearbyPlace(place, distance))
        if len(found) >= NEARBY_LIMIT:
            break
    found.sort(key=lambda item: (item.distance, item.place.pk))
    return found[:NEARBY_LIMIT]


# The place export reads plain rows (no model instances: a million of them cost minutes).
PLACE_EXPORT_FIELDS = ("name", "kind", "area__name", "address", "latitude", "longitude",
                       "party__name", "party__phone", "created_at")


def place_export_columns(user: Any) -> list[exports.Column]:
    # Decided once per export, not per row: the party's phone is personal data.
    unmasked = may_see_personal_data(user)
    kinds = {value: str(label) for value, label in PlaceKind.choices}
    return [
        exports.Column(_("Name"), lambda p: p["name"]),
        exports.Column(_("Kind"), lambda p: kinds.get(p["kind"], p["kind"])),
        exports.Column(_("Area"), lambda p: p["area__name"]),
        exports.Column(_("Address"), lambda p: p["address"]),
        exports.Column(_("Latitude"), lambda p: p["latitude"]),
        exports.Column(_("Longitude"), lambda p: p["longitude"]),
        exports.Column(_("Responsible party"), lambda p: p["party__name"] or ""),
        exports.Column(_("Phone"), lambda p: phone_for(user, p["party__phone"],
                                                       unmasked=unmasked)),
        exports.Column(_("Registered at"), lambda p: p["created_at"]),
    ]


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponseBase:
    form = PlaceSearchForm(request.GET or None)
    queryset = Place.objects.visible_to(request.user).filter(active=True).select_related("area")
    if form.is_bound and form.is_valid():
        terms = {k: form.cleaned_data[k] for k in ("q", "kind") if form.cleaned_data.get(k)}
        queryset = PlaceFilterSet(terms, queryset=queryset).qs
    fmt = exports.requested_format(request)
    if fmt is not None:
        # The file holds exactly what the list shows: same scope, same filters, all pages.
        return exports.export_response(
            request, queryset=queryset.order_by("name", "id").values(*PLACE_EXPORT_FIELDS),
            columns=place_export_columns(request.user), list_name="places",
            filename="places", fmt=fmt,
        )
    position = form.position() if form.is_bound else None
    data = request.GET.copy()
    data.pop("cursor", None)
    context: dict[str, Any] = {"form": form, "position": position,
                               "export_urls": export_links(data)}
    if position is not None:
        context["nearby"] = nearby(queryset, *position)
    else:
        data = request.GET.copy()
        data.pop("cursor", None)
        page = keyset_page(queryset, ("name", "id"), request.GET.get("cursor"), PAGE_SIZE)
        context.update(places=page.items, next_url=page.link(data, page.next_cursor),
                       previous_url=page.link(data, page.previous_cursor))
    return render(request, "places/search.html", context)


def visible_place(request: HttpRequest, pk: int) -> Place:
    queryset = Place.objects.visible_to(request.user).select_related("area", "party")
    try:
        return queryset.get(pk=pk)
    except Place.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def place_detail(request: HttpRequest, pk: int) -> HttpResponse:
    place = visible_place(request, pk)
    hazards = Hazard.objects.visible_to(request.user).filter(place=place).select_related("area")
    open_hazards = list(hazards.filter(state__in=sorted(OPEN_STATES)).order_by("deadline", "id"))
    closed = hazards.exclude(state__in=sorted(OPEN_STATES)).order_by("-registered_at", "-id")
    closed_hazards = list(closed[: CLOSED_SHOWN + 1])
    today = clock.today()
    inspections = list(
        Inspection.objects.visible_to(request.user).filter(place=place)
        .select_related("inspector").order_by("-started_at", "-id")[:20]
    )
    return render(request, "places/detail.html", {
        "place": place,
        "open_hazards": [(h, h.is_overdue(today)) for h in open_hazards],
        "closed_hazards": [(h, False) for h in closed_hazards[:CLOSED_SHOWN]],
        "more_closed": len(closed_hazards) > CLOSED_SHOWN,
        "inspections": inspections,
        "is_official": is_official(request.user),
        "hazards_url": f"{reverse('hazards:list')}?place={place.pk}",
    })


def plate_url(request: HttpRequest, place: Place) -> str:
    """What the plate's QR code says: the absolute address of the place's token."""
    return request.build_absolute_uri(reverse("places:by_token", args=[place.qr_token]))


@login_required
@require_GET
def qr_plate(request: HttpRequest, pk: int) -> HttpResponse:
    """一户一码: a printable plate whose QR code opens the place for whoever scans it."""
    place = visible_place(request, pk)
    target = plate_url(request, place)
    svg = segno.make(target, error="m").svg_inline(border=2, omitsize=True)
    return render(request, "places/qr.html", {
        "place": place,
        "target": target,
        # segno writes the SVG from our own URL: no user input reaches the markup.
        "qr_svg": mark_safe(svg),  # noqa: S308
    })


def _has_portal_session(request: HttpRequest) -> bool:
    """Whether the portal knows this visitor as a party (a login or a party link)."""
    if request.user.is_authenticated:
        return True
    try:
        from bihuan.portal.views import portal_access
    except ImportError:
        return False
    return portal_access(request) is not None


@require_GET
def by_token(request: HttpRequest, token: str) -> HttpResponse:
    """A scanned plate: an official goes to the place's page, anyone else to the portal.

    Someone not yet known is asked to log in first and comes back here, so an
    official scanning with a fresh browser still lands on the place's page.
    """
    user = request.user
    if user.is_authenticated and is_official(user):
        place = Place.objects.visible_to(user).filter(qr_token=token).first()
        if place is None:
            raise Http404
        return redirect("places:detail", pk=place.pk)
    if not _has_portal_session(request):
        return redirect_to_login(request.get_full_path())
    # The token is printed on the door: it names the place, nothing more. The portal
    # decides what this visitor may see of it (its own places only).
    place_pk = Place.objects.filter(qr_token=token).values_list("pk", flat=True).first()
    if place_pk is None:
        raise Http404
    portal = url_if_exists("portal:place", place_pk)
    if portal is not None:
        return redirect(portal)
    return redirect("home")
