"""Build the demo city: the registry (bulk), then a simulated campaign (services only).

``generate(seed)`` fills an empty, migrated database:

1. the real divisions of Yongkang (14 towns, 452 villages) plus synthetic grids;
2. the command headquarters, six departments and the town offices;
3. officials, responsible parties, citizens and the three administrators;
4. ``places`` synthetic places with their parties, around the town centres;
5. the built-in checklists and the campaign 消防安全双月攻坚行动;
6. the campaign so far, simulated day by day through the inspection and hazard
   services (:mod:`bihuan.demo.simulation`).

Registry rows (areas, people, places) are bulk-created: they are the city as it
stood before the campaign. Everything that happens during the campaign goes
through the services, with the clock frozen at each simulated instant, so
every hazard has its events and audit entries as a real one would.

The same seed on the same day gives the same data (only the demo passwords,
drawn with :mod:`secrets`, differ).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import math
import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from bihuan.accounts.choices import OrgUnitKind, Role
from bihuan.accounts.models import Membership, OrgUnit, Team, User
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.areas.services import load_areas
from bihuan.campaigns.models import Campaign
from bihuan.checklists.services import load_builtin
from bihuan.core import clock
from bihuan.demo import names
from bihuan.places.choices import PartyKind, PartyRole, PlaceKind
from bihuan.places.models import Party, Place

TZ = ZoneInfo("Asia/Shanghai")
AREAS_CSV = Path(__file__).resolve().parent.parent / "areas" / "data" / "yongkang-areas.csv"

CAMPAIGN_NAME = "消防安全双月攻坚行动"
CAMPAIGN_DAYS = 60
CAMPAIGN_STARTED_DAYS_AGO = 35

BAITA = "330784001229"  # 东城街道 白塔村 (from the newspaper article)
WUJINCHENG = "330784001007"  # 东城街道 五金城社区: 五金城金都市场
LIFENG = "330784003003"  # 江南街道 丽丰社区: where the demo puts 丽都景苑 (a guess)
JINSHENG = "330784003001"  # 江南街道 金胜社区: where the demo puts 白墈下分社 (a guess)
COLLECTIVE_HOUSEHOLDS = "330784002010"  # 城西新区集体户居委会: a registration unit only
DONGCHENG = "330784001000"

K = PlaceKind
ALL_KINDS = [k.value for k in PlaceKind]

# Departments: code, name, place kinds in their jurisdiction, number of inspectors.
DEPARTMENTS: list[tuple[str, str, list[str], int]] = [
    ("fire", "永康市消防救援大队", ALL_KINDS, 2),
    ("emergency", "永康市应急管理局", [K.ENTERPRISE], 2),
    ("market", "永康市市场监督管理局", [K.SHOP, K.MARKET], 2),
    ("housing", "永康市住房和城乡建设局", [K.RESIDENTIAL_COMPOUND, K.RENTAL_HOUSE], 1),
    ("police", "永康市公安局", [K.RENTAL_HOUSE, K.HOTEL], 2),
    ("enforcement", "永康市综合行政执法局", [K.SHOP, K.THREE_IN_ONE], 2),
]

# Kind mix (shares) by kind of village: urban community, subdistrict village,
# town-seat community, rural village. Rental houses dominate, then shops.
KIND_MIX: dict[str, dict[str, float]] = {
    "urban_community": {K.RENTAL_HOUSE: 0.42, K.SHOP: 0.33, K.THREE_IN_ONE: 0.06,
                        K.ENTERPRISE: 0.04, K.RESIDENTIAL_COMPOUND: 0.09, K.MARKET: 0.032,
                        K.HOTEL: 0.028},
    "urban_village": {K.RENTAL_HOUSE: 0.55, K.SHOP: 0.2, K.THREE_IN_ONE: 0.12,
                      K.ENTERPRISE: 0.09, K.RESIDENTIAL_COMPOUND: 0.02, K.MARKET: 0.006,
                      K.HOTEL: 0.006},
    "town_community": {K.RENTAL_HOUSE: 0.45, K.SHOP: 0.31, K.THREE_IN_ONE: 0.1,
                       K.ENTERPRISE: 0.06, K.RESIDENTIAL_COMPOUND: 0.04, K.MARKET: 0.02,
                       K.HOTEL: 0.015},
    "rural_village": {K.RENTAL_HOUSE: 0.57, K.SHOP: 0.13, K.THREE_IN_ONE: 0.17,
                      K.ENTERPRISE: 0.12, K.RESIDENTIAL_COMPOUND: 0.002, K.MARKET: 0.002,
                      K.HOTEL: 0.002},
}
# Relative density of places per village (the urban subdistricts are denser).
DENSITY = {"urban_community": 3.2, "urban_village": 1.5, "town_community": 1.6,
           "rural_village": 0.75}
URBAN_TOWNS = {"330784001000", "330784002000", "330784003000"}
PLACES_PER_GRID = 30
# Registered places that have since closed, been demolished or stand empty.
INACTIVE_SHARE = 0.05


@dataclass(eq=False)
class VillageInfo:
    area: Area
    town: Area
    category: str
    lat: float
    lon: float
    grids: list[Area] = field(default_factory=list)
    count: int = 0


@dataclass(eq=False)
class PlaceRec:
    """What the simulation needs to know about a place, without asking the database."""

    pk: int
    name: str
    kind: str
    grid_id: int
    village_id: int
    town_code: str
    party_name: str
    party_user: User | None
    lat: float
    lon: float
    active: bool = True
    hazards: list[Any] = field(default_factory=list)
    patrolled_on: dt.date | None = None


@dataclass(eq=False)
class World:
    """The registry as built, with the people the simulation acts as."""

    city: Area
    towns: dict[str, Area]
    villages: dict[int, VillageInfo]
    org_units: dict[str, OrgUnit]
    command: list[User]
    town_officers: dict[str, list[User]]
    cadres: dict[int, User]
    grid_workers: dict[int, User]
    inspectors: dict[str, list[User]]
    party_users: list[User]
    places: list[PlaceRec]
    teams: list[tuple[Team, str, User]]
    demo: dict[str, User]
    showcase_places: list[PlaceRec]
    campaign: Campaign | None = None


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


# ---------------------------------------------------------------- areas


def _village_category(code: str, town_code: str) -> str:
    community = int(code[9:12]) < 200
    if town_code in URBAN_TOWNS:
        return "urban_community" if community else "urban_village"
    return "town_community" if community else "rural_village"


def _build_areas(rng: random.Random) -> tuple[Area, dict[str, Area], dict[int, VillageInfo]]:
    with AREAS_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["code"] in names.TOWN_CENTRES:
            row["lat"], row["lon"] = names.TOWN_CENTRES[row["code"]]
    load_areas(rows)
    by_code = {a.code: a for a in Area.objects.order_by("pk")}
    city = by_code["330784"]
    towns = {a.code: a for a in by_code.values() if a.level == AreaLevel.TOWN}
    villages: dict[int, VillageInfo] = {}
    for area in by_code.values():
        if area.level != AreaLevel.VILLAGE:
            continue
        town = towns[area.parent.code]  # type: ignore[union-attr]
        # Each village gets a hidden anchor point (not stored: the source has no
        # village coordinates); its places cluster around it, within ~2 km of the centre.
        lat, lon = names.jitter(rng, float(town.latitude), float(town.longitude), 1.4)  # type: ignore[arg-type]
        villages[area.pk] = VillageInfo(area=area, town=town,
                                        category=_village_category(area.code, town.code),
                                        lat=lat, lon=lon)
    return city, towns, villages


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by ``weights`` with the largest-remainder method (exact, stable)."""
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    counts = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _build_grids(villages: dict[int, VillageInfo]) -> None:
    grids = []
    for info in villages.values():
        n = max(1, min(4, math.ceil(info.count / PLACES_PER_GRID)))
        for i in range(1, n + 1):
            name = f"{info.area.short_name}第{i}网格"
            code = f"{info.area.code}-{i:02d}"
            grids.append(Area(code=code, name=name, short_name=name, level=AreaLevel.GRID,
                              parent=info.area, path=f"{info.area.path}{code}/"))
    Area.objects.bulk_create(grids, batch_size=500)
    by_village: dict[int, list[Area]] = {}
    for grid in Area.objects.filter(level=AreaLevel.GRID).order_by("path"):
        by_village.setdefault(grid.parent_id, []).append(grid)  # type: ignore[arg-type]
    for pk, info in villages.items():
        info.grids = by_village[pk]


# ---------------------------------------------------------------- people


def _build_org_units(city: Area, towns: dict[str, Area]) -> dict[str, OrgUnit]:
    units = [OrgUnit(code="hq", name="永康市消防安全双月攻坚行动指挥部",
                     kind=OrgUnitKind.COMMAND, area=city, place_kinds=[])]
    for code, name, kinds, _n in DEPARTMENTS:
        units.append(OrgUnit(code=code, name=name, kind=OrgUnitKind.DEPARTMENT, area=city,
                             place_kinds=[str(k) for k in kinds]))
    for town in towns.values():
        office = f"{town.name}办事处" if town.name.endswith("街道") else f"{town.name}人民政府"
        units.append(OrgUnit(code=f"town-{names.TOWN_PINYIN[town.code]}", name=office,
                             kind=OrgUnitKind.TOWN_OFFICE, area=town, place_kinds=[]))
    OrgUnit.objects.bulk_create(units)
    return {u.code: u for u in OrgUnit.objects.order_by("pk")}


class _People:
    """Collects users and their memberships for two bulk inserts."""

    def __init__(self) -> None:
        self.users: list[User] = []
        self.grants: list[tuple[User, str, Area | None, OrgUnit | None]] = []

    def add(self, username: str, display: str, role: str, area: Area | None = None,
            org_unit: OrgUnit | None = None) -> User:
        user = User(username=username, display_name=display)
        user.set_unusable_password()  # only the demo logins get a password, at the end
        self.users.append(user)
        self.grants.append((user, role, area, org_unit))
        return user

    def save(self) -> None:
        User.objects.bulk_create(self.users, batch_size=1000)
        Membership.objects.bulk_create(
            [Membership(user=u, role=role, area=area, org_unit=org)
             for u, role, area, org in self.grants],
            batch_size=1000,
        )


ORDINALS = "一二三四五六七八九十"


def _build_people(
    city: Area, towns: dict[str, Area], villages: dict[int, VillageInfo],
    org_units: dict[str, OrgUnit], n_party_logins: int,
) -> tuple[_People, dict[str, Any]]:
    people = _People()
    hq = org_units["hq"]
    command = [
        people.add("demo-commander" if i == 0 else f"hq-{i + 1:02d}",
                   f"指挥部 工作人员（{ORDINALS[i]}）", Role.COMMAND_STAFF, city, hq)
        for i in range(2)
    ]
    town_officers: dict[str, list[User]] = {}
    for town in towns.values():
        pinyin = names.TOWN_PINYIN[town.code]
        office = org_units[f"town-{pinyin}"]
        count = 2 if town.code == DONGCHENG else 1
        town_officers[town.code] = [
            people.add(f"demo-town-{pinyin}" if town.code == DONGCHENG and i == 0
                       else f"town-{pinyin}-{i + 1}",
                       f"{town.name} 安全办（{ORDINALS[i]}）", Role.TOWN_OFFICER, town, office)
            for i in range(count)
        ]
    cadres: dict[int, User] = {}
    grid_workers: dict[int, User] = {}
    for pk, info in villages.items():
        short = info.area.code[6:]
        cadres[pk] = people.add(
            "demo-cadre-baita" if info.area.code == BAITA else f"cadre-{short}",
            f"{info.area.short_name} 联村干部", Role.VILLAGE_CADRE, info.area,
        )
        for i, grid in enumerate(info.grids):
            grid_workers[grid.pk] = people.add(
                "demo-grid-baita" if info.area.code == BAITA and i == 0
                else f"grid-{short}-{i + 1:02d}",
                f"{grid.name} 网格员", Role.GRID_WORKER, grid,
            )
    inspectors: dict[str, list[User]] = {}
    for code, name, _kinds, n in DEPARTMENTS:
        short = name.removeprefix("永康市")
        inspectors[code] = [
            people.add("demo-fire-inspector" if code == "fire" and i == 0
                       else f"{code}-{i + 1:02d}",
                       f"{short} 检查员（{ORDINALS[i]}）", Role.DEPT_INSPECTOR, None,
                       org_units[code])
            for i in range(n)
        ]
    citizens = [people.add("demo-citizen" if i == 0 else f"citizen-{i + 1:02d}",
                           f"热心市民（{ORDINALS[i]}）", Role.CITIZEN) for i in range(4)]
    admins = [
        people.add("demo-sysadmin", "系统管理员", Role.SYSTEM_ADMIN),
        people.add("demo-secadmin", "安全管理员", Role.SECURITY_ADMIN),
        people.add("demo-auditadmin", "审计管理员", Role.AUDIT_ADMIN),
    ]
    party_users = [people.add("demo-landlord" if i == 0 else f"party-{i:04d}", "",
                              Role.PARTY) for i in range(n_party_logins)]
    staff = {
        "command": command, "town_officers": town_officers, "cadres": cadres,
        "grid_workers": grid_workers, "inspectors": inspectors, "citizens": citizens,
        "admins": admins, "party_users": party_users,
    }
    return people, staff


# ---------------------------------------------------------------- places and parties


@dataclass(eq=False)
class _PlaceDraft:
    name: str
    kind: str
    address: str
    village: VillageInfo
    grid: Area
    lat: float
    lon: float
    party: int  # index into the party drafts
    floors: int | None = None
    rooms: int | None = None
    active: bool = True


@dataclass(eq=False)
class _PartyDraft:
    name: str
    kind: str
    role: str
    phone: str
    user: User | None = None


class _PlaceFactory:
    """Synthetic names, addresses, coordinates and parties, village by village."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.places: list[_PlaceDraft] = []
        self.parties: list[_PartyDraft] = []
        self.unique = names.UniqueNames()
        self.numbers: dict[str, int] = {}
        self.property_companies: dict[str, int] = {}

    def party(self, name: str, kind: str, role: str) -> int:
        self.parties.append(_PartyDraft(name=name, kind=kind, role=role,
                                        phone=names.phone(self.rng)))
        return len(self.parties) - 1

    def person(self, role: str) -> int:
        return self.party(names.person_name(self.rng), PartyKind.PERSON, role)

    def number(self, key: str) -> int:
        value = self.numbers.get(key, 0) + self.rng.randint(1, 4)
        self.numbers[key] = value
        return value

    def street(self, info: VillageInfo) -> tuple[str, str]:
        """(prefix for names, full address) of a new house number in the village."""
        town = info.town.name
        if info.category in ("urban_community", "town_community"):
            road = self.rng.choice(names.town_roads(info.town.code, town))
            n = self.number(road)
            return f"{road}{n}号", f"永康市{town}{road}{n}号"
        village = info.area.short_name
        n = self.number(village)
        return f"{village}{n}号", f"永康市{town}{village}{n}号"

    def add(self, info: VillageInfo, grid: Area, kind: str, *, name: str | None = None,
            party: int | None = None) -> _PlaceDraft:
        rng = self.rng
        given_name = name is not None
        prefix, address = self.street(info)
        lat, lon = names.jitter(rng, info.lat, info.lon, 0.6)
        floors = rooms = None
        stem = names.stem_of(info.area.short_name)
        if kind == K.RENTAL_HOUSE:
            name = name or self.unique.reserve(f"{prefix}出租房")
            floors, rooms = rng.randint(2, 6), rng.randint(4, 30)
            if party is None:
                previous = self.places[-1] if self.places else None
                if (previous is not None and previous.kind == K.RENTAL_HOUSE
                        and previous.village is info and rng.random() < 0.3):
                    party = previous.party  # a landlord with several houses
                else:
                    party = self.person(PartyRole.LANDLORD)
        elif kind == K.SHOP:
            name = name or self.unique.take(
                lambda r: f"{prefix}{r.choice(names.SHOP_TYPES)}", rng)
            party = party if party is not None else self.person(PartyRole.OPERATOR)
        elif kind == K.THREE_IN_ONE:
            name = name or self.unique.take(
                lambda r: f"{prefix}{r.choice(names.WORKSHOP_PRODUCTS)}"
                          f"{r.choice(names.WORKSHOP_SUFFIXES)}", rng)
            floors = rng.randint(2, 4)
            party = party if party is not None else self.person(PartyRole.OPERATOR)
        elif kind == K.ENTERPRISE:
            name = name or self.unique.take(names.company_name, rng)
            if party is None:
                party = self.party(name, PartyKind.ORGANISATION, PartyRole.OWNER)
        elif kind == K.MARKET:
            name = name or self.unique.take(
                lambda r: f"{stem}{r.choice(names.MARKET_TYPES)}", rng)
            if party is None:
                party = self.party(f"{name}管理办公室", PartyKind.ORGANISATION,
                                   PartyRole.MANAGER)
        elif kind == K.RESIDENTIAL_COMPOUND:
            name = name or self.unique.take(names.compound_name, rng)
            address = f"永康市{info.town.name}{info.area.short_name}{name}"
            if party is None:
                company = rng.choice(names.PROPERTY_COMPANIES)
                if company not in self.property_companies:
                    self.property_companies[company] = self.party(
                        company, PartyKind.ORGANISATION, PartyRole.MANAGER)
                party = self.property_companies[company]
        else:  # hotel
            name = name or self.unique.take(names.hotel_name, rng)
            floors, rooms = rng.randint(3, 12), rng.randint(12, 120)
            if party is None:
                if rng.random() < 0.6:
                    party = self.party(f"永康市{name}管理有限公司", PartyKind.ORGANISATION,
                                       PartyRole.OPERATOR)
                else:
                    party = self.person(PartyRole.OPERATOR)
        draft = _PlaceDraft(name=name, kind=kind, address=address, village=info, grid=grid,
                            lat=lat, lon=lon, party=party, floors=floors, rooms=rooms,
                            active=given_name or rng.random() >= INACTIVE_SHARE)
        self.places.append(draft)
        return draft


def _draw_kind(rng: random.Random, category: str) -> str:
    mix = KIND_MIX[category]
    return rng.choices(list(mix), weights=list(mix.values()))[0]



def _specials(by_code: dict[str, VillageInfo]) -> list[tuple[VillageInfo, str, str | None]]:
    """The demo landlord's three houses in 白塔村 and the places named in the articles."""
    baita = by_code[BAITA]
    return [
        (baita, K.RENTAL_HOUSE, None), (baita, K.RENTAL_HOUSE, None),
        (baita, K.RENTAL_HOUSE, None),
        (by_code[WUJINCHENG], K.MARKET, "五金城金都市场"),
        (by_code[LIFENG], K.RESIDENTIAL_COMPOUND, "丽都景苑"),
        (by_code[JINSHENG], K.RENTAL_HOUSE, "上水碓股份经济合作社白墈下分社"),
    ]


def _allocate_places(rng: random.Random, total: int, villages: dict[int, VillageInfo]) -> None:
    """Places per village, weighted by density (urban subdistricts denser); then grids."""
    by_code = {info.area.code: info for info in villages.values()}
    specials = _specials(by_code)
    infos = list(villages.values())
    weights = [0.0 if i.area.code == COLLECTIVE_HOUSEHOLDS
               else DENSITY[i.category] * (0.6 + 0.8 * rng.random()) for i in infos]
    counts = _allocate(max(0, total - len(specials)), weights)
    for info, count in zip(infos, counts, strict=True):
        info.count = count
    for info, _kind, _name in specials:
        info.count += 1
    _build_grids(villages)


def _build_places(
    rng: random.Random, villages: dict[int, VillageInfo], party_users: list[User],
) -> tuple[list[PlaceRec], list[PlaceRec]]:
    by_code = {info.area.code: info for info in villages.values()}
    specials = _specials(by_code)
    factory = _PlaceFactory(rng)
    landlord = factory.person(PartyRole.LANDLORD)
    showcase: list[_PlaceDraft] = []
    for info, kind, name in specials:
        if name is None:
            draft = factory.add(info, info.grids[0], kind, party=landlord)
            draft.active = True
            showcase.append(draft)
        elif name.endswith("分社"):
            collective = factory.party(name, PartyKind.ORGANISATION, PartyRole.LANDLORD)
            factory.unique.reserve(name)
            factory.add(info, info.grids[0], kind, name=name, party=collective)
        else:
            factory.unique.reserve(name)
            factory.add(info, info.grids[-1], kind, name=name)
    for info in villages.values():
        n = info.count - sum(1 for s in specials if s[0] is info)
        for i in range(n):
            grid = info.grids[i * len(info.grids) // max(1, n)]
            factory.add(info, grid, _draw_kind(rng, info.category))

    # Logins for some parties: the demo landlord first, then a sample of the others.
    parties = factory.parties
    parties[landlord].user = party_users[0]
    others = list(range(len(parties)))
    others.remove(landlord)
    chosen = sorted(rng.sample(others, min(len(others), len(party_users) - 1)))
    for user, index in zip(party_users[1:], chosen, strict=False):
        parties[index].user = user
    with_login: list[User] = []
    for party_draft in parties:
        if party_draft.user is not None:
            party_draft.user.display_name = party_draft.name
            with_login.append(party_draft.user)
    User.objects.bulk_update(with_login, ["display_name"], batch_size=500)
    party_rows = [Party(name=d.name, kind=d.kind, role=d.role, phone=d.phone, user=d.user)
                  for d in parties]
    Party.objects.bulk_create(party_rows, batch_size=1000)
    place_rows = [
        Place(name=d.name, kind=d.kind, area=d.grid, address=d.address,
              latitude=names.coord(d.lat), longitude=names.coord(d.lon),
              party=party_rows[d.party], floors=d.floors, rooms=d.rooms, active=d.active)
        for d in factory.places
    ]
    Place.objects.bulk_create(place_rows, batch_size=1000)
    records = []
    showcase_records = []
    for row, draft in zip(place_rows, factory.places, strict=True):
        party = parties[draft.party]
        rec = PlaceRec(pk=row.pk, name=draft.name, kind=draft.kind, grid_id=draft.grid.pk,
                       village_id=draft.village.area.pk, town_code=draft.village.town.code,
                       party_name=party.name, party_user=party.user, lat=draft.lat,
                       lon=draft.lon, active=draft.active)
        records.append(rec)
        if draft in showcase:
            showcase_records.append(rec)
    return records, showcase_records


def _build_teams(towns: dict[str, Area], staff: dict[str, Any]) -> list[tuple[Team, str, User]]:
    """One cross-inspection team per town: its officers and a fire brigade inspector,
    who records the visits (the only member whose scope reaches other towns)."""
    fire = staff["inspectors"]["fire"]
    teams = []
    for i, town in enumerate(towns.values()):
        team = Team.objects.create(name=f"{town.name}交叉检查组", home_area=town)
        recorder = fire[i % len(fire)]
        team.members.add(*staff["town_officers"][town.code], recorder)
        teams.append((team, town.code, recorder))
    return teams


def _build_world(rng: random.Random, total_places: int) -> World:
    city, towns, villages = _build_areas(rng)
    org_units = _build_org_units(city, towns)
    _allocate_places(rng, total_places, villages)
    n_party_logins = max(12, min(300, round(total_places * 0.015)))
    people, staff = _build_people(city, towns, villages, org_units, n_party_logins)
    people.save()
    records, showcase = _build_places(rng, villages, staff["party_users"])
    by_role = {
        Role.COMMAND_STAFF: staff["command"][0],
        Role.TOWN_OFFICER: staff["town_officers"][DONGCHENG][0],
        Role.VILLAGE_CADRE: next(u for u in staff["cadres"].values()
                                 if u.username == "demo-cadre-baita"),
        Role.GRID_WORKER: next(u for u in staff["grid_workers"].values()
                               if u.username == "demo-grid-baita"),
        Role.DEPT_INSPECTOR: staff["inspectors"]["fire"][0],
        Role.PARTY: staff["party_users"][0],
        Role.CITIZEN: staff["citizens"][0],
        Role.SYSTEM_ADMIN: staff["admins"][0],
        Role.SECURITY_ADMIN: staff["admins"][1],
        Role.AUDIT_ADMIN: staff["admins"][2],
    }
    return World(
        city=city, towns=towns, villages=villages, org_units=org_units,
        command=staff["command"], town_officers=staff["town_officers"],
        cadres=staff["cadres"], grid_workers=staff["grid_workers"],
        inspectors=staff["inspectors"], party_users=staff["party_users"], places=records,
        teams=_build_teams(towns, staff), demo={str(r): u for r, u in by_role.items()},
        showcase_places=showcase,
    )


# ---------------------------------------------------------------- entry point


class _PasswordHasher(threading.Thread):
    """PBKDF2 is slow on purpose: hash the demo passwords beside the simulation."""

    def __init__(self, users: list[User]) -> None:
        super().__init__(name="demo-passwords", daemon=True)
        self.users = users
        self.passwords = {u.username: secrets.token_urlsafe(9) for u in users}

    def run(self) -> None:
        for user in self.users:
            user.set_password(self.passwords[user.username])


def generate(
    seed: int,
    places: int = 20000,
    stdout: TextIO | None = None,
    today: dt.date | None = None,
    defer_summaries: bool = True,
) -> list[tuple[str, str, str]]:
    """Fill an empty, migrated database with the demo city; return one login per role.

    ``today`` is the real current date unless given (tests pin it): the campaign
    started 35 days before it and is simulated up to the day before it.
    ``defer_summaries``: build the dashboard's summaries once at the end instead of
    transition by transition (the tests of the hooks turn it off).
    """
    from bihuan.demo.simulation import Simulation

    began = time.monotonic()

    def say(line: str, timed: bool = False) -> None:
        if stdout is not None:
            if timed:
                line = f"{line}  [{time.monotonic() - began:.1f} s]"
            stdout.write(line + "\n")
            stdout.flush()

    if Area.objects.exists():
        raise RuntimeError("The demo city needs an empty database.")
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=CAMPAIGN_STARTED_DAYS_AGO)
    rng = random.Random(seed)
    hasher: _PasswordHasher | None = None
    with override_settings(BIHUAN_NOTIFY=False):
        try:
            # The registry existed before the campaign: build it "then".
            clock.freeze(at(start - dt.timedelta(days=30), 9))
            say(f"Building the demo city (seed {seed}, {places:,} places)…")
            with transaction.atomic():
                world = _build_world(rng, places)
                # PBKDF2 is slow on purpose: hash the demo passwords on the other core.
                hasher = _PasswordHasher(list(world.demo.values()))
                hasher.start()
                registered = at(start - dt.timedelta(days=60), 9)
                Place.objects.update(created_at=registered)
                from bihuan.dashboard.summaries import recount_places

                # The registry is bulk-loaded past the place signals: count it once.
                recount_places()
                Party.objects.update(created_at=registered)
                User.objects.update(date_joined=registered)
                load_builtin()
                world.campaign = Campaign.objects.create(
                    code=f"SYGJ-{start:%Y%m%d}", name=CAMPAIGN_NAME, area=world.city,
                    starts_on=start, ends_on=start + dt.timedelta(days=CAMPAIGN_DAYS - 1),
                    place_kinds=ALL_KINDS,
                )
            say(f"  {Area.objects.count():,} areas, {User.objects.count():,} users, "
                f"{Party.objects.count():,} parties, {Place.objects.count():,} places", True)
            say(f"Simulating {CAMPAIGN_NAME} from {start} to {today - dt.timedelta(days=1)}…")
            # The registry stays in memory all along: keep the collector off it.
            gc.collect()
            gc.freeze()
            from bihuan.dashboard.summaries import deferred

            # The dashboard's summaries are built once from the finished history (the
            # rebuild replays what the hooks would have booked, transition by transition).
            with deferred() if defer_summaries else contextlib.nullcontext():
                Simulation(world, rng, start=start, today=today, say=say).run()
                # Tenants draw from a random stream of their own: the city is unchanged.
                from bihuan.tenants.demo import generate_tenants

                say(f"  {generate_tenants(seed, today=today):,} tenants in rental houses",
                    True)
                # The campaign's targets, task and responsibility lists, a cross draw.
                from bihuan.campaigns import demo as campaign_demo

                clock.freeze(at(today - dt.timedelta(days=1), 18))
                campaign_demo.build(world, rng, seed)
            say("  dashboard summaries built", True)
        finally:
            gc.unfreeze()
            clock.reset()
            if hasher is not None:
                hasher.join()
    assert hasher is not None
    for user in hasher.users:
        user.save(update_fields=["password"])
    return [(role, user.username, hasher.passwords[user.username])
            for role, user in world.demo.items()]


# ---------------------------------------------------------------- checking


def fingerprint() -> dict[str, Any]:
    """Everything that must be equal between two runs with the same seed and day."""
    from django.apps import apps

    from bihuan.hazards.models import Hazard, HazardEvent

    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model.__module__.startswith("bihuan.")
    }
    hazards = sorted(
        Hazard.objects.values_list("place__name", "code", "state", "severity", "deadline")
    )
    return {
        "counts": counts,
        "states": dict(sorted(Counter(Hazard.objects.values_list("state", flat=True)).items())),
        "events": dict(sorted(Counter(HazardEvent.objects.values_list("action", flat=True))
                              .items())),
        "hazards": hazards,
        "places": sorted(Place.objects.values_list("name", "kind", "area__code", "latitude")),
    }


__all__ = ["fingerprint", "generate"]
