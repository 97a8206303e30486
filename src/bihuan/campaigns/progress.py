"""Progress against a campaign's targets, and the forecast at the current daily rate.

Metric values come from the dashboard's definitions (``bihuan.dashboard.metrics``)
when that module is installed, through :func:`metric_value` only; until then a
plain computation with the same definitions (domain.md) stands in.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef

from bihuan.campaigns.choices import CEILING_METRICS, PERCENT_METRICS, Metric
from bihuan.campaigns.models import Campaign, Target
from bihuan.core import clock

# The daily rate is measured over the last week (or since the start, if shorter).
RATE_WINDOW_DAYS = 7


def _dashboard() -> Any:
    try:
        from bihuan.dashboard import metrics  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return metrics if hasattr(metrics, "figures") else None


# The dashboard's name for each metric (its AreaFigures fields; rates there are 0–1).
DASHBOARD_FIELDS = {
    Metric.COVERAGE: "coverage",
    Metric.CLOSURE_RATE: "closure_rate",
    Metric.ON_TIME_RATE: "on_time_rate",
    Metric.OPEN_MAJOR: "major_open",
}


def metric_value(metric: str, area: Any, day: dt.date, campaign: Campaign) -> float | None:
    """The metric for ``area`` as of ``day`` within ``campaign``: percentages in 0–100.

    The one place that asks the dashboard, so every figure here is the dashboard's.
    """
    dashboard = _dashboard()
    if dashboard is None:
        return _fallback_value(metric, area, day, campaign)
    figures = dashboard.figures(area, day, campaign=campaign)
    value = getattr(figures, DASHBOARD_FIELDS[Metric(metric)])
    if value is None:
        return None
    return float(value) * 100 if metric in PERCENT_METRICS else float(value)


def _fallback_value(metric: str, area: Any, day: dt.date, campaign: Campaign) -> float | None:
    """The same definitions, for an installation without the dashboard app."""
    from bihuan.hazards.choices import OPEN_STATES, HazardState, Severity
    from bihuan.hazards.models import Hazard
    from bihuan.inspections.choices import InspectionKind, InspectionStatus
    from bihuan.inspections.models import Inspection
    from bihuan.places.models import Place

    kinds = campaign.place_kinds or None
    if metric == Metric.COVERAGE:
        places = Place.objects.filter(active=True, area__path__startswith=area.path)
        if kinds:
            places = places.filter(kind__in=kinds)
        total = places.count()
        if not total:
            return None
        visited = Inspection.objects.filter(
            place=OuterRef("pk"), status=InspectionStatus.SUBMITTED,
            started_at__date__gte=campaign.starts_on, started_at__date__lte=day,
        ).exclude(kind=InspectionKind.SELF_CHECK)
        return 100 * places.filter(Exists(visited)).count() / total
    hazards = Hazard.objects.filter(area__path__startswith=area.path,
                                    registered_at__date__gte=campaign.starts_on,
                                    registered_at__date__lte=day)
    if kinds:
        hazards = hazards.filter(place_kind__in=kinds)
    if metric == Metric.OPEN_MAJOR:
        return float(hazards.filter(severity=Severity.MAJOR, state__in=OPEN_STATES).count())
    counted = hazards.exclude(state__in=[HazardState.DISMISSED, HazardState.VOIDED])
    closed = counted.filter(state=HazardState.CLOSED, closed_at__date__lte=day)
    if metric == Metric.CLOSURE_RATE:
        total = counted.count()
        return 100 * closed.count() / total if total else None
    if metric == Metric.ON_TIME_RATE:
        total = closed.count()
        if not total:
            return None
        late = sum(1 for closed_at, deadline in closed.values_list("closed_at", "deadline")
                   if deadline is not None and closed_at is not None
                   and clock_date(closed_at) > deadline)
        return 100 * (total - late) / total
    return None


def clock_date(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date()


@dataclass(frozen=True)
class Forecast:
    current: float | None
    projected: float | None
    will_meet: bool | None
    met: bool | None
    # The day the target is (or would be) reached at the current daily rate.
    reached_on: dt.date | None
    daily_rate: float | None


def _meets(metric: str, value: float | None, target: Decimal) -> bool | None:
    if value is None:
        return None
    if metric in CEILING_METRICS:
        return value <= float(target)
    return value >= float(target)


def forecast(target: Target, area: Any = None, today: dt.date | None = None) -> Forecast:
    """At the current daily rate, will ``target`` be met by the campaign's end?"""
    campaign = target.campaign
    area = area or campaign.area
    today = min(today or clock.today(), campaign.ends_on)
    current = metric_value(target.metric, area, today, campaign)
    met = _meets(target.metric, current, target.value)
    if current is None or today <= campaign.starts_on:
        return Forecast(current, None, None, met, None, None)
    since = max(campaign.starts_on, today - dt.timedelta(days=RATE_WINDOW_DAYS))
    earlier = metric_value(target.metric, area, since, campaign)
    days = (today - since).days
    if earlier is None or days <= 0:
        return Forecast(current, None, None, met, None, None)
    rate = (current - earlier) / days
    remaining = (campaign.ends_on - today).days
    projected = current + rate * remaining
    if target.metric in PERCENT_METRICS:
        projected = max(0.0, min(100.0, projected))
    projected = max(0.0, projected)
    will_meet = _meets(target.metric, projected, target.value)
    reached_on: dt.date | None = None
    if met:
        reached_on = today
    else:
        gap = float(target.value) - current
        if rate and (gap > 0) == (rate > 0):
            # Rounded first: 14.000000001 days of float noise is 14 days.
            reached_on = today + dt.timedelta(days=math.ceil(round(gap / rate, 6)))
    return Forecast(current, projected, will_meet, met, reached_on, rate)


@dataclass(frozen=True)
class AreaProgress:
    area: Any
    values: list[tuple[Target, float | None, bool | None]]


def progress_by_area(campaign: Campaign, today: dt.date | None = None) -> list[AreaProgress]:
    """Each target's current value in each area one level below the campaign's."""
    from bihuan.areas.models import Area

    day = min(today or clock.today(), campaign.ends_on)
    targets = list(campaign.targets.all())
    areas = list(Area.objects.filter(parent=campaign.area).order_by("path"))
    rows = []
    for area in areas:
        values = []
        for target in targets:
            value = metric_value(target.metric, area, day, campaign)
            values.append((target, value, _meets(target.metric, value, target.value)))
        rows.append(AreaProgress(area, values))
    return rows
