"""Importing ledgers: upload, map the columns, check (a dry run), then commit all or nothing.

The file is read as a stream, ``BATCH`` rows at a time, in every pass: memory
does not grow with the file (except for one small key per distinct address,
which the within-file duplicate detection needs).

- :func:`start_import` stores the file and recognises its header.
- :func:`set_mapping` lets the user correct what each column means.
- :func:`check_import` is the dry run: every row is normalised and validated,
  each problem is stored under the row number the official sees in Excel, and
  rows that look like an existing place (same normalised address, similar
  name) or like an earlier row are listed for a decision.
- :func:`decide_duplicate` records a decision (skip / merge / create anyway).
- :func:`commit_import` writes everything in ONE transaction, validating
  again as it goes: one bad row and nothing is written. Places go through a
  bulk path (the same checks as ``places.services.register_place``, one audit
  entry per batch); hazards go through ``hazards.services.register_hazard``
  row by row, so each has its event and audit entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.scopes import scope_of
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.audit import services as audit
from bihuan.core import clock
from bihuan.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from bihuan.imports import normalize as norm
from bihuan.imports.choices import DuplicateDecision, ImportKind, ImportStatus
from bihuan.imports.headers import (
    FIELDS,
    KIND_FIELDS,
    Header,
    detect,
    field_label,
    missing_required,
)
from bihuan.imports.models import Duplicate, ImportJob, RowProblem
from bihuan.imports.readers import format_of, open_rows
from bihuan.places.choices import PartyKind, PartyRole, PlaceKind
from bihuan.places.models import (
    ADDRESS_KEY_LENGTH,
    Party,
    Place,
    new_qr_token,
    places_at_addresses,
    unkeyed_places_exist,
)
from bihuan.places.services import LAT_RANGE, LON_RANGE

BATCH = 1000
AREA_COLUMNS = ("town", "village", "grid")
AREA_LEVELS = (AreaLevel.TOWN, AreaLevel.VILLAGE, AreaLevel.GRID)
# Two rows at the same normalised address are the same place when their names are this alike.
NAME_SIMILARITY = 0.6
# Test hook: pause (and say so on stderr) once this many rows are written inside the
# commit's transaction, so a test can kill the process mid-import.
PAUSE_ENV = "BIHUAN_IMPORT_TEST_PAUSE_AFTER"

KIND_WORDS: dict[str, str] = {
    "出租房": PlaceKind.RENTAL_HOUSE, "出租屋": PlaceKind.RENTAL_HOUSE,
    "出租私房": PlaceKind.RENTAL_HOUSE, "出租住房": PlaceKind.RENTAL_HOUSE,
    "沿街店面": PlaceKind.SHOP, "店面": PlaceKind.SHOP, "商铺": PlaceKind.SHOP,
    "沿街商铺": PlaceKind.SHOP, "门店": PlaceKind.SHOP, "小商店": PlaceKind.SHOP,
    "专业市场": PlaceKind.MARKET, "市场": PlaceKind.MARKET,
    "小区": PlaceKind.RESIDENTIAL_COMPOUND, "住宅小区": PlaceKind.RESIDENTIAL_COMPOUND,
    "三合一": PlaceKind.THREE_IN_ONE, "三合一场所": PlaceKind.THREE_IN_ONE,
    "企业": PlaceKind.ENTERPRISE, "工厂": PlaceKind.ENTERPRISE, "厂房": PlaceKind.ENTERPRISE,
    "宾馆": PlaceKind.HOTEL, "酒店": PlaceKind.HOTEL, "旅馆": PlaceKind.HOTEL,
    "民宿": PlaceKind.HOTEL,
}
ORGANISATION_WORDS = ("公司", "有限", "厂", "集团", "合作社", "中心", "商行", "经营部", "委员会")
DEFAULT_PARTY_ROLE: dict[str, str] = {PlaceKind.RENTAL_HOUSE: PartyRole.LANDLORD, PlaceKind.SHOP:
                      PartyRole.OPERATOR, PlaceKind.MARKET: PartyRole.MANAGER,
                      PlaceKind.RESIDENTIAL_COMPOUND: PartyRole.MANAGER,
                      PlaceKind.HOTEL: PartyRole.OPERATOR}
MAX_LENGTHS = {"name": 200, "address": 255, "party_name": 100, "phone": 20,
               "description": 500, "requirement": 500}


@functools.lru_cache(maxsize=512)
def place_kind_of(value: str) -> str | None:
    """The kind of place a cell names (a code, a label in either language, a usual word)."""
    key = norm.compact(value)
    if not key:
        return None
    if key in PlaceKind.values:
        return key
    for choice in PlaceKind:
        if key == norm.compact(str(choice.label)):
            return choice.value
    if key in KIND_WORDS:
        return KIND_WORDS[key]
    for word, kind in sorted(KIND_WORDS.items(), key=lambda item: -len(item[0])):
        if word in key:
            return kind
    return None


# ---------------------------------------------------------------- starting a job


def _require_official(actor: Any, area: Area) -> None:
    if not any(g.role in OFFICIAL_ROLES for g in scope_of(actor).grants):
        raise PermissionDenied()
    visible = Area.objects.visible_to(actor).filter(pk=area.pk).exists()
    if not visible:
        raise NotFound()


def _first_rows(path: str, fmt: str, limit: int = 40) -> list[tuple[int, list[Any]]]:
    rows = []
    with open_rows(path, fmt, head=True) as stream:
        for number, values in stream:
            rows.append((number, values))
            if len(rows) >= limit:
                break
    return rows


def start_import(
    *, actor: Any, kind: str, file: Any, filename: str, area: Area | int,
    place_kind: str = "", default_decision: str = DuplicateDecision.SKIP,
) -> ImportJob:
    """Store an uploaded ledger and recognise its header (nothing is imported yet)."""
    if kind not in ImportKind.values:
        raise ValidationFailed(_("Unknown kind of import."), field="kind")
    try:
        area_obj = Area.objects.visible_to(actor).get(
            pk=area.pk if isinstance(area, Area) else area)
    except (Area.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    _require_official(actor, area_obj)
    if place_kind and place_kind not in PlaceKind.values:
        raise ValidationFailed(_("Unknown kind of place."), field="place_kind")
    if default_decision not in DuplicateDecision.values:
        raise ValidationFailed(_("Unknown decision."), field="default_decision")
    fmt = format_of(filename)
    job = ImportJob(
        token=secrets.token_hex(16), kind=kind, filename=Path(filename).name[:200],
        file_format=fmt, area=area_obj, place_kind=place_kind,
        default_decision=default_decision, created_by=actor, created_at=clock.now(),
    )
    job.file.save(job.filename, file if isinstance(file, File) else File(file), save=False)
    try:
        header = detect(_first_rows(job.file.path, fmt), kind)
    except DomainError:
        job.file.delete(save=False)
        raise
    if header is None:
        job.file.delete(save=False)
        raise ValidationFailed(
            _("No header row found: the first rows name none of the usual columns "
              "(场所名称, 地址, 负责人, 联系电话, ...)."), field="file")
    job.header = header.as_json()
    job.save(force_insert=True)
    audit.record("import.upload", actor=actor, obj=job,
                 data={"kind": kind, "file": job.filename, "area": area_obj.code})
    return job


def set_mapping(job: ImportJob, *, actor: Any, mapping: dict[int, str]) -> ImportJob:
    """Correct what each column means (column index → field, ``""`` to ignore)."""
    job = _own_job(job, actor)
    if job.running or job.status == ImportStatus.DONE:
        raise ValidationFailed(_("This import can no longer be changed."))
    header = Header.from_json(job.header)
    allowed = KIND_FIELDS[job.kind]
    seen: set[str] = set()
    cleaned: dict[int, str] = {}
    for index, name in sorted(mapping.items()):
        if not name:
            continue
        if name not in allowed or index < 0 or index >= len(header.labels):
            raise ValidationFailed(_("Unknown column or field."), field="mapping")
        if name in seen:
            raise ValidationFailed(
                _("Two columns are mapped to %(field)s.") % {"field": field_label(name)},
                field="mapping")
        seen.add(name)
        cleaned[index] = name
    header.mapping = cleaned
    job.header = header.as_json()
    job.status = ImportStatus.UPLOADED
    job.save(update_fields=["header", "status"])
    return job


def _own_job(job: ImportJob | int, actor: Any) -> ImportJob:
    pk = job.pk if isinstance(job, ImportJob) else job
    try:
        return ImportJob.objects.visible_to(actor).select_related("area").get(pk=pk)
    except ImportJob.DoesNotExist:
        raise NotFound() from None


# ---------------------------------------------------------------- reading rows


@dataclasses.dataclass(slots=True)
class ParsedRow:
    number: int
    values: list[Any]
    problems: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    cells: dict[str, Any] = dataclasses.field(default_factory=dict)  # field → raw cell
    name: str = ""
    address: str = ""
    address_key: str = ""
    party_name: str = ""
    phone: str = ""
    kind: str = ""
    area: Area | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    description: str = ""
    requirement: str = ""
    deadline: dt.date | None = None
    found_on: dt.date | None = None
    code: str = ""
    tenant_name: str = ""
    id_number: str = ""
    room: str = ""
    moved_in_on: dt.date | None = None
    place_id: int | None = None  # tenants: the existing place the row names

    def problem(self, column: str, message: str) -> None:
        self.problems.append((column, message))


class AreaIndex:
    """The areas under the job's area, found by name (name or short name, normalised)."""

    def __init__(self, root: Area) -> None:
        self.root = root
        self.by_level: dict[str, dict[str, list[Area]]] = {}
        for area in Area.objects.subtree(root).only(
                "id", "name", "short_name", "level", "path", "parent_id", "code"):
            names = {norm.compact(area.name), norm.compact(area.short_name), area.code}
            for key in names - {""}:
                self.by_level.setdefault(area.level, {}).setdefault(key, []).append(area)

    def find(self, level: str, value: str, within: Area | None) -> list[Area]:
        candidates = self.by_level.get(level, {}).get(norm.compact(value), [])
        if within is not None:
            candidates = [a for a in candidates if a.path.startswith(within.path)]
        return candidates


class Reader:
    """Parses and validates the rows of one job (one pass over the file)."""

    def __init__(self, job: ImportJob, actor: Any) -> None:
        self.job = job
        self.actor = actor
        self.header = Header.from_json(job.header)
        self.columns = {name: index for index, name in self.header.mapping.items()}
        self._mapped = tuple(self.columns.items())
        self._tenants = job.kind == ImportKind.TENANTS
        self._hazards = job.kind == ImportKind.HAZARDS
        self.areas = AreaIndex(job.area)
        self.scope = scope_of(actor)
        self._grant_cache: dict[tuple[str, str], bool] = {}
        # A ledger names a few hundred villages and a few kinds over and over: each
        # distinct cell (or triple of area cells) is resolved once, keyed by the raw value.
        self._area_cache: dict[tuple[str, ...], tuple[Area | None, tuple[str, str] | None]] = {}
        self._raw_area_cache: dict[tuple[str | None, ...],
                                   tuple[Area | None, tuple[str, str] | None]] = {}
        self._kind_cache: dict[str | None, tuple[str, tuple[str, str] | None]] = {}
        self._tenants_seen: set[tuple[int, str]] = set()
        self.today = clock.today()
        # Column names for problems, translated once (not once per row).
        self.labels = {name: str(FIELDS[name][0]) for name in FIELDS}

    def rows(self) -> Iterator[ParsedRow]:
        """Every data row below the header (blank and total rows skipped), parsed."""
        missing = missing_required(self.header, self.job.kind)
        if missing:
            raise ValidationFailed(
                _("Map a column to each of: %(fields)s.")
                % {"fields": ", ".join(str(field_label(m)) for m in missing)}, field="mapping")
        with open_rows(self.job.file.path, self.job.file_format) as stream:
            for number, values in stream:
                if number <= self.header.last_row:
                    continue
                if not any(v is not None and (not isinstance(v, str) or v.strip())
                           for v in values):
                    continue
                if norm.is_total_row(values):
                    continue
                yield self.parse(number, values)

    def parse(self, number: int, values: list[Any]) -> ParsedRow:
        width = len(values)
        cells = {name: values[index] for name, index in self._mapped if index < width}
        row = ParsedRow(number=number, values=values, cells=cells)
        label = self.labels
        row.name = norm.text(cells.get("name"))
        row.address = norm.address(cells.get("address"))
        row.address_key = norm.key_of_address(row.address)
        if self._tenants:
            self._parse_tenant(row, label)
            return row
        row.party_name = norm.text(cells.get("party_name"))
        row.phone = norm.phone(cells.get("phone"))
        if not row.name:
            row.problem(label["name"], _("The place needs a name."))
        if not row.address:
            row.problem(label["address"], _("The place needs an address."))
        if (len(row.name) > MAX_LENGTHS["name"] or len(row.address) > MAX_LENGTHS["address"]
                or len(row.party_name) > MAX_LENGTHS["party_name"]
                or len(row.phone) > MAX_LENGTHS["phone"]):
            for name, value in (("name", row.name), ("address", row.address),
                                ("party_name", row.party_name), ("phone", row.phone)):
                if len(value) > MAX_LENGTHS[name]:
                    row.problem(label[name], _("Longer than %(n)d characters.")
                                % {"n": MAX_LENGTHS[name]})
        if row.phone and not norm.is_phone(row.phone):
            row.problem(label["phone"], _("Not a phone number: %(value)s")
                        % {"value": row.phone})
        if row.phone and not row.party_name:
            row.problem(label["party_name"], _("A phone number without a responsible party."))
        self._parse_kind(row, label)
        self._parse_area(row, label)
        self._parse_location(row, label)
        if self._hazards:
            self._parse_hazard(row, label)
        if row.area is not None and row.kind and not self._may_register(row.area, row.kind):
            row.problem(label["town"], _("You may not register this kind of place here."))
        return row

    def _parse_kind(self, row: ParsedRow, label: dict[str, str]) -> None:
        cell = row.cells.get("kind")
        # Only text (or empty) cells are cached: 1, 1.0 and True are one dict key.
        cached = self._kind_cache.get(cell) if _plain(cell) else None
        if cached is not None:
            kind, problem = cached
        else:
            kind, problem = self._resolve_kind(cell, label)
            if _plain(cell) and len(self._kind_cache) < 10_000:
                self._kind_cache[cell] = (kind, problem)
        if problem is not None:
            row.problem(*problem)
        row.kind = kind

    def _resolve_kind(self, cell: Any, label: dict[str, str]
                      ) -> tuple[str, tuple[str, str] | None]:
        raw = norm.text(cell)
        if raw:
            kind = place_kind_of(raw)
            if kind is None:
                return "", (label["kind"], _("Unknown kind of place: %(value)s")
                            % {"value": raw})
            return kind, None
        if self.job.place_kind:
            return self.job.place_kind, None
        return "", (label["kind"], _("The kind of place is missing."))

    def _parse_area(self, row: ParsedRow, label: dict[str, str]) -> None:
        raw = tuple(map(row.cells.get, AREA_COLUMNS))
        plain = all(map(_plain, raw))
        cached = self._raw_area_cache.get(raw) if plain else None
        if cached is not None:
            area, problem = cached
        else:
            key = tuple(norm.compact(value) for value in raw)
            if key not in self._area_cache:
                self._area_cache[key] = self._resolve_area(key, label)
            area, problem = self._area_cache[key]
            if plain and len(self._raw_area_cache) < 100_000:
                self._raw_area_cache[raw] = (area, problem)
        if problem is not None:
            row.problem(*problem)
        row.area = area

    def _resolve_area(self, key: tuple[str, ...], label: dict[str, str]
                      ) -> tuple[Area | None, tuple[str, str] | None]:
        area: Area = self.job.area
        for name, level, raw in zip(AREA_COLUMNS, AREA_LEVELS, key, strict=True):
            if not raw:
                continue
            if area.level == level and raw in (norm.compact(area.name),
                                               norm.compact(area.short_name)):
                continue
            found = self.areas.find(level, raw, area)
            if len(found) != 1:
                message = (_("%(value)s is not an area under %(area)s.") if not found else
                           _("%(value)s names several areas under %(area)s; give the town."))
                return None, (label[name], message % {"value": raw, "area": area.name})
            area = found[0]
        return area, None

    def _parse_location(self, row: ParsedRow, label: dict[str, str]) -> None:
        try:
            lat = norm.decimal(row.cells.get("latitude"))
            lon = norm.decimal(row.cells.get("longitude"))
        except ValueError:
            row.problem(label["latitude"], _("Latitude and longitude must be numbers."))
            return
        if (lat is None) != (lon is None):
            row.problem(label["latitude"], _("Give both latitude and longitude, or neither."))
            return
        if lat is not None and lon is not None:
            if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
                row.problem(label["latitude"], _("The location is outside China."))
                return
            row.latitude = lat.quantize(Decimal("0.000001"))
            row.longitude = lon.quantize(Decimal("0.000001"))

    def _parse_hazard(self, row: ParsedRow, label: dict[str, str]) -> None:
        row.description = norm.text(row.cells.get("description"))
        row.requirement = norm.text(row.cells.get("requirement"))
        row.code = norm.compact(row.cells.get("code"))
        if not row.description:
            row.problem(label["description"], _("Describe the hazard."))
        for name in ("description", "requirement"):
            if len(getattr(row, name)) > MAX_LENGTHS[name]:
                row.problem(label[name], _("Longer than %(n)d characters.")
                            % {"n": MAX_LENGTHS[name]})
        for name in ("deadline", "found_on"):
            raw = row.cells.get(name)
            try:
                setattr(row, name, norm.parse_date(raw))
            except (ValueError, OverflowError):
                row.problem(label[name], _("Not a date: %(value)s") % {"value": norm.text(raw)})
        if row.deadline is not None and row.deadline < self.today:
            row.problem(label["deadline"], _("The deadline %(date)s has passed; give the new "
                                              "deadline of a hazard still open.")
                        % {"date": row.deadline.isoformat()})
        if row.deadline is None and norm.text(row.cells.get("deadline")) == "":
            row.problem(label["deadline"], _("A deadline is required."))
        if row.found_on is not None and row.found_on > self.today:
            row.problem(label["found_on"], _("The date found is in the future."))

    def _parse_tenant(self, row: ParsedRow, label: dict[str, str]) -> None:
        from bihuan.tenants.validators import normalise_id_number, normalise_phone

        if not row.address:
            row.problem(label["address"], _("The place needs an address."))
        row.tenant_name = norm.text(row.cells.get("tenant_name"))
        row.room = norm.text(row.cells.get("room"))
        if not row.tenant_name:
            row.problem(label["tenant_name"], _("Enter the tenant's name."))
        if not row.room:
            row.problem(label["room"], _("Enter the room."))
        for name, limit in (("tenant_name", 50), ("room", 20)):
            if len(getattr(row, name)) > limit:
                row.problem(label[name], _("Longer than %(n)d characters.") % {"n": limit})
        # The messages name the problem, never the number (personal data).
        try:
            row.id_number = normalise_id_number(norm.compact(row.cells.get("id_number")),
                                                today=self.today)
        except DomainError as error:
            row.problem(label["id_number"], str(error.message))
        try:
            row.phone = normalise_phone(norm.compact(row.cells.get("phone")))
        except DomainError as error:
            row.problem(label["phone"], str(error.message))
        raw = row.cells.get("moved_in_on")
        try:
            row.moved_in_on = norm.parse_date(raw)
        except (ValueError, OverflowError):
            row.problem(label["moved_in_on"], _("Not a date: %(value)s")
                        % {"value": norm.text(raw)})
        else:
            if row.moved_in_on is None:
                row.problem(label["moved_in_on"], _("The move-in date is missing."))
            elif row.moved_in_on > self.today:
                row.problem(label["moved_in_on"], _("The move-in date is in the future."))

    def resolve_tenant_places(self, batch: list[ParsedRow]) -> None:
        """Tenants live in places already registered: find each row's place (in scope)."""
        from bihuan.tenants.services import may_register

        addresses = {r.address for r in batch if r.address}
        by_key: dict[str, list[Place]] = {}
        unkeyed = unkeyed_places_exist()
        for queryset in places_at_addresses(
                Place.objects.visible_to(self.actor).filter(
                    area__path__startswith=self.job.area.path), addresses, unkeyed=unkeyed):
            for place in queryset.select_related("area", "party"):
                by_key.setdefault(norm.address_key(place.address), []).append(place)
        seen: set[tuple[int, str]] = set()
        for row in batch:
            if not row.address:
                continue
            places = by_key.get(row.address_key, [])
            if len(places) > 1 and row.name:
                name = norm.name_key(row.name)
                places = [p for p in places if _similar(name, norm.name_key(p.name))
                          >= NAME_SIMILARITY]
            if not places:
                row.problem(self.labels["address"],
                            _("No registered place at this address: import the place first."))
            elif len(places) > 1:
                row.problem(self.labels["name"],
                            _("Several places at this address: give the place's name."))
            elif not may_register(self.actor, places[0]):
                row.problem(self.labels["address"],
                            _("You may not register tenants of this place."))
            else:
                row.place_id = places[0].pk
                key = (places[0].pk, row.id_number)
                if row.id_number and key in self._tenants_seen:
                    row.problem(self.labels["id_number"],
                                _("The same person appears twice for this place."))
                seen.add(key)
        self._tenants_seen |= seen

    def _may_register(self, area: Area, kind: str) -> bool:
        key = (area.path, kind)
        if key not in self._grant_cache:
            self._grant_cache[key] = any(
                g.role in OFFICIAL_ROLES for g in self.scope.grants_for(area.path, kind))
        return self._grant_cache[key]


def _plain(value: Any) -> bool:
    return value is None or type(value) is str


def _batches(rows: Iterator[ParsedRow], size: int | None = None) -> Iterator[list[ParsedRow]]:
    size = size or BATCH
    batch: list[ParsedRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _similar(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


# ---------------------------------------------------------------- progress


# The page polls every 2 s: inside a transaction, progress is written at most this often.
PROGRESS_EVERY_S = 1.0
_last_progress: dict[int, float] = {}


def _save_progress(job_id: int, **fields: Any) -> None:
    """Make progress visible to the page polling it, even from inside the commit's
    transaction (PostgreSQL: through a second connection; SQLite allows one writer
    at a time, so there progress waits for the end). At most once a second: each
    write is a commit of its own."""
    if connection.in_atomic_block and connection.vendor != "postgresql":
        return
    now = time.monotonic()
    if now - _last_progress.get(job_id, 0.0) < PROGRESS_EVERY_S:
        return
    _last_progress[job_id] = now
    if not connection.in_atomic_block:
        ImportJob.objects.filter(pk=job_id).update(**fields)
        return

    def write() -> None:
        try:
            ImportJob.objects.filter(pk=job_id).update(**fields)
        finally:
            connections.close_all()  # this thread's connection only

    worker = threading.Thread(target=write, daemon=True)
    worker.start()
    worker.join()


# ---------------------------------------------------------------- the dry run


# Address key → (row, name key) of the file's rows so far. Tuples, not lists: tuples of
# strings and ints are not tracked by the cyclic garbage collector, whose full passes
# over 100,000 lists would otherwise cost a second in a big import.
Seen = dict[str, tuple[tuple[int, str], ...]]


# A claim by a process on another host is presumed dead after this long (the biggest
# ledgers take minutes); on this host a dead process is seen at once.
IMPORT_LEASE = dt.timedelta(hours=2)


def _claim_fields() -> dict[str, Any]:
    from bihuan.core.taskrecovery import worker_id

    return {"claimed_by": worker_id(), "claimed_at": clock.now()}


def recover_interrupted(job: ImportJob) -> ImportJob:
    """A job left running by a process that died (kill -9, a crash, a restart): its
    writes were one transaction, rolled back, so nothing of it is in the database;
    put it back where it was before that run, to be started again."""
    from bihuan.core.taskrecovery import claim_is_dead

    if not job.running or not claim_is_dead(job.claimed_by, job.claimed_at,
                                            lease=IMPORT_LEASE, now=clock.now()):
        return job
    if job.status == ImportStatus.IMPORTING and job.checked_at is not None:
        back = ImportStatus.CHECKED  # the commit after a dry run
    else:
        back = ImportStatus.UPLOADED  # a dry run, or the one-pass import
    ImportJob.objects.filter(pk=job.pk, status=job.status, claimed_by=job.claimed_by).update(
        status=back, processed_rows=0, claimed_by="", claimed_at=None,
        message=_("The last run was interrupted before it finished; nothing of it was "
                  "written. Start it again."))
    job.refresh_from_db()
    return job


def check_import(job: ImportJob | int, *, actor: Any,
                 on_progress: Callable[[int], None] | None = None) -> ImportJob:
    """Validate every row and find the duplicates; write nothing but the job's findings."""
    job = recover_interrupted(_own_job(job, actor))
    if job.running or job.status == ImportStatus.DONE:
        raise ValidationFailed(_("This import is running or done."))
    job.problems.all().delete()
    job.duplicates.all().delete()
    job.status = ImportStatus.CHECKING
    job.processed_rows = job.error_rows = job.duplicate_rows = 0
    job.message = ""
    for name, value in _claim_fields().items():
        setattr(job, name, value)
    job.save(update_fields=["status", "processed_rows", "error_rows", "duplicate_rows",
                            "message", "claimed_by", "claimed_at"])
    reader = Reader(job, actor)
    seen: Seen = {}
    unkeyed = unkeyed_places_exist()
    processed = errors = duplicates = 0
    try:
        for batch in _batches(reader.rows()):
            if job.kind == ImportKind.TENANTS:
                reader.resolve_tenant_places(batch)
            problems = [RowProblem(job=job, row=r.number, column=c[:40], message=m[:300])
                        for r in batch for c, m in r.problems]
            RowProblem.objects.bulk_create(problems)
            errors += sum(1 for r in batch if r.problems)
            found = _find_duplicates(job, batch, seen, unkeyed=unkeyed) \
                if job.kind != ImportKind.TENANTS else []
            Duplicate.objects.bulk_create(found)
            duplicates += len(found)
            processed += len(batch)
            _save_progress(job.pk, processed_rows=processed)
            if on_progress is not None:
                on_progress(processed)
    except DomainError as error:
        job.status = ImportStatus.FAILED
        job.message = str(error.message)
        job.save(update_fields=["status", "message"])
        raise
    job.status = ImportStatus.CHECKED
    job.total_rows = job.processed_rows = processed
    job.error_rows = errors
    job.duplicate_rows = duplicates
    job.checked_at = clock.now()
    job.save(update_fields=["status", "total_rows", "processed_rows", "error_rows",
                            "duplicate_rows", "checked_at"])
    return job


def _places_before(job: ImportJob) -> int:
    """The highest place id before this pass: later ones are this file's own rows, which
    the within-file check already compares (and the look-up stays on the older rows)."""
    return int(Place.objects.aggregate(top=Max("pk"))["top"] or 0)


def _find_duplicates(job: ImportJob, batch: list[ParsedRow],
                     seen: Seen,
                     before: int | None = None, *, unkeyed: bool = True) -> list[Duplicate]:
    """Rows like an existing place (same address key, similar name) or like an earlier
    row of the file. ``unkeyed``: whether places without an address key may exist
    (:func:`places.models.unkeyed_places_exist`, asked once per pass)."""
    found: dict[int, Duplicate] = {}
    candidates = {r.address: r.address_key[:ADDRESS_KEY_LENGTH] for r in batch if r.address}
    existing: dict[str, list[tuple[int, str]]] = {}
    if candidates:
        # Through the address-key index (one probe per distinct address, not a scan of
        # the table per batch); the key is compared again in Python below.
        older = Place.objects.filter(pk__lte=before) if before is not None else Place.objects
        # (One query per chunk: as a UNION, PostgreSQL plans the arms as a parallel
        # append, whose workers cost more to start than the look-ups take.)
        matches = [match for queryset in places_at_addresses(
                       older.filter(area__path__startswith=job.area.path), candidates,
                       keys=candidates, unkeyed=unkeyed)
                   for match in queryset.order_by().values_list("pk", "name", "address")]
        # In id order, as one query would give them (the first of equally similar places
        # wins).
        for pk, name, address in sorted(matches):
            existing.setdefault(norm.address_key(address), []).append((pk, norm.name_key(name)))
    for row in batch:
        if not row.address_key:
            continue
        name = norm.name_key(row.name)
        best: tuple[float, int] | None = None
        for pk, other in existing.get(row.address_key, []):
            score = _similar(name, other)
            if score >= NAME_SIMILARITY and (best is None or score > best[0]):
                best = (score, pk)
        if best is not None:
            found[row.number] = Duplicate(job=job, row=row.number, name=row.name[:200],
                                          address=row.address[:255], place_id=best[1],
                                          similarity=round(best[0], 3))
        else:
            for number, other in seen.get(row.address_key, ()):
                score = _similar(name, other)
                if score >= NAME_SIMILARITY:
                    found[row.number] = Duplicate(
                        job=job, row=row.number, name=row.name[:200],
                        address=row.address[:255], same_as_row=number,
                        similarity=round(score, 3))
                    break
        if row.number not in found:
            seen[row.address_key] = (*seen.get(row.address_key, ()), (row.number, name))
    return list(found.values())


def decide_duplicate(job: ImportJob | int, *, actor: Any, row: int, decision: str) -> Duplicate:
    job = _own_job(job, actor)
    if decision not in DuplicateDecision.values:
        raise ValidationFailed(_("Unknown decision."), field="decision")
    duplicate = job.duplicates.filter(row=row).first()
    if duplicate is None:
        raise NotFound()
    if decision == DuplicateDecision.MERGE and duplicate.place_id is None \
            and duplicate.same_as_row is None:
        raise ValidationFailed(_("There is nothing to merge into."), field="decision")
    duplicate.decision = decision
    duplicate.save(update_fields=["decision"])
    return duplicate


# ---------------------------------------------------------------- the commit


@dataclasses.dataclass
class Outcome:
    created: int = 0
    merged: int = 0
    skipped: int = 0
    hazards: int = 0


def commit_import(job: ImportJob | int, *, actor: Any,
                  on_progress: Callable[[int], None] | None = None) -> ImportJob:
    """Write every row in one transaction; any problem and nothing is written."""
    job = recover_interrupted(_own_job(job, actor))
    if job.status != ImportStatus.CHECKED:
        raise ValidationFailed(_("Check the file (dry run) before importing it."))
    if job.error_rows:
        raise ValidationFailed(
            _("%(n)d rows have problems: correct the file and upload it again.")
            % {"n": job.error_rows})
    # Claim the job (a second click or a second worker finds it already claimed).
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.IMPORTING, processed_rows=0, **_claim_fields())
    if not claimed:
        raise ValidationFailed(_("This import is already running."))
    try:
        with transaction.atomic():
            outcome, _found = _write(job, actor, on_progress)
            audit.record("import.commit", actor=actor, obj=job, data={
                "kind": job.kind, "file": job.filename, "rows": job.total_rows,
                "created": outcome.created, "merged": outcome.merged,
                "skipped": outcome.skipped, "hazards": outcome.hazards})
    except DomainError as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.CHECKED, processed_rows=0, message=str(error.message))
        raise
    except BaseException:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, processed_rows=0)
        raise
    return _finish(job, outcome)


def _finish(job: ImportJob, outcome: Outcome) -> ImportJob:
    job.status = ImportStatus.DONE
    job.created_count, job.merged_count, job.skipped_count = (
        outcome.created, outcome.merged, outcome.skipped)
    job.processed_rows = job.total_rows
    job.finished_at = clock.now()
    job.message = ""
    job.save(update_fields=["status", "created_count", "merged_count", "skipped_count",
                            "processed_rows", "total_rows", "duplicate_rows", "checked_at",
                            "finished_at", "message"])
    if job.kind == ImportKind.TENANTS:
        # The register now holds the tenants, sealed at rest: the plain file of ID
        # numbers is not kept beside it.
        job.file.delete(save=False)
        job.save(update_fields=["file"])
    return job


_ORGANISATION = re.compile("|".join(map(re.escape, ORGANISATION_WORDS)))


def _party_kind(name: str) -> str:
    return PartyKind.ORGANISATION if _ORGANISATION.search(name) else PartyKind.PERSON


class _Broken(Exception):
    """Rows had problems during a one-pass import: roll everything back."""

    def __init__(self, problems: list[RowProblem], error_rows: int, total: int) -> None:
        super().__init__("broken rows")
        self.problems, self.error_rows, self.total = problems, error_rows, total


# At most this many problems are kept in memory by a one-pass import (all are counted).
PROBLEMS_KEPT = 10_000


def _write(job: ImportJob, actor: Any, on_progress: Callable[[int], None] | None,
           *, one_pass: bool = False) -> tuple[Outcome, list[Duplicate]]:
    """Write every row of the file (inside the caller's transaction).

    After a dry run, the duplicates and their decisions come from the job. In one
    pass (:func:`import_at_once`), each batch is checked and its duplicates found
    just before it is written; from the first problem on nothing more is written,
    every row is still checked, and :class:`_Broken` rolls the transaction back.
    """
    reader = Reader(job, actor)
    before = _places_before(job)
    unkeyed = one_pass and unkeyed_places_exist()
    decisions = {} if one_pass else {d.row: d for d in job.duplicates.all()}
    found: list[Duplicate] = []
    seen: Seen = {}
    problems: list[RowProblem] = []
    error_rows = 0
    pause_after = int(os.environ.get(PAUSE_ENV, "0") or 0)
    outcome = Outcome()
    written = 0
    # Rows of this file that became places (for a later row merged into them) and
    # parties already created from this file (collect once: same name and phone).
    row_place: dict[int, int] = {}
    parties: dict[tuple[str, str], NewParty | int] = {}
    for number, batch in enumerate(_batches(reader.rows()), start=1):
        if job.kind == ImportKind.TENANTS:
            reader.resolve_tenant_places(batch)
        bad = [row for row in batch if row.problems]
        if bad and not one_pass:
            raise ValidationFailed(
                _("Row %(row)d: %(problem)s")
                % {"row": bad[0].number, "problem": bad[0].problems[0][1]})
        if bad or error_rows:
            error_rows += len(bad)
            problems.extend(RowProblem(job=job, row=r.number, column=c[:40], message=m[:300])
                            for r in bad for c, m in r.problems)
            del problems[PROBLEMS_KEPT:]
            written += len(batch)
            continue
        if one_pass and job.kind != ImportKind.TENANTS:
            batch_found = _find_duplicates(job, batch, seen, before, unkeyed=unkeyed)
            decisions.update((d.row, d) for d in batch_found)
            found.extend(batch_found)
        if job.kind == ImportKind.TENANTS:
            _write_tenants(actor, batch, outcome)
        else:
            places = _write_places(job, actor, batch, decisions, row_place, parties, outcome,
                                   number)
            if job.kind == ImportKind.HAZARDS:
                _write_hazards(actor, batch, places, outcome)
        written += len(batch)
        _save_progress(job.pk, processed_rows=written)
        if on_progress is not None:
            on_progress(written)
        if pause_after and written >= pause_after:
            print(f"import: paused after {written} rows", file=sys.stderr, flush=True)
            time.sleep(600)
    if error_rows:
        raise _Broken(problems, error_rows, written)
    if not one_pass and written != job.total_rows:
        raise ValidationFailed(_("The file changed since it was checked; check it again."))
    job.total_rows = written
    return outcome, found


def import_at_once(job: ImportJob | int, *, actor: Any,
                   on_progress: Callable[[int], None] | None = None) -> ImportJob:
    """Check and commit in ONE pass over the file (the command line without --dry-run).

    The same checks, duplicate detection (with the job's default decision) and
    writes as :func:`check_import` then :func:`commit_import`, in one transaction:
    any problem and nothing is written; the job then holds the problems (as after
    a dry run) and the status ``checked``.
    """
    job = recover_interrupted(_own_job(job, actor))
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.IMPORTING, processed_rows=0, **_claim_fields())
    if not claimed:
        raise ValidationFailed(_("This import is running or done."))
    job.problems.all().delete()
    job.duplicates.all().delete()
    try:
        with transaction.atomic():
            outcome, found = _write(job, actor, on_progress, one_pass=True)
            Duplicate.objects.bulk_create(found)
            audit.record("import.commit", actor=actor, obj=job, data={
                "kind": job.kind, "file": job.filename, "rows": job.total_rows,
                "created": outcome.created, "merged": outcome.merged,
                "skipped": outcome.skipped, "hazards": outcome.hazards, "one_pass": True})
    except _Broken as broken:
        RowProblem.objects.bulk_create(broken.problems)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.CHECKED, total_rows=broken.total, processed_rows=broken.total,
            error_rows=broken.error_rows, checked_at=clock.now())
        job.refresh_from_db()
        return job
    except BaseException:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, processed_rows=0)
        raise
    job.duplicate_rows = len(found)
    job.checked_at = clock.now()
    return _finish(job, outcome)


@dataclasses.dataclass(slots=True)
class NewParty:
    """A party about to be inserted (plain data: a model instance per row costs too much)."""

    name: str
    kind: str
    role: str
    phone: str
    pk: int | None = None


@dataclasses.dataclass(slots=True)
class NewPlace:
    row: ParsedRow
    party: NewParty | int | None  # a party of this batch, or the id of an earlier one
    qr_token: str = dataclasses.field(default_factory=new_qr_token)
    pk: int | None = None

    @property
    def party_id(self) -> int | None:
        return self.party.pk if isinstance(self.party, NewParty) else self.party


def _write_places(job: ImportJob, actor: Any, batch: list[ParsedRow],
                  decisions: dict[int, Duplicate], row_place: dict[int, int],
                  parties: dict[tuple[str, str], NewParty | int], outcome: Outcome,
                  batch_number: int) -> dict[int, int | None]:
    """Create (or find, or merge into) the place of every row; row number → place id."""
    result: dict[int, int | None] = {}
    new_parties: dict[tuple[str, str], NewParty] = {}
    new_places: list[NewPlace] = []
    merges: list[tuple[ParsedRow, Duplicate]] = []
    for row in batch:
        duplicate = decisions.get(row.number)
        decision = (duplicate.decision or job.default_decision) if duplicate else \
            DuplicateDecision.CREATE
        if decision == DuplicateDecision.SKIP:
            outcome.skipped += 1
            result[row.number] = None
            continue
        if decision == DuplicateDecision.MERGE and duplicate is not None:
            # Resolved once this batch's places exist (the earlier row may be in it).
            merges.append((row, duplicate))
            continue
        party = None
        if row.party_name:
            key = (norm.name_key(row.party_name), row.phone)
            party = parties.get(key)
            if party is None:
                party = NewParty(name=row.party_name, kind=_party_kind(row.party_name),
                                 role=DEFAULT_PARTY_ROLE.get(row.kind, PartyRole.OWNER),
                                 phone=row.phone)
                parties[key] = new_parties[key] = party
        if row.area is None:  # a row without an area has a problem and never gets here
            raise ValidationFailed(_("Row %(row)d has no area.") % {"row": row.number})
        new_places.append(NewPlace(row=row, party=party))
    batch_parties = list(new_parties.values())
    if connection.vendor == "postgresql" and (batch_parties or new_places):
        _reserve_ids(batch_parties, new_places)
    _insert_parties(batch_parties)
    _insert_places(new_places)
    # Later batches need only the ids (plain ints cost the garbage collector nothing).
    for key, party in new_parties.items():
        assert party.pk is not None
        parties[key] = party.pk
    for place in new_places:
        assert place.pk is not None
        row_place[place.row.number] = place.pk
        result[place.row.number] = place.pk
    outcome.created += len(new_places)
    merged_ids = []
    for row, duplicate in merges:
        target = duplicate.place_id or row_place.get(duplicate.same_as_row or 0)
        if target is None:  # merged into a row that was itself skipped
            outcome.skipped += 1
            result[row.number] = None
            continue
        merged_ids.append(_merge_into(actor, row, target))
        result[row.number] = target
        outcome.merged += 1
    if new_places or new_parties or merged_ids:
        # One audit entry per batch names every row written (row → place id).
        audit.record("place.import", actor=actor, stream=f"imports.importjob:{job.pk}", data={
            "job": job.pk, "batch": batch_number, "file": job.filename,
            "rows": [place.row.number for place in new_places],
            "places": [place.pk for place in new_places],
            "parties": [party.pk for party in batch_parties],
            "merged": merged_ids,
        })
    return result


_sequences: dict[tuple[str, str], str] = {}


def _sequence(cursor: Any, model: type[Any]) -> str:
    table = model._meta.db_table
    key = (connection.alias, table)
    if key not in _sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        _sequences[key] = cursor.fetchone()[0]
    return _sequences[key]


def _reserve_ids(parties: list[NewParty], places: list[NewPlace]) -> None:
    """PostgreSQL: draw the ids of a batch's new parties and places, in one round trip."""
    with connection.cursor() as cursor:
        # The sequences by name: pg_get_serial_sequence() inside the SELECT would be
        # evaluated once per id (7 ms for 1,000 ids instead of 1 ms).
        cursor.execute(
            "SELECT ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s)), "
            "ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s))",
            [_sequence(cursor, Party), len(parties), _sequence(cursor, Place), len(places)])
        party_ids, place_ids = cursor.fetchone()
    for party, pk in zip(parties, party_ids, strict=True):
        party.pk = pk
    for place, pk in zip(places, place_ids, strict=True):
        place.pk = pk


def _copy(model: type[Any], columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _insert_parties(parties: list[NewParty]) -> None:
    """Insert validated new parties: COPY on PostgreSQL (ids drawn by :func:`_reserve_ids`),
    bulk INSERT elsewhere."""
    if not parties:
        return
    if connection.vendor != "postgresql":
        objs = [Party(name=p.name, kind=p.kind, role=p.role, phone=p.phone) for p in parties]
        Party.objects.bulk_create(objs, batch_size=BATCH)
        for party, obj in zip(parties, objs, strict=True):
            party.pk = obj.pk
        return
    now = clock.now().isoformat()  # as text: cheaper for COPY than a datetime per row
    _copy(Party, ("id", "name", "kind", "role", "phone", "created_at"),
          ((p.pk, p.name, p.kind, p.role, p.phone, now) for p in parties))


def _insert_places(places: list[NewPlace]) -> None:
    """Insert validated new places, as :func:`_insert_parties`."""
    if not places:
        return
    if connection.vendor != "postgresql":
        objs = [Place(area=p.row.area, name=p.row.name, kind=p.row.kind,
                      address=p.row.address, latitude=p.row.latitude,
                      longitude=p.row.longitude, party_id=p.party_id,
                      qr_token=p.qr_token) for p in places]
        Place.objects.bulk_create(objs, batch_size=BATCH)
        for place, obj in zip(places, objs, strict=True):
            place.pk = obj.pk
        return
    # COPY bypasses AddressKeyField.pre_save: write the key the field would compute
    # (the row's key is that of its stored, normalised address). Decimals and the time
    # go as text, which COPY formats several times faster than the objects.
    now = clock.now().isoformat()
    _copy(Place, ("id", "name", "kind", "area_id", "address", "address_key", "latitude",
                  "longitude", "party_id", "qr_token", "active", "created_at"),
          ((p.pk, p.row.name, p.row.kind, p.row.area.pk if p.row.area else None,
            p.row.address, p.row.address_key[:ADDRESS_KEY_LENGTH],
            None if p.row.latitude is None else str(p.row.latitude),
            None if p.row.longitude is None else str(p.row.longitude),
            p.party_id, p.qr_token, True, now)
           for p in places))


def _merge_into(actor: Any, row: ParsedRow, place_id: int) -> int:
    """Fill the blanks of an existing place from a row (never overwrite what is there)."""
    place = Place.objects.visible_to(actor).select_for_update().filter(pk=place_id).first()
    if place is None:
        raise ValidationFailed(_("Row %(row)d: the place to merge into is out of reach.")
                               % {"row": row.number})
    changed: dict[str, Any] = {}
    if place.latitude is None and row.latitude is not None:
        place.latitude, place.longitude = row.latitude, row.longitude
        changed.update(latitude=str(row.latitude), longitude=str(row.longitude))
    if place.party_id is None and row.party_name:
        party = Party.objects.create(name=row.party_name, kind=_party_kind(row.party_name),
                                     role=DEFAULT_PARTY_ROLE.get(place.kind, PartyRole.OWNER),
                                     phone=row.phone)
        place.party = party
        changed["party"] = party.pk
    if changed:
        place.save(update_fields=["latitude", "longitude", "party"])
        audit.record("place.merge", actor=actor, obj=place,
                     data={"row": row.number, "filled": sorted(changed)})
    return place.pk


def _write_tenants(actor: Any, batch: list[ParsedRow], outcome: Outcome) -> None:
    """Each tenant through ``tenants.services.register_tenant`` (sealed at rest, audited)."""
    from bihuan.tenants.services import register_tenant

    for row in batch:
        assert row.place_id is not None and row.moved_in_on is not None
        try:
            register_tenant(actor=actor, place_pk=row.place_id, name=row.tenant_name,
                            id_number=row.id_number, phone=row.phone, room=row.room,
                            moved_in_on=row.moved_in_on)
        except DomainError as error:
            raise ValidationFailed(_("Row %(row)d: %(problem)s")
                                   % {"row": row.number, "problem": str(error.message)}
                                   ) from None
        outcome.created += 1


def _write_hazards(actor: Any, batch: list[ParsedRow], places: dict[int, int | None],
                   outcome: Outcome) -> None:
    from bihuan.hazards.choices import HazardSource
    from bihuan.hazards.services import register_hazard

    for row in batch:
        place_id = places.get(row.number)
        if place_id is None:
            continue
        try:
            register_hazard(
                actor=actor, place=place_id, description=row.description,
                requirement=row.requirement or _("Rectify as the ledger describes."),
                deadline=row.deadline, source=HazardSource.INSPECTION,
            )
        except DomainError as error:
            raise ValidationFailed(_("Row %(row)d: %(problem)s")
                                   % {"row": row.number, "problem": str(error)}) from None
        outcome.hazards += 1


# ---------------------------------------------------------------- the error report


def problems_by_row(job: ImportJob) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for row, column, message in job.problems.values_list("row", "column", "message"):
        found.setdefault(row, []).append(f"{column}: {message}" if column else message)
    return found


def write_error_report(job: ImportJob, out: Any) -> str:
    """The uploaded sheet with an added 错误 column; returns the format written."""
    from bihuan.core.exports import safe_cell

    problems = problems_by_row(job)
    header = Header.from_json(job.header)
    error_title = _("Errors")
    with open_rows(job.file.path, job.file_format) as stream:
        if job.file_format == "xlsx":
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(title=_("Errors")[:31])
            width = len(header.labels)
            for number, values in stream:
                cells = [*values, *[None] * (width - len(values))]
                note = error_title if number == header.last_row else \
                    "；".join(problems.get(number, []))
                sheet.append([safe_cell(v) if isinstance(v, str) else v for v in cells]
                             + [note])
            workbook.save(out)
            return "xlsx"
        import csv
        import io

        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        for number, values in stream:
            note = error_title if number == header.last_row else \
                "；".join(problems.get(number, []))
            writer.writerow([safe_cell(v) for v in values] + [note])
        text.flush()
        text.detach()
        return "csv"
