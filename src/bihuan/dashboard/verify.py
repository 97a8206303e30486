"""Every dashboard figure, computed again from the raw records and compared.

Two checks, both over every area of the tree:

1. today's figures as the dashboard shows them (``metrics``, from the summary
   rows) against the same definitions evaluated straight on the hazard,
   event, inspection and place tables (overdue through
   ``Hazard.objects.overdue()``, the one definition of the loop);
2. every summary row, past and future days included, against a replay of
   every hazard's event history and every inspection (the trend's source).

``bihuan metrics verify`` prints the differences and exits non-zero on any.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate

from bihuan.areas.models import Area
from bihuan.core import clock
from bihuan.dashboard import metrics, summaries
from bihuan.dashboard.models import COUNTERS, AreaPlaceCount

# Raw counters per (area id, campaign key), named like the summary counters.
RawCells = dict[tuple[int, int], dict[str, int]]


@dataclass(frozen=True)
class Difference:
    where: str
    figure: str
    summary: Any
    raw: Any

    def __str__(self) -> str:
        return f"{self.where}: {self.figure} dashboard={self.summary} raw={self.raw}"


def _add(cells: RawCells, key: tuple[int, int], name: str, amount: int) -> None:
    cell = cells.setdefault(key, {})
    cell[name] = cell.get(name, 0) + amount


def raw_cells(day: dt.date | None = None) -> RawCells:
    """Today's counters from the raw records, per (area, campaign key)."""
    from bihuan.hazards.choices import HazardAction, HazardState, Severity
    from bihuan.hazards.models import Hazard, HazardEvent
    from bihuan.inspections.models import Inspection

    day = day or clock.today()
    cells: RawCells = {}
    hazards = Hazard.objects.all()
    gone = [HazardState.DISMISSED, HazardState.VOIDED]
    open_states = sorted(summaries.OPEN_STATES)

    # On time: the rectification that led to the closure came by the deadline in
    # force (a hazard closed on the spot has none and is on time).
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    last_submit = Subquery(
        HazardEvent.objects.filter(hazard=OuterRef("pk"),
                                   action=HazardAction.SUBMIT_RECTIFICATION)
        .order_by("-seq").annotate(d=TruncDate("at", tzinfo=tz)).values("d")[:1]
    )
    is_open = Q(state__in=open_states)
    is_closed = Q(state=HazardState.CLOSED)
    rows: Any = (
        hazards.annotate(submitted=last_submit).values("area_id", "campaign_id").order_by()
        .annotate(
            found=Count("id", filter=~Q(state__in=gone)),
            open=Count("id", filter=is_open),
            # Overdue by the loop's one definition, Hazard.objects.overdue().
            overdue=Count("id", filter=Q(pk__in=Hazard.objects.overdue(day).values("pk"))),
            major_open=Count("id", filter=is_open & Q(severity=Severity.MAJOR)),
            closed=Count("id", filter=is_closed),
            closed_on_time=Count("id", filter=is_closed & (
                Q(submitted__isnull=True) | Q(deadline__isnull=True)
                | Q(submitted__lte=F("deadline")))),
            look_backs=Sum("look_back_count"),
            recurrences=Sum("recurrence_count"),
        )
    )
    names = ("found", "open", "overdue", "major_open", "closed", "closed_on_time",
             "look_backs", "recurrences")
    for row in rows:
        for name in names:
            _add(cells, (row["area_id"], row["campaign_id"] or 0), name, row[name] or 0)
    # Missed detection, hazard by hazard (there are few cross-inspection findings).
    window = dt.timedelta(days=summaries.missed_window_days())
    checking = (hazards.exclude(state__in=gone)
                .filter(inspection__kind__in=sorted(summaries.CHECKING_KINDS))
                .values_list("area_id", "campaign_id", "place_id", "registered_at"))
    for area_id, campaign_id, place_id, registered_at in checking:
        key = (area_id, campaign_id or 0)
        _add(cells, key, "cross_found", 1)
        local: Any = Inspection.objects.filter(
            place_id=place_id, kind__in=sorted(summaries.LOCAL_KINDS),
            submitted_at__gte=registered_at - window, submitted_at__lt=registered_at,
        ).annotate(n=Count("hazards")).values_list("n", flat=True)
        local_clean = [n for n in local if n == 0]
        if local_clean:
            _add(cells, key, "missed", 1)
    # Coverage: distinct places with an official visit, overall (key 0) and per campaign.
    visits = Inspection.objects.filter(submitted_at__isnull=False).exclude(
        kind__in=sorted(summaries.COVERING_EXCLUDED))
    overall: Any = (visits.values("place__area_id").annotate(n=Count("place", distinct=True))
                    .order_by())
    for row in overall:
        _add(cells, (row["place__area_id"], 0), "covered", row["n"])
    per_campaign: Any = (visits.filter(campaign__isnull=False)
                         .values("place__area_id", "campaign_id")
                         .annotate(n=Count("place", distinct=True)).order_by())
    for row in per_campaign:
        _add(cells, (row["place__area_id"], row["campaign_id"]), "covered", row["n"])
    return cells


def _ancestors(path: str) -> Iterator[str]:
    parts = [p for p in path.split("/") if p]
    for i in range(1, len(parts) + 1):
        yield "/".join(parts[:i]) + "/"


def _raw_by_area(cells: RawCells, campaign_id: int | None, paths: dict[int, str]
                 ) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (area_id, key), cell in cells.items():
        if campaign_id is not None and key != campaign_id:
            continue
        for name, value in cell.items():
            if name == "covered" and campaign_id is None and key != 0:
                continue
            for prefix in _ancestors(paths[area_id]):
                out[prefix][name] += value
    return out


def _dashboard_by_area(root: Area, day: dt.date, campaign: Any) -> dict[str, dict[str, int]]:
    by_path = metrics.counters_by_path(root, day, campaign)
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path, cell in by_path.items():
        for prefix in _ancestors(path):
            for name, value in cell.items():
                out[prefix][name] += value
    return out


FIGURE_OF = {"found": "hazards_found", "covered": "places_inspected", "overdue": "open_overdue"}


def compare_figures(day: dt.date | None = None) -> list[Difference]:
    """Check 1: the dashboard's figures of every area against the raw records."""
    from bihuan.campaigns.models import Campaign

    day = day or clock.today()
    cells = raw_cells(day)
    areas = {a.pk: a for a in Area.objects.all()}
    paths = {pk: a.path for pk, a in areas.items()}
    roots = [a for a in areas.values() if a.parent_id is None]
    differences: list[Difference] = []
    campaigns: list[Any] = [None, *Campaign.objects.all()]
    for campaign in campaigns:
        raw = _raw_by_area(cells, campaign.pk if campaign else None, paths)
        shown: dict[str, dict[str, int]] = {}
        for root in roots:
            shown.update(_dashboard_by_area(root, day, campaign))
        label = f" [{campaign.code}]" if campaign else ""
        for area in sorted(areas.values(), key=lambda a: a.path):
            a_raw, a_shown = raw.get(area.path, {}), shown.get(area.path, {})
            for name in sorted(set(a_raw) | set(a_shown)):
                if a_raw.get(name, 0) != a_shown.get(name, 0):
                    differences.append(Difference(
                        f"{area.path}{label}", FIGURE_OF.get(name, name),
                        a_shown.get(name, 0), a_raw.get(name, 0)))
    # The figure functions themselves (the dashboard's path: rows grouped by child,
    # pieces from the cache), for the roots and their children.
    raw_all = _raw_by_area(cells, None, paths)
    for root in roots:
        top, ranking = metrics.overview(root, day)
        shown_figures = [(root, "figures()", metrics.figures(root, day)), (root, "overview()", top)]
        shown_figures += [(row.area, "overview() child", row.figures) for row in ranking]
        for area, where, figures in shown_figures:
            raw_area = raw_all.get(area.path, {})
            for name, figure in (("found", "hazards_found"), ("open", "open"),
                                 ("overdue", "open_overdue"), ("closed", "closed"),
                                 ("covered", "places_inspected")):
                if getattr(figures, figure) != raw_area.get(name, 0):
                    differences.append(Difference(area.path, f"{where}.{figure}",
                                                  getattr(figures, figure),
                                                  raw_area.get(name, 0)))
    return differences


def compare_rows() -> list[Difference]:
    """Check 2: every summary row against the replay of the raw history."""
    deltas: summaries.Deltas = {}
    differences: list[Difference] = []
    # Contributions batch by batch (the replay streams them), against the stored rows.
    for contributions in summaries.replay_hazards(deltas):
        stored = summaries.stored_contributions(contributions[0][0], contributions[-1][0])
        for pk, contribution in contributions:
            if stored.get(pk) != contribution:
                differences.append(Difference(f"hazard {pk}", "contribution", stored.get(pk),
                                              contribution))
    summaries.book_coverage(deltas, summaries.first_inspections())
    want_days, want_totals = summaries.normalised(deltas)
    have_days, have_totals = summaries.table_contents()
    for key in sorted(set(want_days) | set(have_days), key=str):
        if want_days.get(key, {}) != have_days.get(key, {}):
            differences.append(Difference(f"day row {key}", "counters",
                                          have_days.get(key, {}), want_days.get(key, {})))
    for total_key in sorted(set(want_totals) | set(have_totals), key=str):
        if want_totals.get(total_key, {}) != have_totals.get(total_key, {}):
            differences.append(Difference(f"total row {total_key}", "counters",
                                          have_totals.get(total_key, {}),
                                          want_totals.get(total_key, {})))
    counted = {(row.area_id, row.kind): row.places
               for row in AreaPlaceCount.objects.all() if row.places}
    for place_key, n in sorted(summaries.place_counts().items()):
        if counted.pop(place_key, 0) != n:
            differences.append(Difference(f"places {place_key}", "places",
                                          counted.get(place_key, 0), n))
    for place_key, n in counted.items():
        differences.append(Difference(f"places {place_key}", "places", n, 0))
    return differences


def verify(day: dt.date | None = None) -> list[Difference]:
    return compare_figures(day) + compare_rows()


def quick_differences(day: dt.date | None = None) -> list[Difference]:
    """Check 1 for the whole installation only (every area summed): a few queries,
    for a test to run after every step; :func:`verify` checks every area."""
    from django.db.models import Case, IntegerField, Value, When

    from bihuan.dashboard.models import AreaDayStats, AreaStats

    day = day or clock.today()
    raw: dict[str, int] = defaultdict(int)
    for (_area, key), cell in raw_cells(day).items():
        for name, value in cell.items():
            if name != "covered" or key == 0:
                raw[name] += value
    aggs: dict[str, Any] = {c: Sum(c) for c in COUNTERS if c != "covered"}
    aggs["covered"] = Sum(Case(When(campaign_key=0, then=F("covered")), default=Value(0),
                               output_field=IntegerField()))
    totals = AreaStats.objects.aggregate(**aggs)
    later = AreaDayStats.objects.filter(day__gt=day).aggregate(**aggs)
    differences = []
    for name in COUNTERS:
        shown = (totals[name] or 0) - (later[name] or 0)
        if shown != raw.get(name, 0):
            differences.append(Difference("everywhere", FIGURE_OF.get(name, name), shown,
                                          raw.get(name, 0)))
    return differences
