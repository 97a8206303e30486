"""The command dashboard: figures, trend, map, lists and ranking of an area.

Only areas under the user's area roles (:func:`metrics.visible_areas`); any
other area is a 404, exactly as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bihuan.areas.models import Area
from bihuan.core import clock
from bihuan.dashboard import charts, metrics

TREND_DAYS = 30


def _area_or_404(user: Any, code: str) -> Area:
    area = metrics.visible_areas(user).filter(code=code).first()
    if area is None:
        raise Http404
    return area


def _campaigns(user: Any) -> list[Any]:
    from bihuan.campaigns.models import Campaign

    return list(Campaign.objects.visible_to(user).order_by("-starts_on", "code"))


def _campaign(request: HttpRequest, choices: list[Any], day: dt.date) -> Any:
    """The campaign asked for (``?campaign=<id>``, ``all`` for none), else the one running."""
    wanted = request.GET.get("campaign", "")
    if wanted == "all":
        return None
    if wanted:
        for campaign in choices:
            if str(campaign.pk) == wanted:
                return campaign
        raise Http404
    running = [c for c in choices if c.starts_on <= day <= c.ends_on]
    return running[0] if running else None


def _day(request: HttpRequest) -> dt.date:
    today = clock.today()
    raw = request.GET.get("day", "")
    if not raw:
        return today
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return today
    return min(day, today)


def _breadcrumbs(user: Any, area: Area) -> list[Area]:
    """The area's ancestors the user may open, then the area itself."""
    if area.parent_id is None:
        return [area]  # the user may open it (checked already), and it has no ancestors
    codes = [c for c in area.path.split("/") if c]
    visible = {a.code: a for a in metrics.visible_areas(user).filter(code__in=codes)}
    return [visible[c] for c in codes if c in visible]


def _query(campaign: Any, day: dt.date, today: dt.date) -> str:
    parts = []
    parts.append(f"campaign={campaign.pk if campaign else 'all'}")
    if day != today:
        parts.append(f"day={day.isoformat()}")
    return "?" + "&".join(parts)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard of the widest area the user holds a role in."""
    top = metrics.visible_areas(request.user).order_by("path").first()
    if top is None:
        raise Http404
    return redirect("dashboard:area", code=top.code)


@login_required
def area_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    area = _area_or_404(user, code)
    today = clock.today()
    day = _day(request)
    campaigns = _campaigns(user)
    campaign = _campaign(request, campaigns, day)
    figures, ranking = metrics.overview(area, day, campaign)
    start = day - dt.timedelta(days=TREND_DAYS - 1)
    if campaign is not None and campaign.starts_on > start:
        start = min(campaign.starts_on, day)
    points = metrics.trend(area, start, day, campaign, at_end=figures)
    series_labels = {"found": _("Found"), "closed": _("Closed (net)"), "open": _("Open"),
                     "overdue": _("Overdue")}
    title = _("Daily trend, %(start)s to %(end)s") % {"start": start, "end": day}

    def trend_chart() -> str:  # drawn only when the cached fragment is missing
        return charts.trend_svg(points, series_labels, title)

    query = _query(campaign, day, today)
    overdue = metrics.longest_overdue_rows(user, area, day)
    major = metrics.major_hazard_rows(user, area)
    context = {
        "area": area,
        "breadcrumbs": _breadcrumbs(user, area),
        "day": day,
        "today": today,
        "campaign": campaign,
        "campaigns": campaigns,
        "figures": figures,
        "ranking": ranking,
        "components": list(metrics.COMPONENT_LABELS.items()),
        "trend": points,
        "trend_chart": trend_chart,
        "major": major,
        "overdue": overdue,
        "fragments": _fragment_keys(points, title, ranking, major, overdue, query),
        "fragment_timeout": FRAGMENT_TIMEOUT,
        "query": query,
        "map_json": reverse("dashboard:map_json", args=[area.code]),
        "map_svg": reverse("dashboard:map_svg", args=[area.code]),
        "tiles": getattr(settings, "BIHUAN_MAP_TILES", "") or "",
        "tiles_attribution": getattr(settings, "BIHUAN_MAP_ATTRIBUTION", "") or "",
    }
    return render(request, "dashboard/area.html", context)


# Rendered parts of the page are cached under a digest of exactly what they show
# (and the language): a changed figure is a new key, so nothing stale is ever
# served, and an unchanged table is not rendered again. Bump the version when
# the markup of a cached part changes.
FRAGMENT_VERSION = 1
FRAGMENT_TIMEOUT = 10 * 60


def _fragment_keys(points: list[metrics.TrendPoint], title: str,
                   ranking: list[metrics.RankingRow], major: list[metrics.HazardRow],
                   overdue: list[metrics.HazardRow], query: str) -> dict[str, str]:
    """The digest of what each cached part of the page shows."""
    def key(*parts: Any) -> str:
        return metrics.digest(FRAGMENT_VERSION, get_language(), *parts)

    return {
        "trend": key("trend", title, points),
        "ranking": key("ranking", query, [
            (r.rank, r.area.code, str(r.area), r.score, sorted(r.components.items()),
             sorted(r.raw.items()), r.places_per_inspector, r.figures.places,
             r.figures.hazards_found, r.figures.open_overdue) for r in ranking]),
        "major": key("major", major),
        "overdue": key("overdue", overdue),
    }


def _outlines(area: Area) -> list[dict[str, Any]]:
    """Each child's outline: the convex hull of its places (areas carry no boundaries).

    Reading every place of a city and drawing the hulls is the map's cost; the
    result is cached under what it is drawn from: the children as they are and
    the place-count stamps, which any place created, moved, closed or deleted
    renews (``metrics.places_stamp``).
    """
    from bihuan.places.models import Place

    children = metrics.children_of(area) or [area]
    key = "dashboard:outlines:" + metrics.digest(
        "outlines", area.pk, area.path, metrics.places_stamp(),
        [(c.pk, c.code, str(c), c.path, c.latitude, c.longitude) for c in children])
    cached = cache.get(key)
    if cached is not None:
        return [dict(outline) for outline in cached]
    coords: dict[int, list[tuple[float, float]]] = defaultdict(list)
    rows = (Place.objects.filter(active=True, area__path__startswith=area.path,
                                 latitude__isnull=False, longitude__isnull=False)
            .values_list("area__path", "latitude", "longitude"))
    row: Any
    for row in rows.iterator(chunk_size=5000):
        path, lat, lon = row
        for child in children:
            if path.startswith(child.path):
                coords[child.pk].append((float(lat), float(lon)))
                break
    outlines = []
    for child in children:
        hull = charts.convex_hull(coords.get(child.pk, []))
        centre: tuple[float, float] | None
        if child.latitude is not None and child.longitude is not None:
            centre = (float(child.latitude), float(child.longitude))
        elif hull:
            centre = (sum(p[0] for p in hull) / len(hull), sum(p[1] for p in hull) / len(hull))
        else:
            centre = None
        outlines.append({"code": child.code, "name": str(child), "hull": hull,
                         "centre": centre})
    cache.set(key, outlines, metrics.CACHE_TIMEOUT)
    return [dict(outline) for outline in outlines]


def _map_labels() -> dict[str, str]:
    from bihuan.hazards.choices import Severity

    return {str(value): str(label) for value, label in Severity.choices}


@login_required
def map_json(request: HttpRequest, code: str) -> JsonResponse:
    """The map's data: outlines, open hazards (major first), and the tile source if any."""
    area = _area_or_404(request.user, code)
    outlines = _outlines(area)
    for outline in outlines:
        outline["url"] = reverse("dashboard:area", args=[outline["code"]])
    return JsonResponse({
        "tiles": getattr(settings, "BIHUAN_MAP_TILES", "") or None,
        "attribution": getattr(settings, "BIHUAN_MAP_ATTRIBUTION", "") or "",
        "outlines": outlines,
        "points": metrics.open_hazard_points(request.user, area),
        "labels": _map_labels(),
        "hazard_url": reverse("hazards:detail", args=[0]).replace("/0/", "/{id}/"),
    })


@login_required
def map_svg(request: HttpRequest, code: str) -> HttpResponse:
    """The same map drawn on the server: what shows without JavaScript, and in print."""
    area = _area_or_404(request.user, code)
    svg = charts.map_svg(_outlines(area), metrics.open_hazard_points(request.user, area),
                         _("Open hazards in %(area)s") % {"area": area}, _map_labels())
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response
