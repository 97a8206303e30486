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
import functools
import hashlib
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import StrIndex, Substr
from django.utils.translation import gettext_lazy as _

from bihuan.accounts.choices import Role
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

T = TypeVar("T")


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
    # The fingerprint of the summary rows read (see ``_totals``); not a figure.
    stamp: str = field(default="", compare=False, repr=False)

    def as_counts(self) -> dict[str, int]:
        """The integer figures (what ``verify`` compares)."""
        return {name: getattr(self, name) for name in FIGURE_COUNTS}


FIGURE_COUNTS = ("places", "places_inspected", "hazards_found", "closed", "closed_on_time",
                 "open", "open_overdue", "major_open", "look_backs", "recurrences",
                 "cross_found", "missed")


def build_figures(area: Area, day: dt.date, counters: dict[str, int], places: int,
                  stamp: str = "") -> AreaFigures:
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
        stamp=stamp,
    )


# ---------------------------------------------------------------- reading the summary rows


def _pk(campaign: Campaign | None) -> int | None:
    return None if campaign is None else int(campaign.pk)


def _aggregates(campaign_pk: int | None) -> dict[str, Any]:
    aggs: dict[str, Any] = {f"s_{c}": Sum(c) for c in COUNTERS if c != "covered"}
    if campaign_pk is None:
        # Row 0's ``covered`` counts every official visit; a campaign's row only its own.
        aggs["s_covered"] = Sum(Case(When(campaign_key=0, then=F("covered")),
                                     default=Value(0), output_field=IntegerField()))
    else:
        aggs["s_covered"] = Sum("covered")
    return aggs


def _filter(path: str, campaign_pk: int | None) -> Q:
    condition = Q(area__path__startswith=path)
    if campaign_pk is not None:
        condition &= Q(campaign_key=campaign_pk)
    return condition


def counters_by_path(area: Area, day: dt.date, campaign: Campaign | None = None
                     ) -> dict[str, dict[str, int]]:
    """Each area's counters at the end of ``day``: its totals minus what changed after."""
    aggs = _aggregates(_pk(campaign))
    condition = _filter(area.path, _pk(campaign))
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


def _sum_counters(cells: list[dict[str, int]]) -> dict[str, int]:
    total = dict.fromkeys(COUNTERS, 0)
    for cell in cells:
        for c in COUNTERS:
            total[c] += cell[c]
    return total


def figures(area: Area, day: dt.date, campaign: Campaign | None = None) -> AreaFigures:
    """The area's figures at the end of ``day`` (its whole subtree)."""
    counters, stamp = _counters(area, day, campaign)
    places = places_by_child(area, campaign)
    return build_figures(area, day, _sum_counters(list(counters.values())),
                         sum(places.values()), stamp=stamp)


def child_code(path: str) -> Any:
    """SQL: the code of the child of the area at ``path`` whose subtree holds the row's area.

    ``''`` for rows of that area itself. A child's path is its parent's path, its
    code and ``/``, so the code is the path's next segment after ``path``.
    Grouping by it lets the database roll the rows of a whole subtree up to the
    children (a dozen rows back) instead of Python walking every area's row.
    """
    if connection.vendor == "postgresql":
        # The segment after the area's own: '' for the area's own rows (its path ends
        # in '/'). One function call per row, a third of the CASE below.
        return Func(F("area__path"), Value("/"), Value(path.count("/") + 1),
                    function="SPLIT_PART", output_field=CharField())
    start = len(path) + 1
    rest = Substr("area__path", start)
    return Case(
        When(area__path=path, then=Value("")),
        default=Substr("area__path", start, StrIndex(rest, Value("/")) - 1),
        output_field=CharField(),
    )


# ---------------------------------------------------------------- cached pieces
#
# The day rows behind a dashboard are most of its reading: the changes after
# day D (overdue bookings lie in the future) and the trend's window, tens of
# thousands of rows for a city. Every change of an area's day rows rewrites
# its total row (``summaries.apply``) with a new random ``stamp``, so the
# number of total rows and the sum of their stamps, per child of the area,
# change whenever any day row below it changes or an area moves between
# children. That fingerprint is read live with the totals (one query over
# the total rows) and keys the pieces computed from the day rows and the
# place counts in Django's cache: a transition is seen by the next request,
# and a piece is only reused while the rows it was computed from are the same.

# The keys make a piece exact; the timeout only bounds how long a write that
# bypassed the hooks (a bulk load not yet followed by a rebuild, a process still
# running code from before the stamps) can go unseen.
CACHE_TIMEOUT = 5 * 60


def digest(*parts: Any) -> str:
    """A short hash of ``repr(parts)``: a cache key for what the parts describe."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _cached(key: str, compute: Callable[[], T]) -> T:
    found = cache.get(key)
    if found is not None:
        return cast(T, found)
    value = compute()
    cache.set(key, value, CACHE_TIMEOUT)
    return value


def _child_rows(queryset: Any, area: Area, campaign: Campaign | None, **extra: Any
                ) -> list[dict[str, Any]]:
    aggs = {**_aggregates(_pk(campaign)), **extra}
    rows: Any = (queryset.filter(_filter(area.path, _pk(campaign)))
                 .annotate(child=child_code(area.path))
                 .values("child").annotate(**aggs).order_by())
    return list(rows)


def _cell(row: dict[str, Any]) -> dict[str, int]:
    return {c: int(row[f"s_{c}"] or 0) for c in COUNTERS}


@functools.lru_cache(maxsize=4096)
def _totals_sql(path: str, campaign_pk: int | None) -> tuple[str, tuple[Any, ...]]:
    """The SQL of ``_totals``: it depends only on the area's path and the campaign.

    Compiling this query (a dozen aggregates, the child expression) costs the ORM
    more than the database spends running it; every request runs it.
    """
    queryset = (AreaStats.objects.filter(_filter(path, campaign_pk))
                .annotate(child=child_code(path)).values("child")
                .annotate(**_aggregates(campaign_pk), n=Count("id"), stamps=Sum("stamp"))
                .order_by())
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _totals(area: Area, campaign: Campaign | None) -> tuple[dict[str, dict[str, int]], str]:
    """The total rows summed per child, and the fingerprint of those rows (read live)."""
    sql, params = _totals_sql(area.path, _pk(campaign))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    prints = sorted((row["child"], row["n"], int(row["stamps"] or 0)) for row in rows)
    # Prefixed with the area and campaign, so that a fingerprint handed on (``trend``'s
    # ``at_end``) is checked to be the one of the rows about to be read.
    stamp = (f"{area.pk}/{_pk(campaign) or 0}/"
             + digest("summary rows", area.pk, area.path, _pk(campaign) or 0, prints))
    return {row["child"]: _cell(row) for row in rows}, stamp


def _later(area: Area, day: dt.date, campaign: Campaign | None, stamp: str
           ) -> dict[str, dict[str, int]]:
    """Changes booked after ``day``, per child: cached under the totals' fingerprint."""
    def compute() -> dict[str, dict[str, int]]:
        rows = _child_rows(AreaDayStats.objects.filter(day__gt=day), area, campaign)
        return {row["child"]: _cell(row) for row in rows}

    key = digest("later", stamp, area.pk, _pk(campaign) or 0, day)
    return _cached(f"dashboard:later:{key}", compute)


def _counters(area: Area, day: dt.date, campaign: Campaign | None
              ) -> tuple[dict[str, dict[str, int]], str]:
    totals, stamp = _totals(area, campaign)
    later = _later(area, day, campaign, stamp)
    out: dict[str, dict[str, int]] = {}
    for child in totals.keys() | later.keys():
        total = totals.get(child)
        after = later.get(child)
        out[child] = {c: (total[c] if total else 0) - (after[c] if after else 0)
                      for c in COUNTERS}
    return out, stamp


def counters_by_child(area: Area, day: dt.date, campaign: Campaign | None = None
                      ) -> dict[str, dict[str, int]]:
    """Counters at the end of ``day`` per child code of ``area`` (``''``: its own rows)."""
    return _counters(area, day, campaign)[0]


def places_by_child(area: Area, campaign: Campaign | None = None) -> dict[str, int]:
    """Active places per child code of ``area`` (``''``: places in the area itself).

    Cached under the count and stamps of every place-count row (one cheap read):
    any place created, moved, closed or deleted, or an area moved, changes them.
    """
    kinds = sorted(campaign.place_kinds) if campaign is not None and campaign.place_kinds else []

    def compute() -> dict[str, int]:
        counts = AreaPlaceCount.objects.filter(area__path__startswith=area.path)
        if kinds:
            counts = counts.filter(kind__in=kinds)
        rows: Any = (counts.annotate(child=child_code(area.path)).values("child")
                     .annotate(n=Sum("places")).order_by())
        return {row["child"]: int(row["n"] or 0) for row in rows}

    key = digest("places", area.pk, area.path, kinds, places_stamp())
    return _cached(f"dashboard:places:{key}", compute)


def places_stamp() -> tuple[int, int]:
    """Number and stamp sum of every place-count row: renewed by any place created,
    moved (between areas or on the map), closed or deleted, and by an area moved."""
    state = AreaPlaceCount.objects.aggregate(n=Count("id"), stamps=Sum("stamp"))
    return int(state["n"] or 0), int(state["stamps"] or 0)


def child_figures(area: Area, day: dt.date, campaign: Campaign | None = None
                  ) -> list[AreaFigures]:
    """One :class:`AreaFigures` per child area, in the tree's order."""
    return _children(area, day, counters_by_child(area, day, campaign),
                     places_by_child(area, campaign), children_of(area))


def children_of(area: Area) -> list[Area]:
    return list(Area.objects.filter(parent=area).order_by("path"))


def _children(area: Area, day: dt.date, counters: dict[str, dict[str, int]],
              places: dict[str, int], children: list[Area]) -> list[AreaFigures]:
    empty = dict.fromkeys(COUNTERS, 0)
    return [build_figures(child, day, counters.get(child.code, empty), places.get(child.code, 0))
            for child in children]


def overview(area: Area, day: dt.date, campaign: Campaign | None = None
             ) -> tuple[AreaFigures, list[RankingRow]]:
    """The area's figures and the ranking of its children, reading the rows once."""
    counters, stamp = _counters(area, day, campaign)
    places = places_by_child(area, campaign)
    figures_ = build_figures(area, day, _sum_counters(list(counters.values())),
                             sum(places.values()), stamp=stamp)
    children = children_of(area)
    rows = _children(area, day, counters, places, children)
    if not rows:
        return figures_, []
    weights, k = weights_for(campaign)
    # The field roles renew the stamps of the overall rows (campaign key 0) only.
    inspectors = inspectors_by_child(area, children, stamp if campaign is None else "")
    return figures_, score_rows(rows, inspectors, weights, k)


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    found: int     # hazards registered that day (and not since dismissed or voided)
    closed: int    # net change of closed hazards that day (closures less reopenings)
    open: int      # open at the end of the day
    overdue: int   # overdue at the end of the day


def trend(area: Area, start: dt.date, end: dt.date, campaign: Campaign | None = None,
          at_end: AreaFigures | None = None) -> list[TrendPoint]:
    """One point per day from ``start`` to ``end`` inclusive.

    ``at_end``: the area's figures at the end of ``end`` (same campaign), when the
    caller has them already; the totals are then not read again.
    """
    if end < start:
        return []
    if at_end is not None and at_end.stamp:
        if (at_end.day != end
                or not at_end.stamp.startswith(f"{area.pk}/{_pk(campaign) or 0}/")):
            raise ValueError("at_end must be the figures of the same area and campaign "
                             "at the end day")
        level = {"open": at_end.open, "overdue": at_end.open_overdue}
        stamp = at_end.stamp
    else:
        counters, stamp = _counters(area, end, campaign)
        level = {n: sum(cell[n] for cell in counters.values()) for n in ("open", "overdue")}
    by_day = _window(area, start, end, campaign, stamp)
    # Walk back from ``end``, undoing each day's change of the open and overdue stocks.
    points: list[TrendPoint] = []
    x = end
    none = (0, 0, 0, 0)
    while x >= start:
        found, closed, opened, overdue = by_day.get(x, none)
        points.append(TrendPoint(day=x, found=found, closed=closed, open=level["open"],
                                 overdue=level["overdue"]))
        level["open"] -= opened
        level["overdue"] -= overdue
        x -= dt.timedelta(days=1)
    points.reverse()
    return points


def _window(area: Area, start: dt.date, end: dt.date, campaign: Campaign | None, stamp: str
            ) -> dict[dt.date, tuple[int, int, int, int]]:
    """(found, closed, open, overdue) changes per day of the window, cached like ``_later``."""
    def compute() -> dict[dt.date, tuple[int, int, int, int]]:
        names = ("found", "closed", "open", "overdue")
        rows: Any = (AreaDayStats.objects.filter(_filter(area.path, _pk(campaign)),
                                                 day__gte=start,
                                                 day__lte=end)
                     .values("day").annotate(**{f"s_{n}": Sum(n) for n in names}).order_by())
        return {row["day"]: (int(row["s_found"] or 0), int(row["s_closed"] or 0),
                             int(row["s_open"] or 0), int(row["s_overdue"] or 0))
                for row in rows}

    key = digest("window", stamp, area.pk, _pk(campaign) or 0, start, end)
    return _cached(f"dashboard:window:{key}", compute)


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


# The roles whose people do the inspecting (the coverage component's workload).
FIELD_ROLES = frozenset({Role.GRID_WORKER, Role.VILLAGE_CADRE})


def inspectors_by_child(parent: Area, children: list[Area] | None = None, stamp: str = ""
                        ) -> dict[int, int]:
    """Field people (grid workers, village cadres) holding an active role under each child.

    ``stamp``: the fingerprint of the parent's overall total rows (``_totals``
    without a campaign), which the field roles' signals renew
    (``signals.touch_areas``); with it the counts are cached under it.
    """
    from bihuan.accounts.models import Membership

    if children is None:
        children = children_of(parent)

    def compute() -> dict[str, int]:
        # Distinct people per child, counted by the database (one person with roles
        # in two children counts in both, as a load on each).
        rows: Any = (Membership.objects.filter(active=True, role__in=sorted(FIELD_ROLES),
                                               area__path__startswith=parent.path)
                     .annotate(child=child_code(parent.path)).values("child")
                     .annotate(n=Count("user_id", distinct=True)).order_by())
        return {row["child"]: row["n"] for row in rows}

    if stamp:
        people = _cached(f"dashboard:inspectors:{digest('inspectors', stamp, parent.pk)}",
                         compute)
    else:
        people = compute()
    return {child.pk: people.get(child.code, 0) for child in children}


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
    return overview(parent, day, campaign)[1]


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


def _major_querysets(user: Any, area: Area) -> tuple[HazardQuerySet, HazardQuerySet]:
    """Open major hazards, and open candidates not (yet) major, oldest deadline first."""
    from bihuan.hazards.choices import Severity

    # Two ordered reads instead of one ORDER BY CASE: each walks the partial index
    # ``hazard_open_major`` in deadline order and stops at the limit.
    ordering = (F("deadline").asc(nulls_last=True), "id")
    open_hazards = _hazards_in(user, area).open()
    return (open_hazards.filter(severity=Severity.MAJOR).order_by(*ordering),
            open_hazards.filter(major_candidate=True).exclude(severity=Severity.MAJOR)
            .order_by(*ordering))


def _majors_then_candidates(user: Any, area: Area, limit: int,
                            read: Callable[[Any], list[Any]]) -> list[Any]:
    majors, candidates = _major_querysets(user, area)
    found = read(majors[:limit])
    if len(found) < limit:
        found += read(candidates[:limit - len(found)])
    return found


def major_hazards(user: Any, area: Area, limit: int = 20) -> list[Hazard]:
    """Open major hazards, then open candidates, oldest deadline first."""
    return _majors_then_candidates(user, area, limit, list)


def _overdue_queryset(user: Any, area: Area, day: dt.date) -> HazardQuerySet:
    return _hazards_in(user, area).overdue(day).order_by("deadline", "id")


def longest_overdue(user: Any, area: Area, day: dt.date, limit: int = 20) -> list[Hazard]:
    """Hazards overdue at ``day``, the longest overdue first."""
    return list(_overdue_queryset(user, area, day)[:limit])


@dataclass(frozen=True)
class HazardRow:
    """What the dashboard's lists show of a hazard (read as values, not model instances)."""

    pk: int
    number: str
    severity: str
    severity_label: str
    place: str
    area: str
    description: str
    deadline: dt.date | None
    days_overdue: int | None = None


_ROW_FIELDS = ("id", "registered_at", "severity", "description", "deadline", "place__name",
               "area__name", "area__short_name")


def _hazard_rows(queryset: Any, day: dt.date | None = None) -> list[HazardRow]:
    """The rows of ``queryset`` as :class:`HazardRow`; ``day`` adds the days overdue.

    Values instead of instances: compiling and building the hazard, place and
    area of each row with every column was most of the lists' cost.
    """
    from bihuan.hazards.choices import Severity
    from bihuan.hazards.models import Hazard

    labels = dict(Severity.choices)
    number = cast(Any, Hazard.number).fget  # the model's numbering, on the values
    rows: Any = queryset.values(*_ROW_FIELDS)
    return [
        HazardRow(
            pk=r["id"],
            number=number(SimpleNamespace(pk=r["id"], registered_at=r["registered_at"])),
            severity=r["severity"], severity_label=str(labels.get(r["severity"], r["severity"])),
            place=r["place__name"],
            area=r["area__short_name"] or r["area__name"],  # as Area.__str__
            description=r["description"], deadline=r["deadline"],
            days_overdue=(day - r["deadline"]).days if day and r["deadline"] else None,
        )
        for r in rows
    ]


def major_hazard_rows(user: Any, area: Area, limit: int = 20) -> list[HazardRow]:
    """:func:`major_hazards` as rows."""
    return _majors_then_candidates(user, area, limit, _hazard_rows)


def longest_overdue_rows(user: Any, area: Area, day: dt.date, limit: int = 20
                         ) -> list[HazardRow]:
    """:func:`longest_overdue` as rows, with the days overdue at ``day``."""
    return _hazard_rows(_overdue_queryset(user, area, day)[:limit], day)


def open_hazard_points(user: Any, area: Area, limit: int = 2000) -> list[dict[str, Any]]:
    """Open hazards with a location, for the map: the major ones first, then the rest,
    each by the earliest deadline (the most urgent), at most ``limit``.

    Two ordered reads that walk the partial indexes of open hazards by deadline
    (``hazard_open_major``, ``hazard_open_deadline``) and stop at the limit: the map
    costs the same whether the area has a thousand open hazards or a million. (Ordering
    by a CASE on the severity, then the registration, sorted every open hazard.)
    """
    from bihuan.hazards.choices import Severity

    located = (_hazards_in(user, area).open()
               .filter(place__latitude__isnull=False, place__longitude__isnull=False))
    ordering = (F("deadline").asc(nulls_last=True), "id")
    fields = ("id", "severity", "state", "description", "place__name", "place__latitude",
              "place__longitude", "deadline")
    majors: Any = located.filter(severity=Severity.MAJOR).order_by(*ordering).values(*fields)
    found = list(majors[:limit])
    if len(found) < limit:
        rest: Any = (located.exclude(severity=Severity.MAJOR).order_by(*ordering)
                     .values(*fields))
        found += list(rest[:limit - len(found)])
    return [
        {"id": r["id"], "severity": r["severity"], "state": r["state"],
         "description": r["description"][:60], "place": r["place__name"],
         "lat": float(r["place__latitude"]), "lon": float(r["place__longitude"]),
         "deadline": r["deadline"].isoformat() if r["deadline"] else None}
        for r in found
    ]
