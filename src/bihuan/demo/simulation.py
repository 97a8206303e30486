"""The campaign so far, simulated day by day through the inspection and hazard services.

Every simulated day has three phases, each at its own hours: field work in the
morning (patrols, department inspections, cross-inspections, spot checks,
look-backs), office work in the afternoon (verification, triage, extension
decisions, hand-overs, major-hazard decisions, listed supervision) and the
parties' evening (rectification evidence, extension requests, self-checks).
The clock is frozen at each action's instant, so every record carries the
simulated time.

What happens to a hazard after it is registered is drawn once, when it enters
rectification (its "fate": fixed on time, late, asks for an extension, never,
voided, listed for town supervision), and put on an agenda by date. Whatever
falls after "now" simply has not happened yet: that is where the open hazards
of the demo come from.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction

from bihuan.accounts.models import OrgUnit, Team, User
from bihuan.checklists.choices import ItemSeverity
from bihuan.checklists.models import Checklist, ChecklistItem
from bihuan.core import clock, workdays
from bihuan.demo import names
from bihuan.demo.generator import PlaceRec, World, at
from bihuan.hazards import services as svc
from bihuan.hazards.choices import (
    OPEN_STATES,
    EvidenceKind,
    HazardState,
    Severity,
    SupervisionLevel,
)
from bihuan.hazards.models import Hazard
from bihuan.hazards.rules import FIELD
from bihuan.inspections.choices import FollowUpOutcome, InspectionKind, ItemOutcome
from bihuan.inspections.services import Finding, submit_inspection
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Place
from bihuan.reports import services as reports

S = HazardState
K = PlaceKind
IK = InspectionKind

# Share of a kind's places inspected by a department rather than the grid.
DEPARTMENT_SHARE: dict[str, float] = {
    K.RENTAL_HOUSE: 0.08, K.SHOP: 0.22, K.THREE_IN_ONE: 0.28, K.ENTERPRISE: 0.5,
    K.MARKET: 0.65, K.RESIDENTIAL_COMPOUND: 0.35, K.HOTEL: 0.6,
}
# Chance that an inspection of a kind finds at least one hazard (≈ 40 % overall).
HAZARD_RATE: dict[str, float] = {
    K.RENTAL_HOUSE: 0.42, K.SHOP: 0.36, K.THREE_IN_ONE: 0.6, K.ENTERPRISE: 0.46,
    K.MARKET: 0.55, K.RESIDENTIAL_COMPOUND: 0.44, K.HOTEL: 0.32,
}
# How often a checklist item is the one found, by severity: behaviour is common,
# candidate major hazards are rare.
ITEM_WEIGHT: dict[str, float] = {
    ItemSeverity.ON_THE_SPOT: 6.0, ItemSeverity.GENERAL: 1.0, ItemSeverity.MAJOR_CANDIDATE: 0.08,
}
# Chance that a finding is fixed while the inspector waits (立查立改), by severity.
ON_SPOT: dict[str, float] = {
    ItemSeverity.ON_THE_SPOT: 0.97, ItemSeverity.GENERAL: 0.65, ItemSeverity.MAJOR_CANDIDATE: 0.0,
}
# Share of the active places inspected by "now" (the campaign is past its middle).
COVERAGE = 0.30

# Fates, drawn when a hazard enters rectification: (name, probability).
FATES: dict[str, list[tuple[str, float]]] = {
    "fresh": [("on_time", 0.70), ("late", 0.12), ("extension", 0.06), ("never", 0.07),
              ("void", 0.015), ("listed", 0.035)],
    "retry": [("on_time", 0.80), ("late", 0.12), ("never", 0.08)],
    "after_extension": [("on_time", 0.85), ("late", 0.10), ("never", 0.05)],
}
PHASES = {"field": ((8, 30), (11, 45)), "office": ((14, 0), (17, 30)),
          "evening": ((18, 30), (21, 30))}


@dataclass(frozen=True)
class ItemInfo:
    code: str
    text: str
    severity: str
    days: int


@dataclass(eq=False)
class HazRec:
    pk: int
    place: PlaceRec
    code: str
    state: str
    deadline: dt.date | None
    severity: str
    candidate: bool
    found_by: User
    org: OrgUnit | None
    closed_by: int | None = None
    submitted_by: int | None = None
    paused: bool = False
    supervision: str = SupervisionLevel.NONE
    plan: int = 0
    pinned: bool = False  # a showcase hazard: its story is written by hand

    def sync(self, hazard: Hazard) -> None:
        self.state = hazard.state
        self.deadline = hazard.deadline
        self.severity = hazard.severity
        self.candidate = hazard.major_candidate
        self.closed_by = hazard.closed_by_id
        self.submitted_by = hazard.rectification_submitted_by_id
        self.paused = hazard.clock_paused_since is not None
        self.supervision = hazard.supervision_level


class Photos:
    """Tiny JPEGs: a few colours, encoded once, each copy made unique by a JPEG
    comment (so no two hazards share a photo by accident, which the closure
    integrity check would rightly flag). The comment carries a per-run nonce: the
    files of an earlier demo left in MEDIA_ROOT never collide with this run's."""

    def __init__(self) -> None:
        from bihuan.testing import tiny_jpeg

        self.base = [tiny_jpeg(seed) for seed in (11, 47, 83, 131, 173, 211)]
        self.nonce = secrets.token_hex(4)
        self.count = 0

    def make(self, kind: str, place: PlaceRec, taken_at: dt.datetime) -> svc.EvidenceFile:
        self.count += 1
        base = self.base[self.count % len(self.base)]
        text = f"bihuan demo photo {self.nonce}-{self.count}".encode()
        comment = b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text
        offset = ((self.count % 7) - 3) * 0.00004
        return svc.EvidenceFile(
            content=base[:2] + comment + base[2:], kind=kind, name=f"{kind}.jpg",
            taken_at=taken_at, latitude=round(place.lat + offset, 6),
            longitude=round(place.lon - offset, 6),
        )


@dataclass
class _Week:
    inspections: int = 0
    hazards: int = 0
    closed: int = 0


@dataclass(eq=False)
class Simulation:
    world: World
    rng: random.Random
    start: dt.date
    today: dt.date
    say: Callable[..., None]
    agenda: dict[dt.date, list[tuple[str, str, Any, int | None]]] = field(default_factory=dict)
    hazards: list[HazRec] = field(default_factory=list)
    week: _Week = field(default_factory=_Week)
    photos: Photos = field(default_factory=Photos)
    documents: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.checklists: dict[str, Checklist] = {}
        self.items: dict[int, list[ItemInfo]] = {}
        # The items' rows too: every visit hands them to the service (published
        # checklist versions never change), instead of its reading them again.
        self.item_rows: dict[int, list[ChecklistItem]] = {}
        for checklist in Checklist.objects.active().filter(domain="fire").order_by("code"):
            rows = list(checklist.items.select_related("deadline_rule").order_by("order"))
            self.item_rows[checklist.pk] = rows
            self.items[checklist.pk] = [
                ItemInfo(i.code, i.text, i.severity, i.deadline_rule.working_days)
                for i in rows]
            for kind in checklist.place_kinds:
                self.checklists.setdefault(kind, checklist)
        w = self.world
        self.campaign = w.campaign
        self.party_places: dict[int, list[PlaceRec]] = {}
        for place in w.places:
            if place.party_user is not None and place.active:
                self.party_places.setdefault(place.party_user.pk, []).append(place)
        self.departments: dict[str, list[tuple[OrgUnit, float]]] = {}
        for code in ("fire", "emergency", "market", "housing", "police", "enforcement"):
            unit = w.org_units[code]
            for kind in unit.place_kinds:
                self.departments.setdefault(kind, []).append((unit, 1.0 if code == "fire"
                                                              else 1.5))
        self.clean_pool: list[PlaceRec] = []
        self.active_places = [p for p in w.places if p.active]
        # 随手拍: about two citizen reports a day in a city of 20,000 places.
        self.report_rate = max(0.2, len(w.places) / 10000)
        self.reports: list[tuple[int, PlaceRec]] = []
        self.days = [self.start + dt.timedelta(days=i)
                     for i in range((self.today - self.start).days)]
        self.working = {d: workdays.is_working_day(d) for d in self.days}
        self.cursor = 0
        # The registry's place rows (with area and party), read a day's worth at a
        # time: the registry does not change during the campaign.
        self.place_rows: dict[int, Place] = {}

    # ------------------------------------------------------------ scheduling

    def workday(self, day: dt.date) -> dt.date:
        while not workdays.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def later_workday(self, day: dt.date, low: int, high: int) -> dt.date:
        return workdays.add_working_days(day, self.rng.randint(low, high))

    def schedule(self, day: dt.date, phase: str, action: str, target: Any,
                 plan: int | None = None) -> None:
        if day < self.today:
            self.agenda.setdefault(day, []).append((phase, action, target, plan))

    def plan(self, h: HazRec, day: dt.date, context: str) -> None:
        """Draw what the party will do about a hazard that (again) needs rectifying."""
        h.plan += 1
        if h.pinned:
            return
        rng = self.rng
        assert h.deadline is not None
        span = max(1, (h.deadline - day).days)
        roll = rng.random()
        fate = FATES[context][-1][0]
        for name, share in FATES[context]:
            if roll < share:
                fate = name
                break
            roll -= share
        if fate == "extension" and span < 5:
            fate = "late"
        self._apply_fate(h, day, fate, span)

    def _apply_fate(self, h: HazRec, day: dt.date, fate: str, span: int) -> None:
        rng = self.rng
        assert h.deadline is not None
        one_day = dt.timedelta(days=1)
        if fate == "on_time":
            self.schedule(day + one_day * rng.randint(1, span), "evening", "submit", h, h.plan)
        elif fate == "late":
            self.schedule(h.deadline + one_day * rng.randint(1, 10), "evening", "submit", h,
                          h.plan)
        elif fate == "extension":
            self.schedule(day + one_day * rng.randint(1, span - 2), "evening", "extend", h,
                          h.plan)
        elif fate == "never":
            if rng.random() < 0.5:
                self.schedule(self.workday(h.deadline + one_day * rng.randint(3, 8)), "office",
                              "hand_over", h, h.plan)
        elif fate == "void":
            self.schedule(self.workday(day + one_day * rng.randint(1, 5)), "office", "void", h,
                          h.plan)
        elif fate == "listed":
            self.schedule(self.workday(h.deadline + one_day * rng.randint(2, 4)), "office",
                          "list_town", h, h.plan)
            self.schedule(h.deadline + one_day * rng.randint(8, 16), "evening", "submit", h,
                          h.plan)

    # ------------------------------------------------------------ the loop

    def run(self) -> None:
        w = self.world
        rng = self.rng
        queue = [p for p in w.places if p.active and p not in w.showcase_places]
        rng.shuffle(queue)
        active = sum(1 for p in w.places if p.active)
        target = min(len(queue), round(active * COVERAGE))
        weights = []
        for i, day in enumerate(self.days):
            weight = 1.0 if self.working[day] else 0.3
            weights.append(weight * (0.5 if i == 0 else 1.0))
        from bihuan.demo.generator import _allocate

        quotas = _allocate(target, weights)
        first_working = next((d for d in self.days if self.working[d]), None)
        for index, day in enumerate(self.days):
            with transaction.atomic():
                todays = queue[self.cursor:self.cursor + quotas[index]]
                self.cursor += quotas[index]
                self.place_rows.update(Place.objects.select_related("area", "party").in_bulk(
                    [p.pk for p in todays if p.pk not in self.place_rows]))
                self.run_day(day, todays, showcase=day == first_working,
                             last=index == len(self.days) - 1)
            if (index + 1) % 7 == 0 or index == len(self.days) - 1:
                self.report_week(index)
        self.summary()

    def run_day(self, day: dt.date, todays: list[PlaceRec], *, showcase: bool,
                last: bool) -> None:
        rng = self.rng
        w = self.world
        due = self.agenda.pop(day, [])
        field_work: list[Callable[[], None]] = []
        if showcase:
            field_work.append(lambda: self.showcase(day))
        for place in todays:
            field_work.append(partial(self.routine_inspection, day, place))
        if self.working[day] and day >= self.start + dt.timedelta(days=7):
            for _ in range(int(len(todays) * 0.015 + rng.random())):
                field_work.append(lambda: self.cross_inspection(day))
            for _ in range(int(len(todays) * 0.01 + rng.random())):
                field_work.append(lambda: self.spot_check(day))
        office: list[Callable[[], None]] = []
        evening: list[Callable[[], None]] = []
        for phase, action, target, plan in due:
            call = self._bound(day, action, target, plan)
            {"field": field_work, "office": office, "evening": evening}[phase].append(call)
        for user in w.party_users:
            if rng.random() < 0.012 and self.party_places.get(user.pk):
                evening.append(partial(self.self_check, day, user))
        for _ in range(int(self.report_rate + rng.random())):
            evening.append(partial(self.citizen_report, day))
        if last:
            evening.append(lambda: self.final_touches(day))
        for phase, calls in (("field", field_work), ("office", office), ("evening", evening)):
            (h0, m0), (h1, m1) = PHASES[phase]
            begin = at(day, h0, m0)
            span = (at(day, h1, m1) - begin).total_seconds()
            for i, call in enumerate(calls):
                clock.freeze(begin + dt.timedelta(seconds=int(span * (i + 0.5) / len(calls))))
                call()

    def _bound(self, day: dt.date, action: str, target: Any,
               plan: int | None) -> Callable[[], None]:
        method = getattr(self, f"do_{action}")
        return lambda: method(day, target, plan)

    # ------------------------------------------------------------ people

    def officer(self, place: PlaceRec) -> User:
        return self.rng.choice(self.world.town_officers[place.town_code])

    def field_worker(self, place: PlaceRec) -> User:
        w = self.world
        if self.rng.random() < 0.8:
            return w.grid_workers[place.grid_id]
        return w.cadres[place.village_id]

    def submitter(self, place: PlaceRec) -> User:
        if place.party_user is not None and self.rng.random() < 0.9:
            return place.party_user
        return self.field_worker(place)

    def inspector_of(self, unit: OrgUnit) -> User:
        return self.rng.choice(self.world.inspectors[unit.code])

    def field_access(self, actor: User, place: PlaceRec) -> svc.FieldAccess:
        """``svc.field_access(actor, place)`` for a place read in bulk: the same grants
        (``grants_over``), without reading the place again for every visit. Anything
        but an official working in their own scope goes through the service."""
        row = self.place_rows.get(place.pk)
        if row is not None:
            grants = svc.grants_over(actor, row.area.path, row.kind,
                                     row.party.user_id if row.party else None)
            if any(g.role in FIELD for g in grants):
                return svc.FieldAccess(row, grants)
        access = svc.field_access(actor, place.pk)
        self.place_rows.setdefault(place.pk, access.place)
        return access

    # ------------------------------------------------------------ inspections

    def routine_inspection(self, day: dt.date, place: PlaceRec) -> None:
        rng = self.rng
        if rng.random() < DEPARTMENT_SHARE[place.kind]:
            units = self.departments[place.kind]
            unit = rng.choices([u for u, _w in units], weights=[wt for _u, wt in units])[0]
            self.inspect(day, place, self.inspector_of(unit), IK.DEPARTMENT, org=unit,
                         rate=HAZARD_RATE[place.kind] + 0.05)
            return
        if rng.random() < 0.9:
            actor = self.world.grid_workers[place.grid_id]
        else:
            actor = self.world.cadres[place.village_id]
        found = self.inspect(day, place, actor, IK.GRID_PATROL, rate=HAZARD_RATE[place.kind])
        place.patrolled_on = day
        if not found:
            self.clean_pool.append(place)

    def _recently_clean(self, day: dt.date, exclude_town: str | None = None) -> PlaceRec | None:
        """A place the local team passed as clean at least two days ago."""
        rng = self.rng
        for _ in range(12):
            if not self.clean_pool:
                return None
            place = self.clean_pool[rng.randrange(len(self.clean_pool))]
            if place.town_code == exclude_town or place.patrolled_on is None:
                continue
            if (day - place.patrolled_on).days >= 2:
                return place
        return None

    def cross_inspection(self, day: dt.date) -> None:
        """交叉互查: a team of one town inspects a place another town passed as clean."""
        team, town_code, recorder = self.rng.choice(self.world.teams)
        place = self._recently_clean(day, exclude_town=town_code)
        if place is not None:
            self.inspect(day, place, recorder, IK.CROSS, team=team, rate=0.18)

    def spot_check(self, day: dt.date) -> None:
        """随机抽查: a town officer checks whether a grid's patrol was real."""
        place = self._recently_clean(day)
        if place is not None:
            self.inspect(day, place, self.officer(place), IK.SPOT_CHECK, rate=0.12)

    def self_check(self, day: dt.date, user: User) -> None:
        place = self.rng.choice(self.party_places[user.pk])
        for h in self.inspect(day, place, user, IK.SELF_CHECK, rate=0.35):
            self.schedule(self.later_workday(day, 1, 3), "office", "triage", h)

    def _draw_items(self, items: list[ItemInfo], *, self_check: bool) -> list[ItemInfo]:
        rng = self.rng
        pool = [i for i in items
                if not (self_check and i.severity == ItemSeverity.MAJOR_CANDIDATE)]
        n = rng.choices((1, 2, 3), weights=(0.55, 0.3, 0.15))[0]
        picked: list[ItemInfo] = []
        for _ in range(min(n, len(pool))):
            item = rng.choices(pool, weights=[ITEM_WEIGHT[i.severity] for i in pool])[0]
            picked.append(item)
            pool.remove(item)
        return picked

    def inspect(
        self, day: dt.date, place: PlaceRec, actor: User, kind: str, *,
        rate: float, org: OrgUnit | None = None, team: Team | None = None,
        forced: list[tuple[ItemInfo, bool]] | None = None,
    ) -> list[HazRec]:
        """One visit through ``submit_inspection``; returns the hazards it registered."""
        rng = self.rng
        checklist = self.checklists[place.kind]
        items = self.items[checklist.pk]
        now = clock.now()
        started = now - dt.timedelta(minutes=rng.randint(12, 40))
        self_check = kind == IK.SELF_CHECK
        if forced is not None:
            chosen = forced
        elif rng.random() < rate:
            chosen = []
            for item in self._draw_items(items, self_check=self_check):
                on_spot = not self_check and rng.random() < ON_SPOT[item.severity]
                chosen.append((item, on_spot))
        else:
            chosen = []
        findings = []
        for item, on_spot in chosen:
            # The fewest photos the rule needs: an after-photo for a fix on the spot;
            # a before-photo for some findings.
            evidence = []
            if rng.random() < (0.03 if on_spot else 0.2):
                evidence.append(self.photos.make(EvidenceKind.BEFORE, place,
                                                 started + dt.timedelta(minutes=5)))
            if on_spot:
                evidence.append(self.photos.make(EvidenceKind.AFTER, place,
                                                 now - dt.timedelta(minutes=2)))
            description = item.text
            if rng.random() < 0.5:
                description = f"{item.text}（{rng.choice(names.LOCATIONS)}）"
            findings.append(Finding(item_code=item.code, description=description,
                                    rectified_on_spot=on_spot, evidence=tuple(evidence)))
        # Only the failed items are recorded (the service marks findings as failed);
        # a row per compliant item would double the cost of the demo.
        results: dict[str, str] = {}
        carried = {
            h.pk: (FollowUpOutcome.STILL_PRESENT if h.state in (S.RECTIFYING, S.ENFORCEMENT)
                   else FollowUpOutcome.RECTIFIED if h.state == S.PENDING_VERIFICATION
                   else FollowUpOutcome.NOT_CHECKED)
            for h in place.hazards if h.state in OPEN_STATES
        }
        inspection = submit_inspection(
            actor=actor, place=place.pk, kind=kind, checklist=checklist, results=results,
            findings=findings, carried=carried, campaign=self.campaign, team=team,
            org_unit=org, started_at=started, access=self.field_access(actor, place),
            items=self.item_rows[checklist.pk],
            # Every hazard of a place is registered here and kept in ``place.hazards``:
            # a place without any has none open (the service reads them otherwise).
            open_hazards=None if place.hazards else [],
        )
        self.week.inspections += 1
        if not findings:
            return []
        created = []
        rows = Hazard.objects.filter(inspection=inspection).order_by("pk").values_list(
            "pk", "code", "state", "deadline", "severity", "major_candidate", "closed_by_id")
        for pk, code, state, deadline, severity, candidate, closed_by in rows:
            h = HazRec(pk=pk, place=place, code=code, state=state, deadline=deadline,
                       severity=severity, candidate=candidate, found_by=actor, org=org,
                       closed_by=closed_by)
            self.hazards.append(h)
            place.hazards.append(h)
            created.append(h)
            self.week.hazards += 1
            if h.state == S.CLOSED:
                self.week.closed += 1
                if forced is None and rng.random() < 0.03:
                    self.schedule(day + dt.timedelta(days=rng.randint(7, 18)), "field",
                                  "look_back", h)
            elif h.state == S.RECTIFYING:
                if forced is None:
                    self.plan(h, day, "fresh")
                if h.candidate:
                    self.schedule(self.later_workday(day, 2, 5), "office", "decide_major", h)
        return created

    # ------------------------------------------------------------ actions

    def _current(self, h: HazRec, plan: int | None, *states: str) -> bool:
        return (plan is None or plan == h.plan) and h.state in states

    def do_submit(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, plan, S.RECTIFYING):
            return
        if h.paused:
            self.schedule(day + dt.timedelta(days=2), "evening", "submit", h, plan)
            return
        actor = self.submitter(h.place)
        photo = self.photos.make(EvidenceKind.AFTER, h.place,
                                 clock.now() - dt.timedelta(minutes=self.rng.randint(5, 90)))
        h.sync(svc.submit_rectification(h.pk, actor=actor, evidence=[photo],
                                        note="已按整改要求完成整改，附整改后照片。"))
        self.schedule(self.later_workday(day, 1, 3), "office", "verify", h, h.plan)

    def do_verify(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, plan, S.PENDING_VERIFICATION):
            return
        rng = self.rng
        place = h.place
        if h.org is not None and h.severity != Severity.MAJOR and rng.random() < 0.4:
            verifier = self.inspector_of(h.org)
        else:
            verifier = self.officer(place)
        if rng.random() < 0.88:
            h.sync(svc.pass_verification(h.pk, actor=verifier, note="现场复查，整改到位。"))
            self.week.closed += 1
            if h.supervision != SupervisionLevel.NONE:
                self.schedule(self.later_workday(day, 1, 2), "office", "delist", h)
            if rng.random() < 0.06:
                self.schedule(day + dt.timedelta(days=rng.randint(7, 18)), "field",
                              "look_back", h)
        else:
            deadline = workdays.add_working_days(day, rng.randint(3, 5))
            h.sync(svc.fail_verification(h.pk, actor=verifier, reason=rng.choice(
                names.FAIL_REASONS), deadline=deadline))
            self.plan(h, day, "retry")

    def do_extend(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, plan, S.RECTIFYING) or h.paused or h.deadline is None:
            return
        rng = self.rng
        actor = h.place.party_user or self.world.grid_workers[h.place.grid_id]
        wanted = workdays.add_working_days(max(h.deadline, day), rng.randint(5, 10))
        svc.request_extension(h.pk, actor=actor, reason=rng.choice(names.EXTENSION_REASONS),
                              requested_deadline=wanted)
        h.paused = True
        self.schedule(self.later_workday(day, 1, 3), "office", "decide_extension", h, h.plan)

    def do_decide_extension(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, plan, S.RECTIFYING) or not h.paused:
            return
        rng = self.rng
        approve = rng.random() < 0.65
        svc.decide_extension(h.pk, actor=self.officer(h.place), approve=approve,
                             reason="" if approve else rng.choice(names.EXTENSION_REFUSALS))
        h.sync(Hazard.objects.get(pk=h.pk))
        self.plan(h, day, "after_extension")

    def do_hand_over(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if (not self._current(h, plan, S.RECTIFYING) or h.paused or h.deadline is None
                or h.deadline >= day):
            return
        rng = self.rng
        if h.org is not None and rng.random() < 0.5:
            actor = self.inspector_of(h.org)
        else:
            actor = self.officer(h.place)
        enforcer = self._enforcer(h)
        h.sync(svc.hand_over_to_enforcement(h.pk, actor=actor,
                                            reason=rng.choice(names.HAND_OVER_REASONS),
                                            department=enforcer.name))
        self.schedule(self.later_workday(day, 3, 7), "office", "enforcement_result", h, h.plan)

    def _enforcer(self, h: HazRec) -> OrgUnit:
        unit = self.world.org_units["enforcement"]
        return unit if h.place.kind in unit.place_kinds else self.world.org_units["fire"]

    def do_enforcement_result(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, plan, S.ENFORCEMENT):
            return
        rng = self.rng
        actor = self.inspector_of(self._enforcer(h))
        h.sync(svc.record_enforcement_result(
            h.pk, actor=actor, reason=rng.choice(names.ENFORCEMENT_RESULTS),
            deadline=workdays.add_working_days(day, rng.randint(3, 7))))
        self.plan(h, day, "retry")

    def do_void(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, plan, *OPEN_STATES):
            return
        h.sync(svc.void_hazard(h.pk, actor=self.officer(h.place),
                               reason=self.rng.choice(names.VOID_REASONS)))

    def _document(self, prefix: str, day: dt.date) -> str:
        key = f"{prefix}{day.year}"
        self.documents[key] += 1
        return f"{prefix}〔{day.year}〕{self.documents[key]}号"

    def do_list_town(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if (not self._current(h, plan, S.RECTIFYING) or h.supervision != SupervisionLevel.NONE
                or h.severity == Severity.MAJOR):
            return
        place = h.place
        town = self.world.towns[place.town_code]
        stem = town.name.removesuffix("街道").removesuffix("镇")
        svc.list_supervision(
            h.pk, actor=self.officer(place), level=SupervisionLevel.TOWN,
            document_number=self._document(f"{stem}消安督", day),
            responsible_person=place.party_name,
            deadline=workdays.add_working_days(day, 10),
            delivered_by=str(self.world.cadres[place.village_id]),
            signed_for_by=place.party_name,
        )
        h.supervision = SupervisionLevel.TOWN

    def do_decide_major(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if not self._current(h, None, *OPEN_STATES) or not h.candidate:
            return
        rng = self.rng
        officer = self.officer(h.place)
        confirmed = rng.random() < 0.6
        standard = "GB 35181—2025" if day >= dt.date(2025, 11, 1) else "GB 35181—2017"
        participants = [str(officer), *rng.sample(names.EXPERTS, rng.randint(3, 4))]
        if confirmed:
            minutes = f"经集体讨论，依据{standard}判定为重大火灾隐患，报请市级挂牌督办。"
        else:
            minutes = f"经集体讨论，依据{standard}不构成重大火灾隐患，按一般隐患限期整改。"
        svc.decide_major(h.pk, actor=officer, confirmed=confirmed, participants=participants,
                         minutes=minutes)
        h.sync(Hazard.objects.get(pk=h.pk))
        if confirmed:
            self.schedule(self.later_workday(day, 1, 2), "office", "list_city", h)

    def do_list_city(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if h.state not in OPEN_STATES:
            return
        command = self.world.command
        deadline = h.deadline if h.deadline and h.deadline >= day else None
        svc.list_supervision(
            h.pk, actor=command[0], level=SupervisionLevel.CITY,
            document_number=self._document("永消督", day),
            responsible_person=h.place.party_name,
            deadline=deadline or workdays.add_working_days(day, 20),
            delivered_by=str(command[1]), signed_for_by=h.place.party_name,
        )
        h.supervision = SupervisionLevel.CITY

    def do_delist(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        if h.state not in (S.CLOSED, S.VOIDED) or h.supervision == SupervisionLevel.NONE:
            return
        if h.supervision == SupervisionLevel.CITY:
            actor = self.world.command[0]
        else:
            actor = self.officer(h.place)
        h.sync(svc.delist_supervision(h.pk, actor=actor, reason="隐患已整改并验收销号，予以摘牌。"))

    def do_triage(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        """A reported hazard (self-check, citizen): the grid confirms it on site, or the
        village dismisses it."""
        if not self._current(h, None, S.REPORTED) or h.pinned:
            return
        rng = self.rng
        place = h.place
        if rng.random() < 0.75:
            worker = self.world.grid_workers[place.grid_id]
            if h.code:
                h.sync(svc.confirm_report(h.pk, actor=worker))
            else:  # a citizen's words, no checklist item: the requirement and deadline are set
                h.sync(svc.confirm_report(h.pk, actor=worker, requirement=names.REPORT_REQUIREMENT,
                                          deadline=workdays.add_working_days(day, 3)))
            self.plan(h, day, "fresh")
        else:
            h.sync(svc.dismiss_report(h.pk, actor=self.world.cadres[place.village_id],
                                      reason=rng.choice(names.DISMISS_REASONS)))

    def do_look_back(self, day: dt.date, h: HazRec, plan: int | None) -> None:
        """回头看: someone who did not close the hazard re-inspects the place."""
        if h.state != S.CLOSED:
            return
        rng = self.rng
        place = h.place
        w = self.world
        candidates = [w.cadres[place.village_id], *w.town_officers[place.town_code],
                      *w.command]
        actor = next(u for u in candidates if u.pk != h.closed_by)
        fails = rng.random() < 0.15
        checklist = self.checklists[place.kind]
        codes = {i.code for i in self.items[checklist.pk]}
        results = {h.code: ItemOutcome.FAIL} if fails and h.code in codes else {}
        carried = {x.pk: FollowUpOutcome.NOT_CHECKED for x in place.hazards
                   if x.state in OPEN_STATES}
        submit_inspection(actor=actor, place=place.pk, kind=IK.LOOK_BACK, checklist=checklist,
                          results=results, carried=carried, campaign=self.campaign,
                          access=self.field_access(actor, place),
                          items=self.item_rows[checklist.pk],
                          started_at=clock.now() - dt.timedelta(minutes=rng.randint(10, 25)),
                          note="回头看")
        self.week.inspections += 1
        if fails:
            h.sync(svc.fail_look_back(h.pk, actor=actor,
                                      reason=rng.choice(names.LOOK_BACK_FAIL_REASONS),
                                      deadline=workdays.add_working_days(day, 3)))
            self.plan(h, day, "retry")
        else:
            h.sync(svc.pass_look_back(h.pk, actor=actor, note="回头看：整改效果保持良好。"))

    # ------------------------------------------------------------ citizen reports

    def citizen_report(self, day: dt.date) -> None:
        """随手拍: a citizen reports what they saw, without an account."""
        rng = self.rng
        original: int | None = None
        if self.reports and rng.random() < 0.15:
            original, place = self.reports[rng.randrange(len(self.reports))]
        else:
            place = rng.choice(self.active_places)
        located = rng.random() < 0.8
        lat, lon = names.jitter(rng, place.lat, place.lon, 0.05)
        photo = (self.photos.make(EvidenceKind.BEFORE, place, clock.now()).content
                 if rng.random() < 0.7 else None)
        number = len(self.reports) + 1
        report = reports.file_report(
            description=rng.choice(names.CITIZEN_REPORTS), photo=photo,
            latitude=names.coord(lat) if located else None,
            longitude=names.coord(lon) if located else None,
            place_description=place.name if rng.random() < 0.6 else "",
            contact=names.phone(rng) if rng.random() < 0.3 else "",
            town=self.world.towns[place.town_code],
            # Documentation addresses (RFC 5737): one per reporter, for the rate limit.
            client_ip=f"198.51.100.{number % 250 + 1}",
        )
        self.reports.append((report.pk, place))
        self.schedule(self.later_workday(day, 1, 2), "office", "triage_report",
                      (report.pk, place, original))

    def do_triage_report(self, day: dt.date, target: tuple[int, PlaceRec, int | None],
                         plan: int | None) -> None:
        """The town checks the report: a duplicate, a hazard at the place, or nothing."""
        rng = self.rng
        report, place, original = target
        officer = self.officer(place)
        if original is not None and original != report:
            reports.mark_duplicate(actor=officer, report=report, of=original)
        elif rng.random() < 0.7:
            hazard = reports.triage_accept(actor=officer, report=report, place=place.pk)
            h = HazRec(pk=hazard.pk, place=place, code=hazard.code, state=hazard.state,
                       deadline=hazard.deadline, severity=hazard.severity,
                       candidate=hazard.major_candidate, found_by=officer, org=None)
            self.hazards.append(h)
            place.hazards.append(h)
            self.week.hazards += 1
            self.schedule(self.later_workday(day, 1, 3), "office", "triage", h)
        else:
            reports.triage_dismiss(actor=officer, report=report,
                                   reason=rng.choice(names.REPORT_DISMISSALS))

    # ------------------------------------------------------------ showcase, final touches

    def _item(self, place: PlaceRec, severity: str, max_days: int, skip: int = 0,
              min_days: int = 0) -> ItemInfo:
        items = self.items[self.checklists[place.kind].pk]
        matching = [i for i in items
                    if i.severity == severity and min_days <= i.days <= max_days]
        return matching[skip % len(matching)]

    def showcase(self, day: dt.date) -> None:
        """The demo landlord's three houses in 白塔村, visited by the demo grid worker."""
        w = self.world
        worker = w.demo["grid_worker"]
        a, b, c = w.showcase_places
        hs = self.inspect(day, a, worker, IK.GRID_PATROL, rate=1, forced=[
            (self._item(a, ItemSeverity.ON_THE_SPOT, 30), True),
            (self._item(a, ItemSeverity.GENERAL, 3), False),
        ])
        hs[1].pinned = True  # never rectified: overdue at "now"
        (h,) = self.inspect(day, b, worker, IK.GRID_PATROL, rate=1, forced=[
            (self._item(b, ItemSeverity.GENERAL, 7, skip=1), False)])
        self._apply_fate(h, day, "on_time", max(1, (h.deadline - day).days))  # type: ignore[operator]
        (h,) = self.inspect(day, c, worker, IK.GRID_PATROL, rate=1, forced=[
            (self._item(c, ItemSeverity.GENERAL, 30, min_days=7), False)])
        self._apply_fate(h, day, "extension", max(6, (h.deadline - day).days))  # type: ignore[operator]

    def final_touches(self, day: dt.date) -> None:
        """The last evening: the demo landlord reports a hazard in a self-check, and any
        state the dice left out is produced, so the demo shows every state."""
        w = self.world
        landlord = w.demo["party"]
        c = w.showcase_places[2]
        for h in self.inspect(day, c, landlord, IK.SELF_CHECK, rate=1, forced=[
                (self._item(c, ItemSeverity.GENERAL, 30, skip=3), False)]):
            h.pinned = True
        present = Counter(h.state for h in self.hazards)

        def first(*states: str, paused: bool | None = None) -> HazRec | None:
            return next((h for h in self.hazards if h.state in states and not h.pinned
                         and (paused is None or h.paused == paused)), None)

        def step() -> None:
            clock.advance(dt.timedelta(minutes=3))

        if not present[S.DISMISSED]:
            others = [u for u in w.party_users[1:] if self.party_places.get(u.pk)]
            place = self.party_places[others[0].pk][0]
            step()
            (h,) = self.inspect(day, place, others[0], IK.SELF_CHECK, rate=1, forced=[
                (self._item(place, ItemSeverity.GENERAL, 30), False)])
            step()
            h.sync(svc.dismiss_report(h.pk, actor=w.cadres[place.village_id],
                                      reason=names.DISMISS_REASONS[0]))
        if not present[S.ENFORCEMENT] and (rec := first(S.RECTIFYING, paused=False)):
            step()
            rec.sync(svc.hand_over_to_enforcement(rec.pk, actor=self.officer(rec.place),
                                                  reason=names.HAND_OVER_REASONS[0],
                                                  department=self._enforcer(rec).name))
        if not present[S.VOIDED] and (rec := first(S.RECTIFYING, paused=False)):
            step()
            rec.sync(svc.void_hazard(rec.pk, actor=self.officer(rec.place),
                                     reason=names.VOID_REASONS[0]))
        if not present[S.PENDING_VERIFICATION] and (rec := first(S.RECTIFYING, paused=False)):
            step()
            rec.sync(svc.submit_rectification(
                rec.pk, actor=w.grid_workers[rec.place.grid_id],
                evidence=[self.photos.make(EvidenceKind.AFTER, rec.place, clock.now())]))

    # ------------------------------------------------------------ progress

    def report_week(self, index: int) -> None:
        number = index // 7 + 1
        first = self.days[(number - 1) * 7]
        last = self.days[index]
        open_count = sum(1 for h in self.hazards if h.state in OPEN_STATES)
        self.say(f"  week {number}  {first} … {last}: {self.week.inspections:5,} inspections, "
                 f"{self.week.hazards:5,} hazards found, {self.week.closed:5,} closed; "
                 f"{open_count:,} open", True)
        self.week = _Week()

    def summary(self) -> None:
        states = Counter(h.state for h in self.hazards)
        overdue = Hazard.objects.overdue(self.today).count()
        self.say(f"Hazards: {len(self.hazards):,} in all, {overdue:,} overdue on {self.today}",
                 True)
        for state in HazardState:
            self.say(f"  {state.value:22} {states.get(state.value, 0):6,}")
