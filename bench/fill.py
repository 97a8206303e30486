"""Fill the bench database with a realistic city, fast.

    python bench/fill.py --hazards 1000000 [--places N] [--reset] [--seed 1]

What it builds (all in ONE transaction: a failure leaves the database as it was):

* the area tree of Yongkang (``areas/data/yongkang-areas.csv`` through
  ``bihuan.areas.services.load_areas_csv``) plus 2–4 grids per village;
* the built-in checklists (``bihuan.checklists.services.load_builtin``);
* departments, and the officials of every level: a commander, two officers per
  town, a cadre per village, a worker per grid, fire and market inspectors,
  the three administrators, citizens, and a login for ~40 % of the parties;
* ``--places`` places (default hazards / 10) of every kind, with their parties;
* inspections (with findings, and clean visits);
* ``--hazards`` hazards over three years in a realistic state mix, each WITH its
  history: 1–4 ``HazardEvent`` rows (``seq`` 1..``version``, the path consistent
  with the state, actors holding the role the event names) and one audit entry
  per event, hash-chained per stream ``hazards.hazard:<id>`` exactly as
  ``bihuan.audit.services.record`` does (a fast re-implementation of
  ``entry_hash``, compared with the app's own on a sample while filling;
  ``--verify`` re-hashes random chains with the app's code afterwards), so
  ``bihuan audit verify`` passes on the filled database.

Speed: rows are generated in Python and streamed with ``COPY ... FREEZE``
(psycopg 3 ``cursor.copy``) on Django's own connection, in batches of hazards
that a writer thread COPYs while the next batch is generated (the server ingests
on one core while Python generates on the other). Secondary indexes, non-primary
unique constraints and foreign keys of the big tables are dropped first and
rebuilt after the load with their exact catalog names and definitions;
re-adding the foreign keys makes PostgreSQL validate every loaded row.

Not generated: evidence files, extension requests, supervisions, notifications,
per-item inspection results (only the inspections themselves) — none of them is
read by the transition path.

Running it again with the same ``--hazards`` on a filled database does nothing;
a different size needs ``--reset`` (TRUNCATE of the domain tables, which the
append-only triggers allow).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import hashlib
import json
import queue
import random
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from common import PROJECT_DIR, Row, report, setup_django, timed

AREAS_CSV = PROJECT_DIR / "src" / "bihuan" / "areas" / "data" / "yongkang-areas.csv"
YEARS = 3
SPAN = YEARS * 365 * 86400.0
UTC = dt.UTC
CHUNK = 20_000
BATCH = 20_000  # hazards per COPY batch

# Apps whose tables --reset empties (plus their auto-created many-to-many tables).
RESET_APPS = {
    "accounts", "areas", "places", "checklists", "campaigns", "inspections", "hazards", "audit",
    "notifications", "django_tasks_db", "admin", "sessions",
}
BIG_TABLES = ["hazards_hazard", "hazards_hazardevent", "audit_auditentry",
              "inspections_inspection", "places_place"]

# Places: kind → weight.
PLACE_KINDS = [("rental_house", 35), ("shop", 30), ("three_in_one", 12), ("enterprise", 10),
               ("residential_compound", 5), ("hotel", 5), ("market", 3)]
KIND_LABEL = {"rental_house": "出租房", "shop": "沿街店铺", "three_in_one": "三合一场所",
              "enterprise": "企业", "residential_compound": "住宅小区", "hotel": "旅馆",
              "market": "专业市场"}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于"
            "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹"
            "薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤应楼")
STREETS = ["解放街", "胜利街", "总部中心路", "九铃东路", "丽州中路", "五金大道", "城西路",
           "江南路", "华丰路", "望春路", "金城路", "溪心路"]
CITIZEN_DESCRIPTIONS = [
    "楼道堆放杂物堵塞疏散通道", "电动自行车在楼道内充电", "飞线充电", "消防通道被车辆占用",
    "店铺内住人", "灭火器过期", "安全出口上锁", "私拉乱接电线",
]
CONFIRM_REQUIREMENTS = ["立即清理，保持通道畅通", "停止违规充电，拆除飞线", "按规范整改"]
REASONS = {
    "verify_fail": ["整改不到位，灭火器仍过期", "现场复查仍有飞线充电", "疏散通道仍有堆物"],
    "hand_over": ["逾期未整改，移交执法", "拒不整改，移交消防救援大队"],
    "enforcement_result": ["已责令限期改正并处罚款", "已临时查封，限期整改"],
    "look_back_fail": ["回头看发现隐患反弹", "回头看发现再次违规充电"],
    "void": ["重复登记", "登记错误，场所不符"],
    "dismiss": ["经核实不属于隐患", "现场核查无此情况"],
    "submit_rectification": ["已整改", "已整改完毕，请验收", ""],
}

# State mix by age of the hazard: (upper bound in days, [(state, weight)]).
STATE_MIX = [
    (30, [("reported", 15), ("rectifying", 50), ("pending_verification", 15),
          ("enforcement", 1), ("closed", 15), ("dismissed", 2), ("voided", 2)]),
    (180, [("reported", 3), ("rectifying", 30), ("pending_verification", 8),
           ("enforcement", 3), ("closed", 50), ("dismissed", 3), ("voided", 3)]),
    (10**9, [("reported", 0.5), ("rectifying", 8), ("pending_verification", 2),
             ("enforcement", 1), ("closed", 81.5), ("dismissed", 4), ("voided", 3)]),
]
# Typical gap before each action, in days (low, high).
GAPS = {
    "confirm": (0.2, 3), "dismiss": (0.2, 3), "submit_rectification": (1, 15),
    "verify_pass": (0.5, 5), "verify_fail": (0.5, 5), "hand_over": (10, 30),
    "enforcement_result": (5, 20), "look_back_pass": (30, 90), "look_back_fail": (30, 90),
    "void": (1, 10),
}
TARGET_OF = {
    "register": "rectifying", "report": "reported", "rectify_on_spot": "closed",
    "confirm": "rectifying", "dismiss": "dismissed", "submit_rectification":
    "pending_verification", "verify_pass": "closed", "verify_fail": "rectifying",
    "hand_over": "enforcement", "enforcement_result": "rectifying",
    "look_back_pass": "closed", "look_back_fail": "rectifying", "void": "voided",
}


def _cumulative(pairs: list[tuple[str, float]]) -> tuple[list[float], list[str]]:
    total = sum(w for _s, w in pairs)
    acc, bounds = 0.0, []
    for _s, w in pairs:
        acc += w / total
        bounds.append(acc)
    return bounds, [s for s, _w in pairs]


MIX = [(days, *_cumulative(pairs)) for days, pairs in STATE_MIX]
KIND_BOUNDS, KIND_NAMES = _cumulative([(k, float(w)) for k, w in PLACE_KINDS])


def esc(value: str) -> str:
    """Escape a value for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                 .replace("\r", "\\r"))
    return value


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "obj"):  # psycopg's Json/Jsonb wrapper of a JSONField value
        return esc(json.dumps(value.obj, ensure_ascii=False))
    return esc(str(value))


_EXTRAS: dict[tuple[str, tuple[str, ...]], tuple[list[str], str]] = {}


def with_defaults(table: str, columns: Iterable[str]) -> tuple[list[str], str]:
    """``columns`` plus every other NOT NULL column of ``table``'s model, with its default.

    The generator names the columns it knows; a field added to a model later
    (with a Python-side default, as Django does) would otherwise break COPY.
    Only columns present in the database count (an unmigrated bench database
    still fills). Returns the column list and the text to append to every row.
    """
    key = (table, tuple(columns))
    if key not in _EXTRAS:
        from django.apps import apps
        from django.db import connection

        model = next(m for m in apps.get_models() if m._meta.db_table == table)
        with connection.cursor() as cursor:
            in_db = {c.name for c in connection.introspection.get_table_description(cursor,
                                                                                      table)}
        names, values = list(key[1]), []
        for f in model._meta.concrete_fields:
            if f.column in names or f.column not in in_db or f.null or f.has_db_default():
                continue
            names.append(f.column)
            values.append(_copy_text(f.get_db_prep_save(f.get_default(), connection)))
        _EXTRAS[key] = (names, "".join(f"\t{v}" for v in values))
    return _EXTRAS[key]


def add_workdays(day: dt.date, days: int) -> dt.date:
    """Monday–Friday arithmetic (the generator ignores holidays; the app does not)."""
    weeks, rest = divmod(days, 5)
    day += dt.timedelta(days=7 * weeks)
    while rest:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            rest -= 1
    return day


def copy_lines(cursor: Any, table: str, columns: Iterable[str], lines: Iterable[str],
               *, freeze: bool) -> int:
    """Stream ``lines`` (COPY text rows with their newline) into ``table``."""
    names, suffix = with_defaults(table, columns)
    sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    if freeze:
        sql += " WITH (FREEZE)"
    count = 0
    buffer: list[str] = []
    with cursor.copy(sql) as copy:
        for line in lines:
            buffer.append(line)
            if len(buffer) >= CHUNK:
                text = "".join(buffer)
                copy.write(text.replace("\n", suffix + "\n") if suffix else text)
                count += len(buffer)
                buffer.clear()
        if buffer:
            text = "".join(buffer)
            copy.write(text.replace("\n", suffix + "\n") if suffix else text)
            count += len(buffer)
    return count


# ---------------------------------------------------------------- schema helpers


def drop_secondary_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop foreign keys, non-primary unique constraints and plain indexes of ``tables``.

    Returns the DDL that rebuilds them exactly (names and definitions from the
    catalog): indexes first, then the foreign keys, which PostgreSQL validates.
    """
    rebuild: list[str] = []
    foreign_keys: list[str] = []
    for table in tables:
        # Outgoing foreign keys: re-adding them makes PostgreSQL validate every row.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            foreign_keys.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            """
            SELECT c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            WHERE c.conrelid = %s::regclass AND c.contype = 'u'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                              WHERE f.contype = 'f' AND f.conindid = c.conindid)
            """,
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {name}")
            rebuild.append(definition)
    return rebuild + foreign_keys


def reset_tables() -> list[str]:
    from django.apps import apps

    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in RESET_APPS:
            tables.add(model._meta.db_table)
    return sorted(tables)


def bump_identity(cursor: Any, tables: Iterable[str]) -> None:
    for table in tables:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


# ---------------------------------------------------------------- the city


class City:
    """Everything the hazard generator needs, as plain lists and dicts."""

    def __init__(self) -> None:
        self.city_id = 0
        self.fire_org_id = 0
        self.towns: list[dict[str, Any]] = []
        self.villages: list[dict[str, Any]] = []
        self.grids: list[dict[str, Any]] = []
        self.user_repr: dict[int, str] = {}
        self.fire_inspectors: list[int] = []
        self.market_inspectors: list[int] = []
        self.citizens: list[int] = []
        # Places as parallel lists (index = place id - 1).
        self.place_kind: list[str] = []
        self.place_grid: list[int] = []
        self.place_party_user: list[int] = []
        self.login_places: list[int] = []
        self.items: dict[str, list[tuple[int, str, str, str, str, int, int]]] = {}
        self.checklist_of: dict[str, int] = {}


def build_areas(rng: random.Random, city: City) -> None:
    from bihuan.areas.choices import AreaLevel
    from bihuan.areas.models import Area
    from bihuan.areas.services import load_areas_csv

    load_areas_csv(AREAS_CSV)
    numerals = "一二三四五六"
    grids = []
    villages = list(Area.objects.filter(level=AreaLevel.VILLAGE).order_by("code"))
    for village in villages:
        for k in range(1, rng.randint(2, 4) + 1):
            code = f"{village.code}-{k:02d}"
            grids.append(Area(code=code, name=f"{village.short_name}第{numerals[k - 1]}网格",
                              short_name=f"{village.short_name}{k}网格",
                              level=AreaLevel.GRID, parent=village,
                              path=f"{village.path}{code}/", latitude=village.latitude,
                              longitude=village.longitude))
    Area.objects.bulk_create(grids, batch_size=2000)
    by_id = {a.pk: a for a in Area.objects.all()}
    for area in by_id.values():
        if area.level == AreaLevel.CITY:
            city.city_id = area.pk
    town_index = {}
    for area in sorted(by_id.values(), key=lambda a: a.path):
        if area.level == AreaLevel.TOWN:
            town_index[area.pk] = len(city.towns)
            city.towns.append({"id": area.pk, "code": area.code, "name": area.short_name,
                               "path": area.path})
    village_index = {}
    for area in sorted(by_id.values(), key=lambda a: a.path):
        if area.level == AreaLevel.VILLAGE:
            village_index[area.pk] = len(city.villages)
            city.villages.append({"id": area.pk, "code": area.code, "name": area.short_name,
                                  "town": town_index[area.parent_id]})
    for area in sorted(by_id.values(), key=lambda a: a.path):
        if area.level == AreaLevel.GRID:
            village = city.villages[village_index[area.parent_id]]
            city.grids.append({"id": area.pk, "code": area.code, "name": area.name,
                               "village": village_index[area.parent_id],
                               "town": village["town"]})


def build_checklists(city: City) -> None:
    from bihuan.checklists.models import Checklist, ChecklistItem
    from bihuan.checklists.services import load_builtin

    load_builtin()
    for checklist in Checklist.objects.active().filter(domain="fire").order_by("code"):
        for kind in checklist.place_kinds:
            city.checklist_of.setdefault(kind, checklist.pk)
    for kind, checklist_id in city.checklist_of.items():
        city.items[kind] = [
            (i.pk, i.code, i.text, i.requirement, i.severity, i.deadline_rule_id,
             i.deadline_rule.working_days)
            for i in ChecklistItem.objects.filter(checklist_id=checklist_id)
            .select_related("deadline_rule").order_by("order")
        ]


def build_people_and_places(cursor: Any, rng: random.Random, city: City, n_places: int,
                            n_citizens: int, now: dt.datetime) -> dict[str, int]:
    from bihuan.accounts.choices import OrgUnitKind, Role
    from bihuan.accounts.models import OrgUnit

    kinds_all = [k for k, _w in PLACE_KINDS]
    org = {
        "command": OrgUnit.objects.create(code="command", name="永康市消防安全委员会办公室",
                                          kind=OrgUnitKind.COMMAND, area_id=city.city_id),
        "fire": OrgUnit.objects.create(code="fire", name="永康市消防救援大队",
                                       kind=OrgUnitKind.DEPARTMENT, area_id=city.city_id,
                                       place_kinds=kinds_all),
        "market": OrgUnit.objects.create(code="market", name="永康市市场监督管理局",
                                         kind=OrgUnitKind.DEPARTMENT, area_id=city.city_id,
                                         place_kinds=["shop", "market"]),
    }
    city.fire_org_id = org["fire"].pk
    OrgUnit.objects.bulk_create([
        OrgUnit(code=f"town-{t['code']}", name=f"{t['name']}办事处",
                kind=OrgUnitKind.TOWN_OFFICE, area_id=t["id"]) for t in city.towns
    ])
    stamp = now.isoformat()
    users: list[str] = []
    memberships: list[str] = []

    def user(username: str, display: str, role: str = "", area_id: int | None = None,
             org_id: int | None = None) -> int:
        uid = len(users) + 1
        users.append(f"{uid}\t!{secrets.token_hex(20)}\t\\N\tf\t{username}\t\t\t\tf\tt\t"
                     f"{stamp}\t{display}\n")
        city.user_repr[uid] = display or username
        if role:
            memberships.append(f"{len(memberships) + 1}\t{role}\tt\t"
                               f"{area_id if area_id else chr(92) + 'N'}\t{uid}\t"
                               f"{org_id if org_id else chr(92) + 'N'}\n")
        return uid

    user("commander", "指挥部值班员", Role.COMMAND_STAFF, city.city_id)
    for town in city.towns:
        town["officers"] = [user(f"town_officer_{town['code']}_{k}", f"{town['name']}干部{k}",
                                 Role.TOWN_OFFICER, town["id"]) for k in (1, 2)]
    for village in city.villages:
        village["cadre"] = user(f"village_cadre_{village['code']}", f"{village['name']}村干部",
                                Role.VILLAGE_CADRE, village["id"])
    for grid in city.grids:
        grid["worker"] = user(f"grid_worker_{grid['code']}", f"{grid['name']}网格员",
                              Role.GRID_WORKER, grid["id"])
    city.fire_inspectors = [user(f"fire_inspector_{i:02d}", f"消防监督员{i:02d}",
                                 Role.DEPT_INSPECTOR, None, org["fire"].pk) for i in range(1, 21)]
    city.market_inspectors = [user(f"market_inspector_{i:02d}", f"市场监管员{i:02d}",
                                   Role.DEPT_INSPECTOR, None, org["market"].pk)
                              for i in range(1, 11)]
    for name in ("system_admin", "security_admin", "audit_admin"):
        user(name, name, name)
    city.citizens = [user(f"citizen_{i:05d}", f"市民{i:05d}", Role.CITIZEN)
                     for i in range(1, n_citizens + 1)]

    # Parties: two places per party on average; 40 % have a login.
    n_parties = max(1, n_places * 2 // 3)
    parties: list[str] = []
    party_user: list[int] = []
    for pid in range(1, n_parties + 1):
        organisation = rng.random() < 0.25
        name = (f"永康市{rng.choice(SURNAMES)}{rng.choice('金鑫华恒盛达隆')}"
                f"{rng.choice(['五金厂', '贸易有限公司', '工贸有限公司', '酒店'])}"
                if organisation else
                f"{rng.choice(SURNAMES)}{'先生' if rng.random() < 0.6 else '女士'}")
        uid = 0
        if rng.random() < 0.4:
            uid = user(f"party_{pid}", name, Role.PARTY)
        party_user.append(uid)
        phone = f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"
        parties.append(f"{pid}\t{name}\t{'organisation' if organisation else 'person'}\t"
                       f"{'operator' if organisation else rng.choice(['owner', 'landlord'])}\t"
                       f"{phone}\t{stamp}\t{uid if uid else chr(92) + 'N'}\n")

    places: list[str] = []
    n_grids = len(city.grids)
    for place_id in range(1, n_places + 1):
        kind = KIND_NAMES[bisect.bisect_left(KIND_BOUNDS, rng.random())]
        gi = rng.randrange(n_grids)
        party = place_id if place_id <= n_parties else rng.randint(1, n_parties)
        grid = city.grids[gi]
        street = rng.choice(STREETS)
        number = rng.randint(1, 999)
        trade = rng.choice(["五金", "电器", "门业", "杯业"])
        name = (f"{street}{number}号{KIND_LABEL[kind]}" if kind != "enterprise"
                else f"永康{rng.choice(SURNAMES)}氏{trade}厂")
        lat = 28.80 + rng.random() * 0.25
        lon = 119.90 + rng.random() * 0.30
        floors = rng.randint(1, 8)
        places.append(
            f"{place_id}\t{name}\t{kind}\t{grid['name']}{street}{number}号\t{lat:.6f}\t{lon:.6f}\t"
            f"{floors}\t{rng.randint(1, 40)}\t{secrets.token_urlsafe(16)}\tt\t{stamp}\t"
            f"{grid['id']}\t{party}\n"
        )
        city.place_kind.append(kind)
        city.place_grid.append(gi)
        uid = party_user[party - 1]
        city.place_party_user.append(uid)
        if uid:
            city.login_places.append(place_id)

    user_cols = ["id", "password", "last_login", "is_superuser", "username", "first_name",
                 "last_name", "email", "is_staff", "is_active", "date_joined", "display_name"]
    counts = {
        "users": copy_lines(cursor, "accounts_user", user_cols, users, freeze=False),
        "memberships": copy_lines(cursor, "accounts_membership",
                                  ["id", "role", "active", "area_id", "user_id", "org_unit_id"],
                                  memberships, freeze=False),
        "parties": copy_lines(cursor, "places_party",
                              ["id", "name", "kind", "role", "phone", "created_at", "user_id"],
                              parties, freeze=False),
        "places": copy_lines(cursor, "places_place",
                             ["id", "name", "kind", "address", "latitude", "longitude", "floors",
                              "rooms", "qr_token", "active", "created_at", "area_id", "party_id"],
                             places, freeze=True),
    }
    return counts


# ---------------------------------------------------------------- hazards and their history

_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=str).encode
_JSON = json.JSONEncoder(ensure_ascii=False).encode
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
N = "\\N"  # COPY's NULL


class _Entry:
    """Duck-typed stand-in for an AuditEntry: what ``entry_hash`` reads, nothing more."""

    __slots__ = ("action", "actor_id", "actor_repr", "at", "client_ip", "data", "object_id",
                 "object_type", "prev_hash", "seq", "stream")


def fast_hash(stream: str, seq: int, at_iso: str, actor_id: int, actor_repr: str,
              action: str, object_id: str, data_json: str, client_ip: str | None,
              prev: str) -> str:
    """``bihuan.audit.services.entry_hash`` of a hazard entry, from pre-encoded parts.

    The canonical payload is ``json.dumps(..., sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))``; its keys in sorted order are written out here, with
    ``data`` already encoded the same way (``data_json``). Valid only for strings
    that need no JSON escaping (the generator's names, codes and reasons);
    ``check_hash`` compares it with the app's ``entry_hash`` on a sample while
    filling, and ``--verify`` re-hashes with the app's own code afterwards.
    """
    ip = f'"{client_ip}"' if client_ip else "null"
    text = (f'{{"action":"{action}","actor":{actor_id},"actor_repr":"{actor_repr}",'
            f'"at":"{at_iso}","client_ip":{ip},"data":{data_json},"object_id":"{object_id}",'
            f'"object_type":"hazards.hazard","prev":"{prev}","seq":{seq},"stream":"{stream}"}}')
    return hashlib.sha256(text.encode()).hexdigest()


def check_hash(digest: str, stream: str, seq: int, at: dt.datetime, actor_id: int,
               actor_repr: str, action: str, object_id: str, data: dict[str, Any],
               client_ip: str | None, prev: str) -> None:
    from bihuan.audit.services import entry_hash

    entry = _Entry()
    entry.stream, entry.seq, entry.at, entry.actor_id = stream, seq, at, actor_id
    entry.actor_repr, entry.action, entry.object_type = actor_repr, action, "hazards.hazard"
    entry.object_id, entry.data, entry.client_ip, entry.prev_hash = (
        object_id, json.loads(json.dumps(data)), client_ip, prev)
    expected = entry_hash(entry)  # type: ignore[arg-type]
    if expected != digest:
        raise AssertionError(f"fill's hash of {stream}#{seq} differs from entry_hash")


def _path(state: str, official: bool, on_the_spot: bool, x: float) -> list[str]:
    """The actions that lead to ``state`` (1–4 of them)."""
    start = ["register"] if official else ["report", "confirm"]
    if state == "reported":
        return ["report"]
    if state == "dismissed":
        return ["report", "dismiss"]
    if state == "rectifying":
        if x < 0.6:
            return start
        if x < 0.8:
            return [*start, "submit_rectification", "verify_fail"]
        if x < 0.88 or not official:
            return [*start, "hand_over", "enforcement_result"]
        return ["register", "submit_rectification", "verify_pass", "look_back_fail"]
    if state == "pending_verification":
        if x < 0.85 or not official:
            return [*start, "submit_rectification"]
        return ["register", "submit_rectification", "verify_fail", "submit_rectification"]
    if state == "enforcement":
        return [*start, "hand_over"]
    if state == "closed":
        if official and on_the_spot and x < 0.7:
            return ["rectify_on_spot"]
        if official and x > 0.85:
            return ["register", "submit_rectification", "verify_pass", "look_back_pass"]
        return [*start, "submit_rectification", "verify_pass"]
    if state == "voided":
        return [*start, "void"]
    raise ValueError(state)


class Batch:
    """COPY rows of one slice of hazards, per table, as UTF-8 bytes."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {t: [] for t in COPY_COLUMNS}

    def encoded(self) -> dict[str, tuple[int, bytes]]:
        out = {}
        for table, lines in self.lines.items():
            text = "".join(lines)
            suffix = with_defaults(table, COPY_COLUMNS[table])[1]
            if suffix:
                text = text.replace("\n", suffix + "\n")
            out[table] = (len(lines), text.encode())
        return out


class HazardGenerator:
    """Hazards in time order, each with its events and hash-chained audit entries."""

    def __init__(self, rng: random.Random, city: City, n_hazards: int, now: dt.datetime,
                 first_audit_id: int) -> None:
        self.rng = rng
        self.city = city
        self.n_hazards = n_hazards
        self.now_ts = now.timestamp()
        self.first_audit_id = first_audit_id
        self.state_counts: dict[str, int] = {}
        self.inspection_id = 0
        self.ip_pool = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                        for _ in range(4096)]

    def _inspection(self, out: list[str], t0: float, place_id: int, with_findings: bool
                    ) -> tuple[int, str]:
        city, rand = self.city, self.rng.random
        self.inspection_id += 1
        iid = self.inspection_id
        grid = city.grids[city.place_grid[place_id - 1]]
        x = rand()
        org = N
        if x < 0.6:
            kind, inspector, role = "grid_patrol", grid["worker"], "grid_worker"
        elif x < 0.85:
            fire = city.fire_inspectors
            kind, inspector, role = ("department", fire[int(rand() * len(fire))],
                                     "dept_inspector")
            org = str(city.fire_org_id)
        else:
            kind, inspector, role = ("spot_check", city.towns[grid["town"]]["officers"][0],
                                     "town_officer")
        started = dt.datetime.fromtimestamp(t0 - 300 - rand() * 3300, UTC)
        submitted = started + dt.timedelta(seconds=900 + rand() * 4500)
        notice = f"YKXZ{started.year}-{iid:07d}" if with_findings else ""
        out.append(
            f"{iid}\t{kind}\tsubmitted\t{started.isoformat()}\t{submitted.isoformat()}\t"
            f"{uuid.UUID(int=self.rng.getrandbits(128), version=4)}\t{notice}\t\t{N}\t"
            f"{city.checklist_of[city.place_kind[place_id - 1]]}\t{inspector}\t{org}\t"
            f"{place_id}\t{N}\n"
        )
        return inspector, role

    def batches(self, size: int) -> Iterator[dict[str, tuple[int, bytes]]]:
        """Yield the COPY data of ``size`` hazards at a time."""
        from bihuan.audit.services import GENESIS

        city, rng, now_ts = self.city, self.rng, self.now_ts
        rand, uniform = rng.random, rng.uniform
        times = sorted(now_ts - rand() * SPAN for _ in range(self.n_hazards))
        citizens, login_places = city.citizens, city.login_places
        n_places = len(city.place_kind)
        user_repr = city.user_repr
        ip_pool = self.ip_pool
        from_ts = dt.datetime.fromtimestamp
        fromordinal = dt.date.fromordinal
        state_counts = self.state_counts
        reasons = REASONS
        slots = 0  # hazards still to come from the current inspection
        insp_place = insp_inspector = 0
        insp_role = ""
        insp_items: list[Any] = []
        event_id = 0
        audit_id = self.first_audit_id - 1
        batch = Batch()
        for index in range(self.n_hazards):
            if index and index % size == 0:
                yield batch.encoded()
                batch = Batch()
            hazards_out = batch.lines["hazards_hazard"]
            events_out = batch.lines["hazards_hazardevent"]
            audit_out = batch.lines["audit_auditentry"]
            inspections_out = batch.lines["inspections_inspection"]
            hid = index + 1
            t0 = times[index]
            age_days = (now_ts - t0) / 86400.0
            for limit, bounds, names in MIX:
                if age_days < limit:
                    state = names[bisect.bisect_left(bounds, rand())]
                    break
            official = False if state in ("reported", "dismissed") else rand() >= 0.12
            item = None
            inspection = 0
            if official:
                source = "inspection" if rand() < 0.93 else "hotline"
                if source == "inspection":
                    if slots == 0:
                        insp_place = 1 + int(rand() * n_places)
                        insp_inspector, insp_role = self._inspection(inspections_out, t0,
                                                                     insp_place, True)
                        r = rand()
                        slots = 1 if r < 0.45 else 2 if r < 0.75 else 3 if r < 0.9 else 4
                        kind_items = city.items[city.place_kind[insp_place - 1]]
                        insp_items = rng.sample(kind_items, min(slots, len(kind_items)))
                        if rand() < 0.5:  # a clean visit somewhere else
                            self._inspection(inspections_out, t0, 1 + int(rand() * n_places),
                                             False)
                    slots -= 1
                    place_id = insp_place
                    item = insp_items[slots % len(insp_items)]
                    inspection = self.inspection_id
                    registrar, registrar_role = insp_inspector, insp_role
                else:
                    place_id = 1 + int(rand() * n_places)
                    kind_items = city.items[city.place_kind[place_id - 1]]
                    item = kind_items[int(rand() * len(kind_items))]
                    village = city.villages[city.grids[city.place_grid[place_id - 1]]["village"]]
                    registrar, registrar_role = village["cadre"], "village_cadre"
            elif login_places and rand() < 0.6:
                source = "self_check"
                place_id = login_places[int(rand() * len(login_places))]
                kind_items = city.items[city.place_kind[place_id - 1]]
                item = kind_items[int(rand() * len(kind_items))]
                registrar, registrar_role = city.place_party_user[place_id - 1], "party"
            else:
                source = "citizen_report"
                place_id = 1 + int(rand() * n_places)
                registrar = citizens[int(rand() * len(citizens))]
                registrar_role = "citizen"
            kind = city.place_kind[place_id - 1]
            grid = city.grids[city.place_grid[place_id - 1]]
            village = city.villages[grid["village"]]
            officers = city.towns[grid["town"]]["officers"]
            party_user = city.place_party_user[place_id - 1]
            if item is not None:
                item_id, code, description, requirement, item_sev, rule_id, wdays = item
                severity = "on_the_spot" if item_sev == "on_the_spot" else "general"
                candidate = item_sev == "major_candidate"
            else:
                item_id, code, rule_id, wdays = 0, "", 0, 7
                description = CITIZEN_DESCRIPTIONS[int(rand() * len(CITIZEN_DESCRIPTIONS))]
                requirement = ""
                severity, candidate = "general", False
            path = _path(state, official, severity == "on_the_spot" and not candidate, rand())

            # Times: typical gaps, squeezed into the hazard's age when it is young.
            gaps = [0.0]
            for action in path[1:]:
                low, high = GAPS[action]
                gaps.append(uniform(low, high) * 86400.0)
            total = sum(gaps)
            room = (now_ts - 60.0) - t0
            if total > room and total > 0:  # a hazard of the last minute may have room < 0
                scale = max(room, 1.0) / total
                gaps = [g * scale for g in gaps]
            registered = from_ts(t0, UTC)
            deadline: dt.date | None = None
            closed_at = None
            closed_by = submitted_by = look_backs = recurrences = 0
            current = ""
            moment = t0
            stream = f"hazards.hazard:{hid}"
            prev = GENESIS
            hid_s = str(hid)
            for seq, action in enumerate(path, start=1):
                moment += gaps[seq - 1]
                at = from_ts(moment, UTC) if seq > 1 else registered
                day = fromordinal(EPOCH_ORDINAL + int((moment + 28800) // 86400))
                data: dict[str, Any]
                if action in ("register", "rectify_on_spot", "report"):
                    actor, role = registrar, registrar_role
                    if action == "register":
                        deadline = add_workdays(day, wdays)
                    elif action == "rectify_on_spot":
                        closed_at, closed_by = at, actor
                    data = {"deadline": deadline.isoformat() if deadline else None,
                            "code": code, "severity": severity, "major_candidate": candidate}
                elif action == "confirm":
                    actor, role = grid["worker"], "grid_worker"
                    deadline = add_workdays(day, wdays)
                    if not requirement:
                        requirement = CONFIRM_REQUIREMENTS[int(rand() * 3)]
                    data = {"deadline": deadline.isoformat()}
                elif action == "dismiss":
                    actor, role = village["cadre"], "village_cadre"
                    data = {}
                elif action == "submit_rectification":
                    if party_user:
                        actor, role = party_user, "party"
                    else:
                        actor, role = grid["worker"], "grid_worker"
                    submitted_by = actor
                    data = {}
                elif action == "verify_pass":
                    actor, role = officers[0], "town_officer"
                    closed_at, closed_by = at, actor
                    data = {}
                elif action == "verify_fail":
                    actor, role = officers[0], "town_officer"
                    new = add_workdays(day, 10)
                    data = {"old_deadline": deadline.isoformat() if deadline else None,
                            "deadline": new.isoformat()}
                    deadline, submitted_by = new, 0
                elif action == "hand_over":
                    actor, role = officers[0], "town_officer"
                    data = {"department": "消防救援大队"}
                elif action == "enforcement_result":
                    actor, role = officers[0], "town_officer"
                    new = add_workdays(day, 15)
                    data = {"old_deadline": deadline.isoformat() if deadline else None,
                            "deadline": new.isoformat()}
                    deadline = new
                elif action == "look_back_pass":
                    actor, role = village["cadre"], "village_cadre"
                    look_backs += 1
                    data = {}
                elif action == "look_back_fail":
                    actor, role = village["cadre"], "village_cadre"
                    new = add_workdays(day, 10)
                    look_backs += 1
                    recurrences += 1
                    data = {"deadline": new.isoformat(), "recurrence": recurrences}
                    deadline, closed_at, closed_by, submitted_by = new, None, 0, 0
                else:  # void
                    actor, role = officers[1], "town_officer"
                    data = {}
                options = reasons.get(action)
                reason = options[int(rand() * len(options))] if options else ""
                to_state = TARGET_OF[action]
                ip = ip_pool[int(rand() * 4096)] if rand() < 0.8 else None
                at_iso = at.isoformat(timespec="microseconds")
                event_id += 1
                events_out.append(
                    f"{event_id}\t{seq}\t{action}\t{current}\t{to_state}\t{role}\t{at_iso}\t"
                    f"{esc(reason)}\t{esc(_JSON(data))}\t{ip or N}\t{actor}\t{hid}\n"
                )
                audit_data = {"event": seq, "from": current, "to": to_state, "role": role,
                              "reason": reason, **data}
                audit_action = f"hazard.{action}"
                actor_repr = user_repr[actor]
                audit_json = _CANONICAL(audit_data)
                digest = fast_hash(stream, seq, at_iso, actor, actor_repr, audit_action, hid_s,
                                   audit_json, ip, prev)
                if hid <= 50 or hid % 9973 == 1:
                    check_hash(digest, stream, seq, at, actor, actor_repr, audit_action, hid_s,
                               audit_data, ip, prev)
                audit_id += 1
                audit_out.append(
                    f"{audit_id}\t{stream}\t{seq}\t{at_iso}\t{esc(actor_repr)}\t"
                    f"{audit_action}\thazards.hazard\t{hid_s}\t{esc(audit_json)}\t"
                    f"{ip or N}\t{prev}\t{digest}\t{actor}\n"
                )
                prev = digest
                current = to_state
            if current != state:
                raise AssertionError(f"path {path} ends in {current}, not {state}")
            state_counts[state] = state_counts.get(state, 0) + 1
            hazards_out.append(
                f"{hid}\t{kind}\t{code}\t{source}\t{esc(description)}\t{esc(requirement)}\t"
                f"{severity}\t{'t' if candidate else 'f'}\t{state}\t"
                f"{deadline.isoformat() if deadline else N}\t{N}\tnone\t{recurrences}\t"
                f"{look_backs}\t{registered.isoformat()}\t"
                f"{closed_at.isoformat() if closed_at else N}\t{len(path)}\t{grid['id']}\t{N}\t"
                f"{item_id or N}\t{closed_by or N}\t{rule_id or N}\t{inspection or N}\t"
                f"{place_id}\t{submitted_by or N}\t{registrar}\n"
            )
        yield batch.encoded()


COPY_COLUMNS = {
    "hazards_hazard": [
        "id", "place_kind", "code", "source", "description", "requirement", "severity",
        "major_candidate", "state", "deadline", "clock_paused_since", "supervision_level",
        "recurrence_count", "look_back_count", "registered_at", "closed_at", "version",
        "area_id", "campaign_id", "checklist_item_id", "closed_by_id", "deadline_rule_id",
        "inspection_id", "place_id", "rectification_submitted_by_id", "reported_by_id"],
    "inspections_inspection": [
        "id", "kind", "status", "started_at", "submitted_at", "client_key", "notice_number",
        "note", "campaign_id", "checklist_id", "inspector_id", "org_unit_id", "place_id",
        "team_id"],
    "hazards_hazardevent": [
        "id", "seq", "action", "from_state", "to_state", "actor_role", "at", "reason", "data",
        "client_ip", "actor_id", "hazard_id"],
    "audit_auditentry": [
        "id", "stream", "seq", "at", "actor_repr", "action", "object_type", "object_id", "data",
        "client_ip", "prev_hash", "hash", "actor_id"],
}


class CopyWriter(threading.Thread):
    """COPYs batch k on the connection while the generator builds batch k+1.

    Only this thread touches the connection while it runs; ``COPY`` spends its time
    waiting on the socket with the GIL released, so Python generation and the
    server's ingestion use the two cores at once.
    """

    def __init__(self, cursor: Any, freeze: bool) -> None:
        super().__init__(name="copy-writer", daemon=True)
        self.cursor = cursor
        self.freeze = freeze
        self.queue: queue.Queue[dict[str, tuple[int, bytes]] | None] = queue.Queue(maxsize=2)
        self.rows: dict[str, int] = dict.fromkeys(COPY_COLUMNS, 0)
        self.busy: dict[str, float] = dict.fromkeys(COPY_COLUMNS, 0.0)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while (batch := self.queue.get()) is not None:
                for table, (count, data) in batch.items():
                    if not count:
                        continue
                    started = time.perf_counter()
                    names = with_defaults(table, COPY_COLUMNS[table])[0]
                    sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
                    if self.freeze:
                        sql += " WITH (FREEZE)"
                    with self.cursor.copy(sql) as copy:
                        view = memoryview(data)
                        for offset in range(0, len(data), 1 << 20):
                            copy.write(view[offset:offset + (1 << 20)])
                    self.busy[table] += time.perf_counter() - started
                    self.rows[table] += count
        except BaseException as exc:
            self.error = exc
            # Drain so the producer never blocks on a dead consumer.
            while self.queue.get() is not None:
                pass

    def put(self, batch: dict[str, tuple[int, bytes]] | None) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(batch)


# ---------------------------------------------------------------- main


def current_hazards() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM hazards_hazard")
        return int(cursor.fetchone()[0])


def verify_sample(sample: int, seed: int) -> tuple[int, int]:
    """Re-hash the audit chains and event sequences of ``sample`` random hazards."""
    from bihuan.audit.models import AuditEntry
    from bihuan.audit.services import GENESIS, entry_hash
    from bihuan.hazards.models import Hazard, HazardEvent

    top = Hazard.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rng = random.Random(seed)
    ids = sorted({rng.randint(1, top) for _ in range(sample)}) if top else []
    problems = 0
    hazards = Hazard.objects.in_bulk(ids)
    events: dict[int, list[int]] = {}
    for hazard_id, seq in HazardEvent.objects.filter(hazard_id__in=ids).order_by(
        "hazard_id", "seq"
    ).values_list("hazard_id", "seq"):
        events.setdefault(hazard_id, []).append(seq)
    entries: dict[str, list[AuditEntry]] = {}
    for entry in AuditEntry.objects.filter(
        stream__in=[f"hazards.hazard:{i}" for i in ids]
    ).order_by("stream", "seq"):
        entries.setdefault(entry.stream, []).append(entry)
    for hid in ids:
        hazard = hazards.get(hid)
        if hazard is None:
            continue
        if events.get(hid) != list(range(1, hazard.version + 1)):
            problems += 1
            print(f"  hazard {hid}: event seqs {events.get(hid)} vs version {hazard.version}")
        prev = GENESIS
        chain = entries.get(f"hazards.hazard:{hid}", [])
        if len(chain) != hazard.version:
            problems += 1
        for n, entry in enumerate(chain, start=1):
            if entry.seq != n or entry.prev_hash != prev or entry_hash(entry) != entry.hash:
                problems += 1
                print(f"  hazard {hid}: audit entry #{entry.seq} does not verify")
                break
            prev = entry.hash
    return len(ids), problems


def _load(rng: random.Random, hazards: int, n_places: int, n_citizens: int,
          now: dt.datetime, laps: dict[str, float], counts: dict[str, Any]) -> None:
    """Everything, inside the caller's transaction."""
    from django.db import connection

    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # the psycopg cursor, for COPY
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        with timed("truncate domain tables", out=laps):
            cursor.execute(f"TRUNCATE {', '.join(reset_tables())} RESTART IDENTITY CASCADE")
        with timed("drop indexes and foreign keys", out=laps):
            rebuild = drop_secondary_indexes(cursor, BIG_TABLES)
        city = City()
        with timed("areas (csv + grids)", out=laps):
            build_areas(rng, city)
        with timed("checklists (built-in)", out=laps):
            build_checklists(city)
        t = time.perf_counter()
        counts.update(build_people_and_places(cursor, rng, city, n_places, n_citizens, now))
        took = laps["people and places"] = time.perf_counter() - t
        small = sum(counts.values())
        print(f"  {'users, memberships, parties, places':<38} {took:8.2f} s  {small:>10,} rows"
              f"  {small / took:>11,.0f} rows/s", flush=True)
        cursor.execute("SELECT COALESCE(max(id), 0) + 1 FROM audit_auditentry")
        first_audit = cursor.fetchone()[0]

        t = time.perf_counter()
        generator = HazardGenerator(rng, city, hazards, now, first_audit)
        writer = CopyWriter(cursor, freeze=True)
        writer.start()
        generating = 0.0
        try:
            batches = generator.batches(BATCH)
            while True:
                g = time.perf_counter()
                batch = next(batches, None)
                generating += time.perf_counter() - g
                writer.put(batch)
                if batch is None:
                    break
        except BaseException:
            writer.queue.put(None)  # let the writer finish (or stop draining) and exit
            raise
        finally:
            writer.join()
        if writer.error is not None:
            raise writer.error
        took = laps["hazards + history"] = time.perf_counter() - t
        laps["generate (python)"] = generating
        n = sum(writer.rows.values())
        print(f"  {'hazards + history (generate || COPY)':<38} {took:8.2f} s  {n:>10,} rows"
              f"  {n / took:>11,.0f} rows/s", flush=True)
        print(f"    python generation {generating:.1f} s; COPY busy "
              + ", ".join(f"{t.split('_', 1)[1]} {writer.busy[t]:.1f} s "
                          f"({writer.rows[t]:,})" for t in COPY_COLUMNS), flush=True)
        counts.update({
            "hazards": writer.rows["hazards_hazard"],
            "inspections": writer.rows["inspections_inspection"],
            "events": writer.rows["hazards_hazardevent"],
            "audit_entries": writer.rows["audit_auditentry"],
            "states": dict(sorted(generator.state_counts.items(), key=lambda kv: -kv[1])),
        })
        indexes = [d for d in rebuild if "FOREIGN KEY" not in d]
        foreign = [d for d in rebuild if "FOREIGN KEY" in d]
        with timed(f"rebuild {len(indexes)} indexes/unique constraints", out=laps):
            for ddl in indexes:
                cursor.execute(ddl)
        with timed(f"re-add and validate {len(foreign)} foreign keys", out=laps):
            for ddl in foreign:
                cursor.execute(ddl)
        bump_identity(cursor, ["accounts_user", "accounts_membership", "places_party",
                               "places_place", "inspections_inspection", "hazards_hazard",
                               "hazards_hazardevent", "audit_auditentry"])


def fill(hazards: int, places: int | None, reset: bool, seed: int, verify: int
         ) -> list[Row]:
    from django.db import connection, transaction

    n_places = places or max(1000, hazards // 10)
    n_citizens = max(200, hazards // 500)
    existing = current_hazards()
    if existing and not reset:
        if existing == hazards:
            print(f"fill: the bench database already holds {existing:,} hazards; nothing to do "
                  "(--reset to rebuild).")
            return []
        raise SystemExit(f"fill: the bench database holds {existing:,} hazards, not "
                         f"{hazards:,}; run with --reset to rebuild it.")
    rng = random.Random(seed)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    laps: dict[str, float] = {}
    counts: dict[str, Any] = {}
    print(f"fill: {hazards:,} hazards, {n_places:,} places into {connection.settings_dict['NAME']}"
          f" (seed {seed})", flush=True)
    gc.disable()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _load(rng, hazards, n_places, n_citizens, now, laps, counts)
            before_commit = time.perf_counter()
        laps["commit"] = time.perf_counter() - before_commit
        print(f"  {'commit':<38} {laps['commit']:8.2f} s", flush=True)
        load_time = time.perf_counter() - started
        # COPY FREEZE already set the visibility map: statistics are all that is missing.
        with timed("analyze", out=laps), connection.cursor() as cursor:
            for table in [*BIG_TABLES, "accounts_user", "accounts_membership", "places_party",
                          "areas_area"]:
                cursor.execute(f"ANALYZE {table}")
    finally:
        gc.enable()
    total = time.perf_counter() - started
    rows = sum(v for k, v in counts.items() if isinstance(v, int))
    print(f"fill: {rows:,} rows in {total:.1f} s ({rows / total:,.0f} rows/s; "
          f"{hazards / total:,.0f} hazards with history/s); loaded and committed in "
          f"{load_time:.1f} s", flush=True)
    print(f"  states: {counts['states']}")
    if verify:
        with timed("verify sample of chains", out=laps):
            checked, problems = verify_sample(verify, seed)
        print(f"  verified {checked} hazards' event seqs and audit chains: "
              f"{'OK' if not problems else f'{problems} PROBLEM(S)'}")
        if problems:
            raise SystemExit("fill: generated history does not verify")
    # "1M hazards with history in a few minutes" (<= 5 min); smaller fills are dominated by
    # fixed costs, so the target applies from a million hazards.
    target_rate = 1_000_000 / 300 if hazards >= 1_000_000 else None
    result = [
        Row(f"fill: {hazards:,} hazards + history", hazards / total, "hazards/s",
            target_min=target_rate,
            note=f"{total:.0f} s wall (target: 1M in <= 300 s), {counts['events']:,} events, "
                 f"{counts['audit_entries']:,} audit entries"),
        Row("fill: rows (all tables)", rows / total, "rows/s"),
    ]
    report(result, "fill", extra={"hazards": hazards, "places": n_places, "seed": seed,
                                   "seconds": total, "laps": laps, "counts": counts})
    return result


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hazards", type=int, default=1_000_000)
    parser.add_argument("--places", type=int, default=None,
                        help="default: hazards / 10 (100,000 for a million hazards)")
    parser.add_argument("--reset", action="store_true",
                        help="truncate the domain tables first (needed to change the size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify", type=int, default=2000, metavar="N",
                        help="re-hash the chains of N random hazards afterwards (0: skip)")
    args = parser.parse_args(argv)
    setup_django()
    return fill(args.hazards, args.places, args.reset, args.seed, args.verify)


if __name__ == "__main__":
    main(sys.argv[1:])
