"""A small city with one persona of each kind, for tests (and nothing else).

Named like healthchecks' alice/bob/charlie: each persona's name says where it
stands, so a test reads as a sentence.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bihuan.accounts.choices import OrgUnitKind, Role
from bihuan.accounts.models import Membership, OrgUnit, User
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.checklists.models import Checklist
from bihuan.checklists.services import load_builtin
from bihuan.hazards.choices import EvidenceKind
from bihuan.hazards.services import EvidenceFile
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Party, Place


def tiny_jpeg(seed: int = 0) -> bytes:
    """A real, small JPEG (Pillow), different per seed."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (seed % 256, (seed * 7) % 256, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def after_photo(seed: int = 0) -> EvidenceFile:
    return EvidenceFile(content=tiny_jpeg(seed), kind=EvidenceKind.AFTER, name="after.jpg")


def before_photo(seed: int = 0) -> EvidenceFile:
    return EvidenceFile(content=tiny_jpeg(seed), kind=EvidenceKind.BEFORE, name="before.jpg")


@dataclass
class World:
    city: Area
    towns: dict[str, Area]
    villages: dict[str, Area]
    grids: dict[str, Area]
    places: dict[str, Place]
    users: dict[str, User]
    parties: dict[str, Party]
    org_units: dict[str, OrgUnit]
    checklists: dict[str, Checklist] = field(default_factory=dict)

    def checklist_for(self, place: Place) -> Checklist:
        for checklist in Checklist.objects.active().filter(domain="fire"):
            if place.kind in checklist.place_kinds:
                return checklist
        raise LookupError(place.kind)


def _area(code: str, name: str, level: str, parent: Area | None) -> Area:
    area = Area(code=code, name=name, short_name=name, level=level, parent=parent,
                latitude=Decimal("28.9"), longitude=Decimal("120.04"))
    area.save()
    return area


def _user(username: str, *grants: tuple[str, Any, Any]) -> User:
    user = User.objects.create_user(username=username, password=None, display_name=username)
    for role, area, org_unit in grants:
        Membership.objects.create(user=user, role=role, area=area, org_unit=org_unit)
    return user


# Persona name → (role, area key or None, org unit key or None)
PERSONAS: dict[str, tuple[str, str | None, str | None]] = {
    "commander": (Role.COMMAND_STAFF, "city", None),
    "east_officer": (Role.TOWN_OFFICER, "east", None),
    "east_officer_2": (Role.TOWN_OFFICER, "east", None),
    "west_officer": (Role.TOWN_OFFICER, "west", None),
    "baita_cadre": (Role.VILLAGE_CADRE, "baita", None),
    "baita_grid_worker": (Role.GRID_WORKER, "baita-1", None),
    "loutang_grid_worker": (Role.GRID_WORKER, "loutang-1", None),
    "fire_inspector": (Role.DEPT_INSPECTOR, None, "fire"),
    "market_inspector": (Role.DEPT_INSPECTOR, None, "market"),
    "landlord": (Role.PARTY, None, None),
    "shopkeeper": (Role.PARTY, None, None),
    "citizen": (Role.CITIZEN, None, None),
    "system_admin": (Role.SYSTEM_ADMIN, None, None),
    "security_admin": (Role.SECURITY_ADMIN, None, None),
    "audit_admin": (Role.AUDIT_ADMIN, None, None),
    "nobody": ("", None, None),
}


def build_world(*, with_checklists: bool = True) -> World:
    city = _area("330784", "永康市", AreaLevel.CITY, None)
    east = _area("330784001000", "东城街道", AreaLevel.TOWN, city)
    west = _area("330784002000", "西城街道", AreaLevel.TOWN, city)
    baita = _area("330784001229", "白塔村", AreaLevel.VILLAGE, east)
    wujin = _area("330784001007", "五金城社区", AreaLevel.VILLAGE, east)
    loutang = _area("330784002231", "楼塘村", AreaLevel.VILLAGE, west)
    grids = {
        "baita-1": _area("330784001229-01", "白塔村第一网格", AreaLevel.GRID, baita),
        "baita-2": _area("330784001229-02", "白塔村第二网格", AreaLevel.GRID, baita),
        "wujin-1": _area("330784001007-01", "五金城社区第一网格", AreaLevel.GRID, wujin),
        "loutang-1": _area("330784002231-01", "楼塘村第一网格", AreaLevel.GRID, loutang),
    }
    org_units = {
        "fire": OrgUnit.objects.create(
            code="fire", name="永康市消防救援大队", kind=OrgUnitKind.DEPARTMENT, area=city,
            place_kinds=[k.value for k in PlaceKind],
        ),
        "market": OrgUnit.objects.create(
            code="market", name="永康市市场监督管理局", kind=OrgUnitKind.DEPARTMENT, area=city,
            place_kinds=[PlaceKind.SHOP.value, PlaceKind.MARKET.value],
        ),
    }
    areas = {"city": city, "east": east, "west": west, "baita": baita, "wujin": wujin,
             "loutang": loutang, **grids}
    users: dict[str, User] = {}
    for name, (role, area_key, org_key) in PERSONAS.items():
        grants = []
        if role:
            grants.append((role, areas[area_key] if area_key else None,
                           org_units[org_key] if org_key else None))
        users[name] = _user(name, *grants)
    parties = {
        "landlord": Party.objects.create(name="楼先生", user=users["landlord"],
                                         phone="13800000001"),
        "shopkeeper": Party.objects.create(name="胡女士", user=users["shopkeeper"],
                                           phone="13900000002"),
        "no_login": Party.objects.create(name="应先生", phone="13700000003"),
    }

    def place(key: str, kind: str, grid: str, party: str) -> Place:
        return Place.objects.create(
            name=key, kind=kind, area=grids[grid], address=f"{grids[grid].name}{key}号",
            latitude=Decimal("28.91"), longitude=Decimal("120.05"), party=parties[party],
        )

    places = {
        "baita_rental": place("baita_rental", PlaceKind.RENTAL_HOUSE, "baita-1", "landlord"),
        "baita_shop": place("baita_shop", PlaceKind.SHOP, "baita-1", "shopkeeper"),
        "baita2_workshop": place("baita2_workshop", PlaceKind.THREE_IN_ONE, "baita-2",
                                 "no_login"),
        "wujin_market": place("wujin_market", PlaceKind.MARKET, "wujin-1", "shopkeeper"),
        "loutang_rental": place("loutang_rental", PlaceKind.RENTAL_HOUSE, "loutang-1",
                                "landlord"),
        "loutang_hotel": place("loutang_hotel", PlaceKind.HOTEL, "loutang-1", "no_login"),
    }
    world = World(city=city, towns={"east": east, "west": west},
                  villages={"baita": baita, "wujin": wujin, "loutang": loutang}, grids=grids,
                  places=places, users=users, parties=parties, org_units=org_units)
    if with_checklists:
        load_builtin()
    return world


def future(days: int = 10, start: dt.date | None = None) -> dt.date:
    from bihuan.core import clock

    return (start or clock.today()) + dt.timedelta(days=days)
