"""The metrics of the domain brief, defined once (docs/dashboard.md).

Every figure is read from the summary rows (``bihuan.dashboard.summaries``
keeps them in step with each transition): a dashboard costs a handful of
queries over the areas of the subtree, never a scan of the hazard table.
``bihuan.dashboard.verify`` computes the same figures from the raw records.

Scoping: the figure functions take an area and trust the caller to have
checked it (:func:`visible_areas`); the hazard lists scope themselves with
``Hazard.objects.visible_to(user)``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _

from bihuan.areas.models import Area
from bihuan.dashboard.models import (
    COUNTERS,
    DEFAULT_CREDIBILITY,
    DEFAULT_WEIGHTS,
    WEIGHT_FIELDS,
    AreaDayStats,
    AreaPlaceCount,
    AreaStats,
    RankingWeights,
)

if TYPE_CHECKING:
    from bihuan.campaigns.models import Campaign
    from bihuan.hazards.models import Hazard, HazardQuerySet


def rate(numerator: int, denominator: int) -> float | None:
    """A share in 0..1; None when there is nothing to divide by."""
    if not denominator:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class AreaFigures:
    area: Area
    day: dt.date
    places: int
    places_inspected: int
    coverage: float | None
    hazards_found: int
    hazards_per_100_places: float | None
    closed: int
    closure_rate: float | None
    closed_on_time: int
    on_time_rate: float | None
    open: int
    open_overdue: int
    major_open: int
    recurrences: int
    recurrence_rate: float | None
    missed_detection_rate: float | None
    look_backs: int = 0
    cross_found: int = 0
    missed: int = 0

    def as_counts(self) -> dict[str, int]:
        """The integer figures (what ``verify`` compares)."""
        return {name: getattr(self, name) for name in FIGURE_COUNTS}


FIGURE_COUNTS = ("places", "places_inspected", "hazards_found", "closed", "closed_on_time",
                 "open", "open_overdue", "major_open", "look_backs", "recurrences",
                 "cross_found", "missed")


def build_figures(area: Area, day: dt.date, counters: dict[str, int], places: int
                  ) -> AreaFigures:
    c = defaultdict(int, counters)
    per_100 = None if not places else round(100.0 * c["found"] / places, 4)
    return AreaFigures(
        area=area, day=day, places=places, places_inspected=c["covered"],
        coverage=rate(c["covered"], places), hazards_found=c["found"],
        hazards_per_100_places=per_100, closed=c["closed"],
        closure_rate=rate(c["closed"], c["found"]), closed_on_time=c["closed_on_time"],
        on_time_rate=rate(c["closed_on_time"], c["closed"]), open=c["open"],
        open_overdue=c["overdue"], major_open=c["major_open"], recurrences=c["recurrences"],
        recurrence_rate=rate(c["recurrences"], c["look_backs"]),
        missed_detection_rate=rate(c["missed"], c["cross_found"]),
        look_backs=c["look_backs"], cross_found=c["cross_found"], missed=c["missed"],
    )


# ---------------------------------------------------------------- reading the summary rows


def _aggregates(campaign: Campaign | None) -> dict[str, Any]:
    aggs: dict[str, Any] = {f"s_{c}": Sum(c) for c in COUNTERS if c != "covered"}
    if campaign is None:
        # Row 0's ``covered`` counts every official visit; a campaign's row only its own.
        aggs["s_covered"] = Sum(Case(When(campaign_key=0, then=F("covered")),
                                     default=Value(0), output_field=IntegerField()))
    else:
        aggs["s_covered"] = Sum("covered")
    return aggs


def _filter(area: Area, campaign: Campaign | None) -> Q:
    condition = Q(area__path__startswith=area.path)
    if campaign is not None:
        condition &= Q(campaign_key=campaign.pk)
    return condition


def counters_by_path(area: Area, day: dt.date, campaign: Campaign | None = None
                     ) -> dict[str, dict[str, int]]:
    """Each area's counters at the end of ``day``: its totals minus what changed after."""
    aggs = _aggregates(campaign)
    condition = _filter(area, campaign)
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    totals: Any = AreaStats.objects.filter(condition).values("area__path").annotate(**aggs)
    for row in totals:
        cell = out[row["area__path"]]
        for c in COUNTERS:
            cell[c] += row[f"s_{c}"] or 0
    later: Any = AreaDayStats.objects.filter(condition, day__gt=day).values("area__path")
    for row in later.annotate(**aggs):
        cell = out[row["area__path"]]
        for c in COUNTERS:
            cell[c] -= row[f"s_{c}"] or 0
    return out


def places_by_path(area: Area, campaign: Campaign | None = None) -> dict[str, int]:
    """Active places per area of the subtree (a campaign's place kinds, when it names any)."""
    counts = AreaPlaceCount.objects.filter(area__path__startswith=area.path)
    if campaign is not None and campaign.place_kinds:
        counts = counts.filter(kind__in=campaign.place_kinds)
    rows: Any = counts.values("area__path").annotate(n=Sum("places"))
    return {row["area__path"]: row["n"] or 0 for row in rows}


def _roll_up(values: dict[str, Any], prefix: str) -> Any:
    return [v for path, v in values.items() if path.startswith(prefix)]


def _sum_counters(cells: list[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(COUNTERS, 0)
    for cell in cells:
        for c in COUNTERS:
            total[c] += cell[c]
    return total


def figures(area: Area, day: dt.date, campaign: Campaign | None = None) -> AreaFigures:
    """The area's figures at the end of ``day`` (its whole subtree)."""
    counters = counters_by_path(area, day, campaign)
    places = places_by_path(area, campaign)
    return build_figures(area, day, _sum_counters(list(counters.values())),
                         sum(places.values()))


def child_figures(area: Area, day: dt.date, campaign: Campaign | None = None
                  ) -> list[AreaFigures]:
    """One :class:`AreaFigures` per child area, in the tree's order."""
    return _children(area, day, campaign, counters_by_path(area, day, campaign),
                     places_by_path(area, campaign))


def _children(area: Area, day: dt.date, campaign: Campaign | None,
              counters: dict[str, dict[str, int]], places: dict[str, int]
              ) -> list[AreaFigures]:
    children = list(Area.objects.filter(parent=area).order_by("path"))
    return [
        build_figures(child, day, _sum_counters(_roll_up(counters, child.path)),
                      sum(_roll_up(places, child.path)))
        for child in children
    ]


def overview(area: Area, day: dt.date, campaign: Campaign | None = None
             ) -> tuple[AreaFigures, list[RankingRow]]:
    """The area's figures and the ranking of its children, reading the rows once."""
    counters = counters_by_path(area, day, campaign)
    places = places_by_path(area, campaign)
    figures_ = build_figures(area, day, _sum_counters(list(counters.values())),
                             sum(places.values()))
    rows = _children(area, day, campaign, counters, places)
    if not rows:
        return figures_, []
    weights, k = weights_for(campaign)
    return figures_, score_rows(rows, inspectors_by_child(area), weights, k)


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    found: int     # hazards registered that day (and not since dismissed or voided)
    closed: int    # net change of closed hazards that day (closures less reopenings)
    open: int      # open at the end of the day
    overdue: int   # overdue at the end of the day


def trend(area: Area, start: dt.date, end: dt.date, campaign: Campaign | None = None
          ) -> list[TrendPoint]:
    """One point per day from ``start`` to ``end`` inclusive."""
    if end < start:
        return []
    condition = _filter(area, campaign)
    names = ("found", "closed", "open", "overdue")
    totals = AreaStats.objects.filter(condition).aggregate(
        **{f"s_{n}": Sum(n) for n in names})
    # Counter at the end of day x = total − Σ changes after x; walk back from the newest day.
    rows: Any = (AreaDayStats.objects.filter(condition, day__gte=start)
                 .values("day").annotate(**{f"s_{n}": Sum(n) for n in names}))
    by_day: dict[dt.date, Any] = {row["day"]: row for row in rows}
    level = {n: totals[f"s_{n}"] or 0 for n in names}
    for day, row in by_day.items():
        if day > end:
            for n in names:
                level[n] -= row[f"s_{n}"] or 0
    points: list[TrendPoint] = []
    x = end
    while x >= start:
        row = by_day.get(x)
        change = {n: (row[f"s_{n}"] or 0) if row else 0 for n in names}
        points.append(TrendPoint(day=x, found=change["found"], closed=change["closed"],
                                 open=level["open"], overdue=level["overdue"]))
        for n in names:
            level[n] -= change[n]
        x -= dt.timedelta(days=1)
    points.reverse()
    return points


# ---------------------------------------------------------------- ranking

COMPONENT_LABELS: dict[str, Any] = {
    "coverage": _("Coverage (for workload)"),
    "closure": _("Closure rate"),
    "on_time": _("On-time rate"),
    "overdue": _("Open hazards not overdue"),
    "recurrence": _("Look-backs passed"),
    "missed_detection": _("Hazards not missed"),
}


@dataclass(frozen=True)
class RankingRow:
    area: Area
    figures: AreaFigures
    components: dict[str, float | None]
    score: float
    rank: int
    places_per_inspector: float | None = None
    raw: dict[str, float | None] = field(default_factory=dict)


def weights_for(campaign: Campaign | None) -> tuple[dict[str, float], float]:
    """The campaign's weights (admin), else the default row, else the settings."""
    row = None
    if campaign is not None:
        row = RankingWeights.objects.filter(campaign=campaign).first()
    if row is None:
        row = RankingWeights.objects.filter(campaign__isnull=True).first()
    if row is None:
        return dict(DEFAULT_WEIGHTS), float(DEFAULT_CREDIBILITY)
    return row.as_dict(), float(row.credibility)


def shrink(numerator: float, denominator: float, mean: float, k: float) -> float:
    """Credibility weighting: (n·r + k·m) / (n + k) = Z·r + (1 − Z)·m with Z = n / (n + k).

    An area with few observations (n small) stays near the siblings' mean ``m``;
    one with many keeps its own rate.
    """
    if denominator + k <= 0:
        return mean
    return (numerator + k * mean) / (denominator + k)


# component -> (numerator, denominator, higher is better?)
def _component_counts(f: AreaFigures) -> dict[str, tuple[int, int, bool]]:
    return {
        "coverage": (f.places_inspected, f.places, True),
        "closure": (f.closed, f.hazards_found, True),
        "on_time": (f.closed_on_time, f.closed, True),
        "overdue": (f.open_overdue, f.open, False),
        "recurrence": (f.recurrences, f.look_backs, False),
        "missed_detection": (f.missed, f.cross_found, False),
    }


def inspectors_by_child(parent: Area) -> dict[int, int]:
    """Field people (grid workers, village cadres) holding an active role under each child."""
    from bihuan.accounts.choices import Role
    from bihuan.accounts.models import Membership

    children = list(Area.objects.filter(parent=parent).order_by("path"))
    rows = (Membership.objects.filter(active=True, role__in=[Role.GRID_WORKER,
                                                              Role.VILLAGE_CADRE],
                                      area__path__startswith=parent.path)
            .values_list("area__path", "user_id"))
    people: dict[int, set[int]] = {child.pk: set() for child in children}
    for path, user_id in rows:
        for child in children:
            if path.startswith(child.path):
                people[child.pk].add(user_id)
    return {pk: len(users) for pk, users in people.items()}


def workload_factor(places: int, inspectors: int, mean_load: float | None) -> float:
    """How much heavier than the siblings' a child's load is, dampened and bounded.

    √(clamp(L / L̄, 0.5, 2)) with L = places per inspector (inspectors ≥ 1).
    """
    if not places or not mean_load:
        return 1.0
    load = places / max(inspectors, 1)
    return math.sqrt(min(2.0, max(0.5, load / mean_load)))


def score_rows(rows: list[AreaFigures], inspectors: dict[int, int],
               weights: dict[str, float], k: float) -> list[RankingRow]:
    """Components, score and rank of sibling areas (pure: the tests call it directly)."""
    counts = [_component_counts(f) for f in rows]
    means: dict[str, float | None] = {}
    for name in WEIGHT_FIELDS:
        num = sum(c[name][0] for c in counts)
        den = sum(c[name][1] for c in counts)
        means[name] = None if not den else num / den
    total_places = sum(f.places for f in rows)
    total_people = sum(max(inspectors.get(f.area.pk, 0), 1) for f in rows if f.places)
    mean_load = total_places / total_people if total_people else None
    scored: list[tuple[float, AreaFigures, dict[str, float | None], dict[str, float | None],
                       float | None]] = []
    for f, c in zip(rows, counts, strict=True):
        components: dict[str, float | None] = {}
        raw: dict[str, float | None] = {}
        for name in WEIGHT_FIELDS:
            num, den, higher_better = c[name]
            mean = means[name]
            own = rate(num, den)
            # The raw value in the same orientation as the component (higher is better).
            raw[name] = own if own is None or higher_better else 1.0 - own
            if mean is None:
                components[name] = None
                continue
            value = shrink(num, den, mean, k)
            if name == "coverage":
                value = min(1.0, value * workload_factor(
                    f.places, inspectors.get(f.area.pk, 0), mean_load))
            components[name] = value if higher_better else 1.0 - value
        used = {n: w for n, w in weights.items() if w > 0 and components.get(n) is not None}
        weight_sum = sum(used.values())
        score = (sum(w * (components[n] or 0.0) for n, w in used.items()) / weight_sum
                 if weight_sum else 0.0)
        people = inspectors.get(f.area.pk, 0)
        load = (f.places / people) if people else None
        scored.append((score, f, components, raw, load))
    scored.sort(key=lambda item: (-item[0], item[1].area.path))
    return [
        RankingRow(area=f.area, figures=f, components=components, score=round(score, 6),
                   rank=i, places_per_inspector=load, raw=raw)
        for i, (score, f, components, raw, load) in enumerate(scored, start=1)
    ]


def ranking(campaign: Campaign | None, parent: Area, day: dt.date) -> list[RankingRow]:
    """The children of ``parent`` ranked by the campaign's weighted, shrunk score."""
    rows = child_figures(parent, day, campaign)
    weights, k = weights_for(campaign)
    return score_rows(rows, inspectors_by_child(parent), weights, k)


# ---------------------------------------------------------------- hazard lists and scope


def visible_areas(user: Any) -> QuerySet[Area]:
    """Areas whose dashboard ``user`` may open: the subtrees of its area roles.

    A department inspector's city-wide grant covers some place kinds only, so
    area totals (every kind) are not theirs to see.
    """
    from bihuan.accounts.scopes import scope_of

    return Area.objects.under_any(list(scope_of(user).area_paths))


def _hazards_in(user: Any, area: Area) -> HazardQuerySet:
    from bihuan.hazards.models import Hazard

    queryset: Any = (Hazard.objects.visible_to(user).filter(area__path__startswith=area.path)
                     .select_related("place", "area"))
    return queryset  # type: ignore[no-any-return]


def major_hazards(user: Any, area: Area, limit: int = 20) -> list[Hazard]:
    """Open major hazards, then open candidates, oldest deadline first."""
    from bihuan.hazards.choices import Severity

    # Two ordered reads instead of one ORDER BY CASE: each walks the partial index
    # ``hazard_open_major`` in deadline order and stops at ``limit``.
    ordering = (F("deadline").asc(nulls_last=True), "id")
    open_hazards = _hazards_in(user, area).open()
    found = list(open_hazards.filter(severity=Severity.MAJOR).order_by(*ordering)[:limit])
    if len(found) < limit:
        found += list(open_hazards.filter(major_candidate=True).exclude(severity=Severity.MAJOR)
                      .order_by(*ordering)[:limit - len(found)])
    return found


def longest_overdue(user: Any, area: Area, day: dt.date, limit: int = 20) -> list[Hazard]:
    """Hazards overdue at ``day``, the longest overdue first."""
    return list(_hazards_in(user, area).overdue(day).order_by("deadline", "id")[:limit])


def open_hazard_points(user: Any, area: Area, limit: int = 2000) -> list[dict[str, Any]]:
    """Open hazards with a location, for the map (major first, then the oldest)."""
    from bihuan.hazards.choices import Severity

    rows = (
        _hazards_in(user, area).open()
        .filter(place__latitude__isnull=False, place__longitude__isnull=False)
        .annotate(major_first=Case(When(severity=Severity.MAJOR, then=Value(0)),
                                   default=Value(1), output_field=IntegerField()))
        .order_by("major_first", "registered_at", "id")
        .values("id", "severity", "state", "description", "place__name", "place__latitude",
                "place__longitude", "deadline")[:limit]
    )
    rows_any: Any = rows
    return [
        {"id": r["id"], "severity": r["severity"], "state": r["state"],
         "description": r["description"][:60], "place": r["place__name"],
         "lat": float(r["place__latitude"]), "lon": float(r["place__longitude"]),
         "deadline": r["deadline"].isoformat() if r["deadline"] else None}
        for r in rows_any
    ]
