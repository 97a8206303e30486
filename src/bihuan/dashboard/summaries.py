"""Keeping the summary rows in step: the hooks, the replay, the rebuild.

Two hooks run inside the writer's transaction:

* :func:`record_hazard_event` after every ``HazardEvent`` (registration and
  every transition, from ``hazards.services._append_event``);
* :func:`record_inspection` after an inspection is submitted
  (``inspections.services.submit_inspection``).

A hazard's contribution to the counters (:class:`Contribution`) is a pure
function of its state after each event; the hook compares it with the last
one (``HazardMetricState``) and books only the difference, on the right day.
:func:`rebuild` replays every hazard's event history through the *same*
step function, so an incrementally maintained table and a rebuilt one agree
by construction, and ``bihuan metrics verify`` compares both with figures
computed straight from the hazard table.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction

from bihuan.dashboard.models import (
    COUNTERS,
    AreaDayStats,
    AreaPlaceCount,
    AreaStats,
    HazardMetricState,
    PlaceCoverage,
    new_stamp,
)
from bihuan.hazards.choices import HazardAction, HazardState, Severity
from bihuan.hazards.statements import Batch
from bihuan.inspections.choices import InspectionKind

# Inspections by the area's own people: what a cross-inspection can catch out.
LOCAL_KINDS = frozenset({InspectionKind.GRID_PATROL, InspectionKind.DEPARTMENT})
# Inspections whose findings measure missed detection.
CHECKING_KINDS = frozenset({InspectionKind.CROSS, InspectionKind.LOOK_BACK})
# Coverage counts official visits; a party's self-check is not an inspection of it.
COVERING_EXCLUDED = frozenset({InspectionKind.SELF_CHECK})
GONE_STATES = frozenset({HazardState.DISMISSED, HazardState.VOIDED})
OPEN_STATES = frozenset({HazardState.REPORTED, HazardState.RECTIFYING,
                         HazardState.PENDING_VERIFICATION, HazardState.ENFORCEMENT})


def missed_window_days() -> int:
    """How recent a local team's clean visit must be for a later finding to count as missed."""
    return int(getattr(settings, "BIHUAN_MISSED_DETECTION_DAYS", 30))


# A delta: (area id, campaign key, day) -> {counter: change}
Deltas = dict[tuple[int, int, dt.date], dict[str, int]]


@dataclass(frozen=True)
class HazardView:
    """What the counters need of a hazard at one moment."""

    state: str
    deadline: dt.date | None
    paused: bool
    severity: str


@dataclass(frozen=True)
class Contribution:
    found: bool = False
    open: bool = False
    closed: bool = False
    closed_on_time: bool = False
    major_open: bool = False
    overdue_from: dt.date | None = None
    episode_deadline: dt.date | None = None
    cross_found: bool = False
    missed: bool = False
    submitted_on: dt.date | None = None


@lru_cache(maxsize=4)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def local_day(moment: dt.datetime) -> dt.date:
    """The day of ``moment`` in the installation's time zone (the days the figures count by).

    The installation's zone, not the request's: summary rows are shared by everyone.
    """
    if moment.tzinfo is None:
        raise ValueError("local_day() needs an aware datetime")
    return moment.astimezone(_zone(settings.TIME_ZONE)).date()


def step(old: Contribution | None, view: HazardView, *, action: str, day: dt.date,
         checking: bool = False, missed: bool = False) -> Contribution:
    """The hazard's contribution after an event of ``action`` on ``day``.

    ``checking``/``missed`` matter only for the registering event (``old`` is None).
    """
    prev = old or Contribution()
    found = view.state not in GONE_STATES
    is_open = view.state in OPEN_STATES
    closed = view.state == HazardState.CLOSED
    submitted_on = prev.submitted_on
    if action == HazardAction.SUBMIT_RECTIFICATION:
        submitted_on = day
    on_time = closed and (
        submitted_on is None or view.deadline is None or submitted_on <= view.deadline
    )
    # An overdue "episode": rectifying with the clock running against one deadline.
    # It counts from the day after the deadline (or from its start, if later).
    in_episode = (view.state == HazardState.RECTIFYING and not view.paused
                  and view.deadline is not None)
    overdue_from: dt.date | None = None
    episode_deadline: dt.date | None = None
    if in_episode and prev.overdue_from is not None and prev.episode_deadline == view.deadline:
        overdue_from, episode_deadline = prev.overdue_from, prev.episode_deadline
    elif in_episode and view.deadline is not None:
        overdue_from = max(day, view.deadline + dt.timedelta(days=1))
        episode_deadline = view.deadline
    if old is None:
        cross_found, was_missed = checking, checking and missed
    else:
        cross_found, was_missed = prev.cross_found, prev.missed
    return Contribution(
        found=found, open=is_open, closed=closed, closed_on_time=on_time,
        major_open=is_open and view.severity == Severity.MAJOR,
        overdue_from=overdue_from, episode_deadline=episode_deadline,
        cross_found=cross_found and found, missed=was_missed and found,
        submitted_on=submitted_on,
    )


def changes(old: Contribution | None, new: Contribution, *, action: str, day: dt.date,
            registered_on: dt.date) -> list[tuple[dt.date, str, int]]:
    """The (day, counter, ±n) bookings that turn ``old`` into ``new``."""
    prev = old or Contribution()
    out: list[tuple[dt.date, str, int]] = []
    # Counted at the registration day: a dismissal takes the hazard out of "found".
    for name in ("found", "cross_found", "missed"):
        if getattr(prev, name) != getattr(new, name):
            out.append((registered_on, name, 1 if getattr(new, name) else -1))
    for name in ("open", "closed", "closed_on_time", "major_open"):
        if getattr(prev, name) != getattr(new, name):
            out.append((day, name, 1 if getattr(new, name) else -1))
    if prev.overdue_from != new.overdue_from or prev.episode_deadline != new.episode_deadline:
        if prev.overdue_from is not None:
            # The episode ends today: it was overdue up to yesterday (if at all).
            out.append((max(day, prev.overdue_from), "overdue", -1))
        if new.overdue_from is not None:
            out.append((new.overdue_from, "overdue", 1))
    if action in (HazardAction.LOOK_BACK_PASS, HazardAction.LOOK_BACK_FAIL):
        out.append((day, "look_backs", 1))
    if action == HazardAction.LOOK_BACK_FAIL:
        out.append((day, "recurrences", 1))
    return out


def _book(deltas: Deltas, area_id: int, campaign_key: int,
          bookings: Iterable[tuple[dt.date, str, int]]) -> None:
    for day, name, amount in bookings:
        cell = deltas.setdefault((area_id, campaign_key, day), {})
        cell[name] = cell.get(name, 0) + amount


def apply(deltas: Deltas, batch: Batch | None = None) -> None:
    """Add ``deltas`` to the day rows and the totals (one upsert statement each).

    With ``batch``, the statements join the caller's batch instead of running now.
    """
    deltas = {key: cell for key, cell in deltas.items() if any(cell.values())}
    if not deltas:
        return
    # Always in key order: two writers touching the same rows lock them in the same order.
    keys = sorted(deltas)
    day_table = AreaDayStats._meta.db_table
    day_rows: list[Any] = []
    for area_id, campaign_key, day in keys:
        cell = deltas[(area_id, campaign_key, day)]
        day_rows.append([area_id, campaign_key, day, *(cell.get(c, 0) for c in COUNTERS)])
    totals: dict[tuple[int, int], list[int]] = {}
    for area_id, campaign_key, _day in keys:
        cell = deltas[(area_id, campaign_key, _day)]
        row = totals.setdefault((area_id, campaign_key), [0] * len(COUNTERS))
        for i, c in enumerate(COUNTERS):
            row[i] += cell.get(c, 0)
    _upsert(day_table, ["area_id", "campaign_key", "day"], day_rows, batch=batch)
    upsert_totals({key: dict(zip(COUNTERS, row, strict=True)) for key, row in totals.items()},
                  batch=batch)


def upsert_totals(totals: dict[tuple[int, int], dict[str, int]],
                  batch: Batch | None = None) -> None:
    """Add to the total rows of (area, campaign key), each with a new stamp.

    Every total row written gets a new stamp, even when its net change is zero
    (an overdue booking moved from one day to another): the stamp tells the
    dashboard's caches that the area's rows changed (``AreaStats.stamp``).
    """
    rows = [[area_id, key, *(cell.get(c, 0) for c in COUNTERS), new_stamp()]
            for (area_id, key), cell in sorted(totals.items())]
    _upsert(AreaStats._meta.db_table, ["area_id", "campaign_key"], rows, replace=["stamp"],
            batch=batch)


@lru_cache(maxsize=64)
def _upsert_sql(table: str, key: tuple[str, ...], count: int, replace: tuple[str, ...]) -> str:
    """The upsert of ``count`` rows (built once per shape: transitions repeat a few)."""
    qn = connection.ops.quote_name
    columns = [*key, *COUNTERS, *replace]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join([f"{qn(c)} = {qn(table)}.{qn(c)} + excluded.{qn(c)}" for c in COUNTERS]
                        + [f"{qn(c)} = excluded.{qn(c)}" for c in replace])
    # Table and column names come from the models, never from input.
    return (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES "  # noqa: S608
        + ", ".join([placeholders] * count)
        + f" ON CONFLICT ({', '.join(qn(c) for c in key)}) DO UPDATE SET {updates}"
    )


def _upsert(table: str, key: list[str], rows: list[list[Any]], chunk: int = 500,
            replace: list[str] | None = None, batch: Batch | None = None) -> None:
    """Add the counters of ``rows`` to the rows of ``key``; ``replace`` columns are overwritten."""
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        statement = (_upsert_sql(table, tuple(key), len(part), tuple(replace or ())),
                     [value for row in part for value in row])
        if batch is not None:
            batch.add(statement)
        else:
            with connection.cursor() as cursor:
                cursor.execute(*statement)


# ---------------------------------------------------------------- the hooks


def _missed(hazard: Any, registered_at: dt.datetime, kind: str | None = None
            ) -> tuple[bool, bool]:
    """(found by a checking inspection?, at a place a local team recently passed clean?)

    ``kind`` is the inspection's kind when the caller has read it already.
    """
    from bihuan.inspections.models import Inspection

    inspection_id = getattr(hazard, "inspection_id", None)
    if inspection_id is None:
        return False, False
    if kind is None:
        kind = (Inspection.objects.filter(pk=inspection_id).values_list("kind", flat=True)
                .first())
    if kind not in CHECKING_KINDS:
        return False, False
    since = registered_at - dt.timedelta(days=missed_window_days())
    clean = (
        Inspection.objects.filter(place_id=hazard.place_id, kind__in=LOCAL_KINDS,
                                  submitted_at__gte=since, submitted_at__lt=registered_at,
                                  hazards__isnull=True)
        .exists()
    )
    return True, clean


# The columns of a hazard's HazardMetricState row: the fields of its Contribution.
_STATE_FIELDS = tuple(f.name for f in fields(Contribution))


def state_statement(hazard_id: int) -> tuple[str, list[Any]]:
    """The query of the hazard's HazardMetricState row, for a transition that sends it
    with its row lock; pass :func:`state_from` of its rows to :func:`record_hazard_event`
    as ``old``."""
    return _state_sql(), [hazard_id]


@lru_cache(maxsize=1)
def _state_sql() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(name) for name in _STATE_FIELDS)
    table = qn(HazardMetricState._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE hazard_id = %s"  # noqa: S608


def state_from(rows: list[tuple[Any, ...]]) -> Contribution | None:
    """The stored contribution from the rows of :func:`state_statement` (None: no row)."""
    if not rows:
        return None
    values = dict(zip(_STATE_FIELDS, rows[0], strict=True))
    for name, value in values.items():
        if isinstance(value, str):  # SQLite returns dates as text
            values[name] = dt.date.fromisoformat(value)
        elif isinstance(value, int) and not isinstance(value, bool):  # ... booleans as 0/1
            values[name] = bool(value)
    return Contribution(**values)


def _contribution_of(state: HazardMetricState | None) -> Contribution | None:
    if state is None:
        return None
    return Contribution(**{name: getattr(state, name) for name in _STATE_FIELDS})


def _state_row(hazard_id: int, c: Contribution) -> HazardMetricState:
    return HazardMetricState(hazard_id=hazard_id,
                             **{name: getattr(c, name) for name in _STATE_FIELDS})


_deferred: ContextVar[bool] = ContextVar("bihuan_summaries_deferred", default=False)


@contextmanager
def deferred() -> Iterator[None]:
    """Bulk generation (the demo city): the hooks book nothing, one rebuild at the end.

    For a process that writes a whole history alone before anyone reads it; the
    rebuild replays the same records the hooks would have booked one by one.
    """
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)
    rebuild()


_UNREAD: Any = object()


def record_hazard_event(hazard: Any, event: Any, *, old: Contribution | None = _UNREAD,
                        batch: Batch | None = None) -> None:
    """The hook: book what ``event`` changed in ``hazard``'s contribution.

    Runs in the transition's transaction, under the hazard's row lock (which
    serialises the transitions of one hazard, and so the reads of its state row).
    ``old``: the hazard's stored contribution when the caller read it with the lock
    (:func:`state_statement`); ``batch``: the caller's statement batch to write through.
    """
    if _deferred.get():
        return
    if old is _UNREAD:
        old = _contribution_of(HazardMetricState.objects.filter(hazard_id=hazard.pk).first())
    view = HazardView(state=hazard.state, deadline=hazard.deadline,
                      paused=hazard.clock_paused_since is not None, severity=hazard.severity)
    day = local_day(event.at)
    checking = missed = False
    if old is None:
        checking, missed = _missed(hazard, hazard.registered_at)
    new = step(old, view, action=event.action, day=day, checking=checking, missed=missed)
    deltas: Deltas = {}
    _book(deltas, hazard.area_id, hazard.campaign_id or 0,
          changes(old, new, action=event.action, day=day,
                  registered_on=local_day(hazard.registered_at)))
    writes = batch if batch is not None else Batch()
    apply(deltas, batch=writes)
    if new != old:
        row = _state_row(hazard.pk, new)
        if old is None:
            writes.add_insert(row)
        else:
            writes.add_update(row, _STATE_FIELDS)
    if batch is None:
        writes.run()


def record_inspection(inspection: Any) -> None:
    """The hook: a submitted inspection may cover its place for the first time."""
    if _deferred.get():
        return
    if inspection.kind in COVERING_EXCLUDED or inspection.submitted_at is None:
        return
    day = local_day(inspection.submitted_at)
    area_id = inspection.place.area_id
    deltas: Deltas = {}
    keys = [0] + ([inspection.campaign_id] if inspection.campaign_id else [])
    for key in keys:
        created = _cover(inspection.place_id, key, area_id, day)
        if created:
            _book(deltas, area_id, key, [(day, "covered", 1)])
    apply(deltas)


def _cover(place_id: int, key: int, area_id: int, day: dt.date) -> bool:
    """Record the place's first qualifying inspection; False when it had one already."""
    existing = PlaceCoverage.objects.filter(place_id=place_id, campaign_key=key).first()
    if existing is not None:
        if day >= existing.first_on:
            return False
        # A visit recorded late but made earlier: move the first day back.
        apply({(existing.area_id, key, existing.first_on): {"covered": -1}})
        existing.first_on = day
        existing.save(update_fields=["first_on"])
        apply({(area_id, key, day): {"covered": 1}})
        return False
    # The unique constraint settles two first visits at once: the loser changes nothing.
    try:
        with transaction.atomic():
            PlaceCoverage.objects.create(place_id=place_id, campaign_key=key, area_id=area_id,
                                         first_on=day)
    except IntegrityError:  # a concurrent first visit won
        return False
    return True


# ---------------------------------------------------------------- replay and rebuild


def view_after(view: HazardView | None, event: Any) -> HazardView:
    """The hazard as ``event`` left it, from the event alone (for the replay)."""
    data = event.data or {}
    action = event.action
    deadline = view.deadline if view else None
    paused = view.paused if view else False
    severity = view.severity if view else Severity.GENERAL
    if view is None:
        severity = data.get("severity") or Severity.GENERAL
    if "deadline" in data and action not in (HazardAction.REQUEST_EXTENSION,):
        raw = data.get("deadline")
        deadline = dt.date.fromisoformat(raw) if raw else (deadline if view else None)
    if action == HazardAction.REQUEST_EXTENSION:
        paused = True
    elif action in (HazardAction.APPROVE_EXTENSION, HazardAction.REFUSE_EXTENSION) or (
        action in (HazardAction.HAND_OVER, HazardAction.VOID) and "decision" in data
    ):
        paused = False
    if action == HazardAction.DECIDE_MAJOR:
        severity = Severity.MAJOR
    return HazardView(state=event.to_state, deadline=deadline, paused=paused, severity=severity)


@dataclass
class Replayed:
    contribution: Contribution
    deltas: list[tuple[dt.date, str, int]]


def replay(events: list[Any], *, registered_on: dt.date, checking: bool = False,
           missed: bool = False) -> Replayed:
    """A hazard's contribution and bookings, from its event history alone.

    Each event has ``action``, ``to_state``, ``data`` and ``day`` (its local day).
    """
    view: HazardView | None = None
    contribution: Contribution | None = None
    out: list[tuple[dt.date, str, int]] = []
    for event in events:
        view = view_after(view, event)
        day = event.day
        new = step(contribution, view, action=event.action, day=day, checking=checking,
                   missed=missed)
        out.extend(changes(contribution, new, action=event.action, day=day,
                           registered_on=registered_on))
        contribution = new
    return Replayed(contribution or Contribution(), out)


@dataclass(frozen=True)
class _Ev:
    action: str
    to_state: str
    day: dt.date
    data: dict[str, Any]


@dataclass(frozen=True)
class _Registered:
    """What the replay needs of a hazard besides its events."""

    pk: int
    area_id: int
    campaign_key: int
    registered_at: dt.datetime
    checking: bool
    missed: bool


def _registered_batches(batch: int) -> Iterator[list[_Registered]]:
    """Every hazard in key order, ``batch`` at a time, with its missed-detection flags.

    The flags are the hook's (:func:`_missed`), asked in the same query for the
    whole batch: a clean visit by a local team in the window before registration,
    looked up only for hazards found by a checking inspection.
    """
    from django.db.models import (
        BooleanField,
        Case,
        DateTimeField,
        Exists,
        ExpressionWrapper,
        OuterRef,
        Value,
        When,
    )

    from bihuan.hazards.models import Hazard
    from bihuan.inspections.models import Inspection

    since = ExpressionWrapper(OuterRef("registered_at")
                              - Value(dt.timedelta(days=missed_window_days())),
                              output_field=DateTimeField())
    clean_visit = Inspection.objects.filter(
        place_id=OuterRef("place_id"), kind__in=LOCAL_KINDS, submitted_at__gte=since,
        submitted_at__lt=OuterRef("registered_at"), hazards__isnull=True)
    checking_kinds = sorted(CHECKING_KINDS)
    last = 0
    while True:
        rows = list(
            Hazard.objects.filter(pk__gt=last).order_by("pk")
            .annotate(missed=Case(When(inspection__kind__in=checking_kinds,
                                       then=Exists(clean_visit)),
                                  default=Value(False), output_field=BooleanField()))
            .values_list("pk", "area_id", "campaign_id", "registered_at", "inspection__kind",
                         "missed")[:batch]
        )
        if not rows:
            return
        yield [_Registered(pk, area_id, campaign_id or 0, registered_at,
                           kind in CHECKING_KINDS, bool(missed))
               for pk, area_id, campaign_id, registered_at, kind, missed in rows]
        last = rows[-1][0]


def _events_between(first: int, last: int) -> dict[int, list[_Ev]]:
    """The events of the hazards ``first``..``last``, in order (plain SQL: the hot loop)."""
    import json

    from bihuan.hazards.models import HazardEvent

    qn = connection.ops.quote_name
    events: dict[int, list[_Ev]] = defaultdict(list)
    on_postgresql = connection.vendor == "postgresql"
    # PostgreSQL hands back the local day itself (a third of the replay's time
    # went into loading timestamps and converting them, ten million times over).
    at = f"({qn('at')} AT TIME ZONE %s)::date" if on_postgresql else qn("at")
    params: list[Any] = [settings.TIME_ZONE] if on_postgresql else []
    with connection.cursor() as cursor:
        # Table name from the model, never from input.
        cursor.execute(
            f"SELECT hazard_id, action, to_state, {at}, data "  # noqa: S608
            f"FROM {qn(HazardEvent._meta.db_table)} WHERE hazard_id BETWEEN %s AND %s "
            "ORDER BY hazard_id, seq", [*params, first, last])
        for hazard_id, action, to_state, when, data in cursor.fetchall():
            if not on_postgresql:  # SQLite: a UTC timestamp without its zone
                when = local_day(when.replace(tzinfo=dt.UTC))
            if isinstance(data, str):
                data = json.loads(data)
            events[hazard_id].append(_Ev(action, to_state, when, data or {}))
    return events


def replay_hazards(deltas: Deltas, batch: int = 5000) -> Iterator[list[tuple[int, Contribution]]]:
    """Replay every hazard's history: book into ``deltas``, yield (id, contribution) batches.

    Streams in batches of ``batch`` hazards, so the rebuild and the verifier
    hold one batch of contributions at a time, not every hazard's.
    """
    for hazards in _registered_batches(batch):
        events = _events_between(hazards[0].pk, hazards[-1].pk)
        out: list[tuple[int, Contribution]] = []
        for h in hazards:
            result = replay(events.get(h.pk, []), registered_on=local_day(h.registered_at),
                            checking=h.checking, missed=h.missed)
            _book(deltas, h.area_id, h.campaign_key, result.deltas)
            out.append((h.pk, result.contribution))
        yield out


def book_coverage(deltas: Deltas,
                  covers: dict[tuple[int, int], tuple[int, dt.date]]) -> None:
    """Book each place's first qualifying visit (see :func:`first_inspections`)."""
    for (_place_id, key), (area_id, day) in covers.items():
        _book(deltas, area_id, key, [(day, "covered", 1)])


def first_inspections() -> dict[tuple[int, int], tuple[int, dt.date]]:
    """(place, campaign key) -> (the place's area, the day of its first qualifying visit)."""
    from django.db.models import Min

    from bihuan.inspections.models import Inspection

    qualifying = Inspection.objects.filter(submitted_at__isnull=False).exclude(
        kind__in=COVERING_EXCLUDED)
    out: dict[tuple[int, int], tuple[int, dt.date]] = {}
    for place_id, area_id, first in (qualifying.values("place_id")
                                     .annotate(first=Min("submitted_at"))
                                     .values_list("place_id", "place__area_id", "first")):
        out[(place_id, 0)] = (area_id, local_day(first))
    for place_id, area_id, campaign_id, first in (
        qualifying.filter(campaign__isnull=False).values("place_id", "campaign_id")
        .annotate(first=Min("submitted_at"))
        .values_list("place_id", "place__area_id", "campaign_id", "first")
    ):
        out[(place_id, campaign_id)] = (area_id, local_day(first))
    return out


def place_counts() -> dict[tuple[int, str], int]:
    """Active places per (area, kind), counted in the place table."""
    from django.db.models import Count

    from bihuan.places.models import Place

    rows: Any = (Place.objects.filter(active=True).values("area_id", "kind")
                 .annotate(n=Count("id")).order_by())
    return {(row["area_id"], row["kind"]): row["n"] for row in rows}


@transaction.atomic
def recount_places() -> None:
    """Recount the active places per area and kind (after places were bulk-loaded)."""
    AreaPlaceCount.objects.all().delete()
    _insert_rows(AreaPlaceCount, ["area_id", "kind", "places", "stamp"],
                 ([area_id, kind, n, new_stamp()]
                  for (area_id, kind), n in sorted(place_counts().items())))


# The summary tables in the order the writers' hooks first touch them.
_SUMMARY_MODELS = (HazardMetricState, PlaceCoverage, AreaDayStats, AreaStats, AreaPlaceCount)
# Read by the hooks only (the rebuild holds them ACCESS EXCLUSIVE, so it may TRUNCATE them).
_HOOK_ONLY_MODELS = (HazardMetricState, PlaceCoverage)


def _lock_summary_tables(attempts: int = 5) -> None:
    """Hold the summary tables against the hooks until the rebuild commits (PostgreSQL).

    Without it a transition committing during the replay is lost (the replay
    did not see it) or counted twice, and its upsert may deadlock with the
    rebuild's inserts after minutes of replay. ``EXCLUSIVE`` lets the
    dashboard keep reading the old rows; the contribution and coverage rows
    are read by the hooks only, and ``ACCESS EXCLUSIVE`` makes a hook wait
    before it reads them, so it books its change against the rebuilt row.
    A hook that already holds one table and wants another can still deadlock
    with these locks; that happens here, before the replay, and is retried.
    """
    if connection.vendor != "postgresql":
        return  # SQLite: one writer at a time anyway.
    qn = connection.ops.quote_name
    statements = [
        f"LOCK TABLE {qn(model._meta.db_table)} IN "
        f"{'ACCESS EXCLUSIVE' if model in _HOOK_ONLY_MODELS else 'EXCLUSIVE'}"
        " MODE"
        for model in _SUMMARY_MODELS
    ]
    for attempt in range(attempts):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
            return
        except OperationalError:  # deadlock with a hook: its savepoint released our locks
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _empty(model: Any) -> None:
    """Delete every row of a summary table inside the rebuild's transaction."""
    if connection.vendor == "postgresql" and model in _HOOK_ONLY_MODELS:
        # Already held ACCESS EXCLUSIVE: TRUNCATE is instant where DELETE would
        # write a dead tuple per hazard (ten million at province scale).
        with connection.cursor() as cursor:
            # Rows written earlier in this transaction leave deferred foreign-key
            # checks pending, and TRUNCATE refuses a table with pending checks:
            # run them now (as Django's own constraint check does).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        model.objects.all().delete()


def _insert_rows(model: Any, columns: list[str], rows: Iterable[list[Any]],
                 chunk: int = 5000) -> int:
    """Append plain rows to a summary table: COPY on PostgreSQL, batched INSERTs elsewhere.

    The rebuild writes millions of rows; model instances and ``bulk_create``
    cost more than the replay itself. Rows are lists of column values in
    ``columns`` order; the columns are the model's, never input.
    """
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    names = ", ".join(qn(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
        part: list[list[Any]] = []
        for row in rows:
            part.append(row)
            if len(part) >= chunk:
                cursor.executemany(sql, part)
                written += len(part)
                part = []
        if part:
            cursor.executemany(sql, part)
            written += len(part)
    return written


_STATE_COLUMNS = ["hazard_id", *_STATE_FIELDS]


def _state_values(pk: int, c: Contribution) -> list[Any]:
    return [pk, *(getattr(c, name) for name in _STATE_FIELDS)]


def analyze_summary_tables() -> None:
    """Fresh planner statistics for the rewritten tables (PostgreSQL).

    After a rebuild the tables hold entirely new rows; until autovacuum gets to
    them the planner would plan the dashboard's reads on the old estimates.
    """
    if connection.vendor != "postgresql":
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(qn(m._meta.db_table) for m in _SUMMARY_MODELS))


def rebuild() -> dict[str, int]:
    """Throw the summary rows away and rebuild them from the raw records, then ANALYZE."""
    result = _rebuild()
    # In its own statement after the commit (inside a caller's transaction it
    # still sees the new rows: ANALYZE counts the own transaction's inserts).
    analyze_summary_tables()
    return result


@transaction.atomic
def _rebuild() -> dict[str, int]:
    _lock_summary_tables()
    for model in (AreaDayStats, AreaStats, HazardMetricState, PlaceCoverage):
        _empty(model)
    deltas: Deltas = {}
    hazards = 0
    # Contributions go out batch by batch while the replay books the day rows.
    for contributions in replay_hazards(deltas):
        hazards += _insert_rows(HazardMetricState, _STATE_COLUMNS,
                                (_state_values(pk, c) for pk, c in contributions))
    covers = first_inspections()
    book_coverage(deltas, covers)
    days, totals = normalised(deltas)
    # In day order, as the hooks create them: the dashboard reads day ranges (the
    # trend's window, the days after D), which then lie on few pages.
    day_rows = _insert_rows(
        AreaDayStats, ["area_id", "campaign_key", "day", *COUNTERS],
        ([area_id, key, day, *(days[(area_id, key, day)].get(c, 0) for c in COUNTERS)]
         for area_id, key, day in sorted(days, key=lambda k: (k[2], k[0], k[1]))))
    # A total row for every (area, campaign) with day rows, even when the changes
    # sum to zero, as the hook leaves them: the stamps of the total rows must
    # cover every day row (see AreaStats.stamp).
    for area_id, key, _day in days:
        totals.setdefault((area_id, key), {})
    total_rows = _insert_rows(
        AreaStats, ["area_id", "campaign_key", *COUNTERS, "stamp"],
        ([area_id, key, *(cell.get(c, 0) for c in COUNTERS), new_stamp()]
         for (area_id, key), cell in sorted(totals.items())))
    recount_places()
    _insert_rows(PlaceCoverage, ["place_id", "campaign_key", "area_id", "first_on"],
                 ([place_id, key, area_id, day]
                  for (place_id, key), (area_id, day) in covers.items()))
    return {"hazards": hazards, "day_rows": day_rows, "total_rows": total_rows}


def table_contents() -> tuple[Deltas, dict[tuple[int, int], dict[str, int]]]:
    """The summary rows as they are (zero rows left out)."""
    day_rows: Deltas = {}
    for row in AreaDayStats.objects.values("area_id", "campaign_key", "day", *COUNTERS):
        cell = {c: row[c] for c in COUNTERS if row[c]}
        if cell:
            day_rows[(row["area_id"], row["campaign_key"], row["day"])] = cell
    totals: dict[tuple[int, int], dict[str, int]] = {}
    for row in AreaStats.objects.values("area_id", "campaign_key", *COUNTERS):
        cell = {c: row[c] for c in COUNTERS if row[c]}
        if cell:
            totals[(row["area_id"], row["campaign_key"])] = cell
    return day_rows, totals


def stored_contributions(first: int, last: int) -> dict[int, Contribution]:
    """The contribution rows of the hazards ``first``..``last`` as stored."""
    return {row[0]: Contribution(**dict(zip(_STATE_FIELDS, row[1:], strict=True)))
            for row in
            HazardMetricState.objects.filter(pk__gte=first, pk__lte=last)
            .values_list(*_STATE_COLUMNS)}


def normalised(deltas: Deltas) -> tuple[Deltas, dict[tuple[int, int], dict[str, int]]]:
    days: Deltas = {}
    totals: dict[tuple[int, int], dict[str, int]] = {}
    for (area_id, key, day), cell in deltas.items():
        kept = {c: v for c, v in cell.items() if v}
        if kept:
            days[(area_id, key, day)] = kept
        total = totals.setdefault((area_id, key), {})
        for c, v in cell.items():
            total[c] = total.get(c, 0) + v
    totals = {k: {c: v for c, v in t.items() if v} for k, t in totals.items()}
    return days, {k: t for k, t in totals.items() if t}


__all__ = ["Contribution", "HazardView", "apply", "rebuild", "record_hazard_event",
           "record_inspection", "replay", "replay_hazards", "step"]
