"""通报: the daily and weekly briefing of an area, assembled once for every format.

``build_briefing`` gathers everything a briefing says (headline figures, the
ranking of the child areas, the trend, the overdue and major-hazard lists, the
charts) into one ``BriefingData``. The PDF, DOCX and XLSX writers only lay that
object out: they share its ``Table`` rows cell for cell, so the three formats
cannot disagree. Every figure comes from ``bihuan.dashboard.metrics``, the one
module that computes them, so a briefing also agrees with the dashboard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bihuan.accounts.scopes import scope_of
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.campaigns.models import Campaign
from bihuan.core import clock
from bihuan.core.errors import NotFound, ValidationFailed
from bihuan.documents import charts
from bihuan.hazards.choices import Severity
from bihuan.hazards.models import Hazard

Kind = Literal["text", "int", "rate", "score", "decimal", "date"]


class Period:
    DAILY = "daily"
    WEEKLY = "weekly"
    CHOICES = ((DAILY, gettext_lazy("Daily")), (WEEKLY, gettext_lazy("Weekly")))


# How many days the trend chart shows, per period.
TREND_DAYS = {Period.DAILY: 14, Period.WEEKLY: 28}
LIST_LIMIT = 20
# Open hazards drawn on the map at most: a city has tens of thousands of open hazards,
# a province millions; the map says when it shows fewer than all (see ``_map_png``).
MAP_POINTS = 2_000


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    """Rows of typed cells: numbers stay numbers until a writer formats them."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]

    def cells(self) -> list[list[tuple[str, bool]]]:
        """Formatted cells with whether each is a number (for alignment)."""
        numeric = [c.kind != "text" for c in self.columns]
        return [list(zip(row, numeric, strict=True)) for row in self.formatted()]

    def formatted(self) -> list[list[str]]:
        return [[format_cell(v, c.kind) for v, c in zip(row, self.columns, strict=True)]
                for row in self.rows]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: int | float | None
    kind: Kind

    @property
    def text(self) -> str:
        return format_cell(self.value, self.kind)


@dataclass
class BriefingData:
    area: Area
    day: dt.date
    period: str
    start: dt.date
    campaign: Campaign | None
    generated_at: dt.datetime
    figures: list[Figure]
    period_figures: list[Figure]
    ranking: Table
    overdue: Table
    major: Table
    trend_days: list[dt.date] = field(default_factory=list)
    trend_png: bytes = b""
    ranking_png: bytes = b""
    map_png: bytes = b""

    @property
    def title(self) -> str:
        if self.period == Period.WEEKLY:
            return _("Weekly briefing on fire-safety hazards")
        return _("Daily briefing on fire-safety hazards")

    @property
    def period_text(self) -> str:
        if self.start == self.day:
            return self.day.isoformat()
        return f"{self.start.isoformat()} – {self.day.isoformat()}"

    @property
    def all_figures(self) -> list[Figure]:
        """The period's figures, then the headline figures: every format lists these."""
        return self.period_figures + self.figures

    @property
    def tables(self) -> list[Table]:
        return [self.ranking, self.overdue, self.major]

    def filename(self, extension: str) -> str:
        return f"briefing-{self.area.code}-{self.period}-{self.day.isoformat()}.{extension}"


def format_cell(value: Any, kind: Kind) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "score":  # ranking scores and components, 0..1, as on the dashboard
        return f"{value:.3f}"
    if kind == "decimal":
        return f"{value:.1f}"
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if kind == "int":
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- input


def parse_day(value: str | dt.date | None) -> dt.date:
    """A briefing date: ISO ``YYYY-MM-DD``, not in the future."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat((value or "").strip())
        except ValueError:
            raise ValidationFailed(_("Enter the date as YYYY-MM-DD, e.g. 2026-09-14."),
                                   field="date") from None
    if day > clock.today():
        raise ValidationFailed(_("A briefing cannot be made for a future date."), field="date")
    return day


def parse_period(value: str | None) -> str:
    period = (value or Period.DAILY).strip()
    if period not in (Period.DAILY, Period.WEEKLY):
        raise ValidationFailed(_("Choose a daily or a weekly briefing."), field="period")
    return period


def briefing_areas(user: Any) -> Any:
    """Areas a user may brief on: the areas whose dashboard it may open (the subtrees of
    its area roles; a department's city-wide grant covers some place kinds only)."""
    return _metrics().visible_areas(user)


def area_for(user: Any, code: str | None) -> Area:
    """The area named by ``code`` if the user may brief on it; one message for absent and
    out of scope."""
    code = (code or "").strip()
    area: Area | None = briefing_areas(user).filter(code=code).first() if code else None
    if area is None:
        raise NotFound(_("No area with code %(code)s that you may brief on.") % {"code": code})
    return area


def default_campaign(area: Area, day: dt.date) -> Campaign | None:
    """The running campaign that covers the whole area, the widest first (the city's)."""
    candidates = [c for c in Campaign.objects.running(day).select_related("area")
                  if area.path.startswith(c.area.path)]
    candidates.sort(key=lambda c: (len(c.area.path), c.pk))
    return candidates[0] if candidates else None


# ---------------------------------------------------------------- assembly


def _metrics() -> Any:
    from bihuan.dashboard import metrics

    return metrics


def _headline(f: Any) -> list[Figure]:
    spec: list[tuple[str, str, Kind]] = [
        ("places", _("Places"), "int"),
        ("places_inspected", _("Places inspected"), "int"),
        ("coverage", _("Coverage"), "rate"),
        ("hazards_found", _("Hazards found"), "int"),
        ("hazards_per_100_places", _("Hazards per 100 places"), "decimal"),
        ("closed", _("Closed"), "int"),
        ("closure_rate", _("Closure rate"), "rate"),
        ("closed_on_time", _("Closed on time"), "int"),
        ("on_time_rate", _("On-time closure rate"), "rate"),
        ("open", _("Open"), "int"),
        ("open_overdue", _("Open and overdue"), "int"),
        ("major_open", _("Major hazards open"), "int"),
        ("look_backs", _("Look-backs"), "int"),
        ("recurrences", _("Recurrences"), "int"),
        ("recurrence_rate", _("Recurrence rate"), "rate"),
        ("cross_found", _("Found by cross-inspections and look-backs"), "int"),
        ("missed", _("Missed by the local team"), "int"),
        ("missed_detection_rate", _("Missed-detection rate"), "rate"),
    ]
    return [Figure(key, label, getattr(f, key), kind) for key, label, kind in spec]


def _period_figures(points: Sequence[Any], start: dt.date) -> list[Figure]:
    """Found and closed within the period: the trend's daily changes summed."""
    inside = [p for p in points if p.day >= start]
    return [
        Figure("found_in_period", _("Found in the period"), sum(p.found for p in inside), "int"),
        Figure("closed_in_period", _("Closed in the period"),
               sum(p.closed for p in inside), "int"),
    ]


def _ranking_table(rows: Sequence[Any], labels: dict[str, Any]) -> Table:
    keys: list[str] = []
    for row in rows:
        for key in row.components:
            if key not in keys:
                keys.append(key)
    columns = [
        Column("rank", _("Rank"), "int"),
        Column("area", _("Area"), "text"),
        Column("score", _("Score"), "score"),
        *[Column(f"component:{k}", str(labels.get(k, k)), "score") for k in keys],
        # The counts behind the components (the components are the rates, shrunk).
        Column("places", _("Places"), "int"),
        Column("hazards_found", _("Hazards found"), "int"),
        Column("closed", _("Closed"), "int"),
        Column("open_overdue", _("Open and overdue"), "int"),
    ]
    body = [
        [row.rank, row.area.name, row.score, *[row.components.get(k) for k in keys],
         row.figures.places, row.figures.hazards_found, row.figures.closed,
         row.figures.open_overdue]
        for row in rows
    ]
    return Table("ranking", _("Ranking"), columns, body)


def _hazard_table(key: str, title: str, hazards: Sequence[Hazard], day: dt.date,
                  *, overdue: bool) -> Table:
    columns = [
        Column("number", _("Hazard number"), "text"),
        Column("place", _("Place"), "text"),
        Column("area", _("Area"), "text"),
        Column("description", _("Description"), "text"),
        Column("state", _("State"), "text"),
        Column("deadline", _("Deadline"), "date"),
    ]
    if overdue:
        columns.append(Column("days_overdue", _("Days overdue"), "int"))
    columns.append(Column("supervision", _("Supervision"), "text"))
    rows = []
    for h in hazards:
        row: list[Any] = [h.number, h.place.name, h.area.name, h.description,
                          h.get_state_display(), h.deadline]
        if overdue:
            row.append((day - h.deadline).days if h.deadline else None)
        row.append(h.get_supervision_level_display())
        rows.append(row)
    return Table(key, title, columns, rows)


def _map_png(metrics: Any, user: Any, area: Area, title: str, open_total: int,
             open_by_child: dict[int, int]) -> bytes:
    """The map: at most ``MAP_POINTS`` open hazards as dots (the most urgent, read without
    sorting every open hazard), each child area's label with its count of open hazards
    (from the summary rows), and, when the dots are not all of them, a line that says so."""
    rows = metrics.open_hazard_points(user, area, MAP_POINTS)
    points = [charts.MapPoint(r["lat"], r["lon"], r["severity"]) for r in rows]
    labels = []
    counted = False
    for pk, lat, lng, name in (area.children.filter(latitude__isnull=False,
                                                    longitude__isnull=False)
                               .values_list("pk", "latitude", "longitude", "short_name")):
        text = name
        if pk in open_by_child:
            text, counted = f"{name} {open_by_child[pk]}", True
        labels.append(charts.MapLabel(float(lat or 0), float(lng or 0), text))
    legend = {str(v): str(label) for v, label in Severity.choices}
    lines = []
    if len(points) < open_total:
        lines.append(_("%(shown)s of %(open)s open hazards shown: the major ones first, then "
                       "the earliest deadlines.") % {"shown": len(points), "open": open_total})
    elif len(rows) >= MAP_POINTS:
        # The limit was reached but the figures count no more (summary rows behind).
        lines.append(_("The first %(shown)s open hazards shown: the major ones first, then "
                       "the earliest deadlines.") % {"shown": len(points)})
    if counted:
        lines.append(_("Labels: open hazards per area."))
    return charts.hazard_map(points, labels, title, legend, "\n".join(lines))


def build_briefing(
    *, user: Any, area: Area, day: dt.date, period: str = Period.DAILY,
    campaign: Campaign | None = None, with_charts: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BriefingData:
    """Everything a briefing says. ``area`` must be one ``user`` may brief on (see
    ``area_for``); the hazard lists are scoped to ``user`` as well."""
    metrics = _metrics()
    period = parse_period(period)
    start = day - dt.timedelta(days=6) if period == Period.WEEKLY else day
    window_start = day - dt.timedelta(days=TREND_DAYS[period])
    figures = metrics.figures(area, day, campaign)
    points = metrics.trend(area, window_start, day, campaign)
    has_children = area.level != AreaLevel.GRID and area.children.exists()
    ranking_rows = metrics.ranking(campaign, area, day) if has_children else []
    # Always a ranking table (empty for a grid), so every XLSX has the same sheets.
    ranking = _ranking_table(ranking_rows, getattr(metrics, "COMPONENT_LABELS", {}))
    overdue = _hazard_table(
        "overdue", _("Longest overdue hazards"),
        metrics.longest_overdue(user, area, day, LIST_LIMIT), day, overdue=True)
    major = _hazard_table(
        "major", _("Major hazards"), metrics.major_hazards(user, area, LIST_LIMIT), day,
        overdue=False)
    data = BriefingData(
        area=area, day=day, period=period, start=start, campaign=campaign,
        generated_at=clock.now(), figures=_headline(figures),
        period_figures=_period_figures(points, start), ranking=ranking, overdue=overdue,
        major=major, trend_days=[p.day for p in points],
    )
    if with_charts:
        data.trend_png = charts.trend_chart(
            [p.day for p in points],
            [charts.Series(_("Found that day"), [p.found for p in points], "#2c7fb8"),
             charts.Series(_("Closed that day"), [p.closed for p in points], "#41ab5d"),
             charts.Series(_("Open"), [p.open for p in points], "#fd8d3c"),
             charts.Series(_("Overdue"), [p.overdue for p in points], "#c0392b")],
            _("Trend: %(area)s") % {"area": area.name},
        )
        if ranking_rows:
            data.ranking_png = charts.ranking_bars(
                [r.area.short_name or r.area.name for r in ranking_rows],
                [r.score for r in ranking_rows], _("Ranking score"))
        data.map_png = _map_png(metrics, user, area, _("Open hazards by severity"),
                                figures.open,
                                {r.area.pk: r.figures.open for r in ranking_rows})
    return data


def default_user_for(area: Area) -> Any:
    """For the command line: a command HQ member whose area covers ``area`` (the
    briefing's hazard lists are scoped to a person, as on the screen)."""
    from bihuan.accounts.models import User

    for user in User.objects.filter(is_active=True).order_by("pk"):
        if briefing_areas(user).filter(pk=area.pk).exists() and (
            "command_staff" in scope_of(user).roles()
        ):
            return user
    raise ValidationFailed(
        _("Nobody in the command headquarters covers %(area)s: name a user.")
        % {"area": area.name}, field="user")


def city_area() -> Area | None:
    return Area.objects.filter(code=settings.BIHUAN_CITY_CODE).first()
