"""Built-in checklist definitions, read from the TOML files in ``data/``.

Pure Python (standard library only, no Django) so that the data can be
validated by plain unit tests and by any loader (management command, data
migration) without a database.

One file per checklist, named after the checklist code in lower case
(``FS-RH`` -> ``fs-rh.toml``). Top-level keys::

    code, version, domain, name, name_en, place_kinds, items

and every ``[[items]]`` table has exactly::

    code, category, category_en, text, text_en, requirement, requirement_en,
    severity, deadline_rule, legal_basis, legal_basis_en

``order`` is not written in the files: it is the 1-based position of the item
in its file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR: Path = Path(__file__).resolve().parent / "data"

SEVERITIES: tuple[str, ...] = ("on_the_spot", "general", "major_candidate")
DEADLINE_RULES: tuple[str, ...] = ("WD1", "WD3", "WD7", "WD15", "WD30")
PLACE_KINDS: tuple[str, ...] = (
    "rental_house",
    "shop",
    "market",
    "residential_compound",
    "three_in_one",
    "enterprise",
    "hotel",
)
DOMAINS: tuple[str, ...] = ("fire", "civilized")

#: Behaviour violations fixed on the spot always get the shortest deadline.
ON_THE_SPOT_DEADLINE = "WD1"

CHECKLIST_CODE_RE = re.compile(r"^[A-Z]{2}(?:-[A-Z]{2})?$")
ITEM_CODE_RE = re.compile(r"^[A-Z]{2}-\d{2,3}$")

CHECKLIST_KEYS: frozenset[str] = frozenset(
    {"code", "version", "domain", "name", "name_en", "place_kinds", "items"}
)
ITEM_KEYS: frozenset[str] = frozenset(
    {
        "code",
        "category",
        "category_en",
        "text",
        "text_en",
        "requirement",
        "requirement_en",
        "severity",
        "deadline_rule",
        "legal_basis",
        "legal_basis_en",
    }
)
#: Item fields that may be an empty string (only when no legal basis applies).
OPTIONAL_ITEM_TEXT: frozenset[str] = frozenset({"legal_basis", "legal_basis_en"})

#: Column sizes of ``Checklist`` / ``ChecklistItem`` (bihuan.checklists.models).
MAX_LENGTHS: Mapping[str, int] = {
    "checklist.code": 20,
    "checklist.name": 100,
    "checklist.name_en": 100,
    "item.code": 20,
    "item.category": 50,
    "item.category_en": 80,
    "item.text": 300,
    "item.text_en": 300,
    "item.requirement": 300,
    "item.requirement_en": 300,
    "item.legal_basis": 300,
    "item.legal_basis_en": 300,
}


class ChecklistDataError(ValueError):
    """A checklist data file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class ItemDefinition:
    code: str
    category: str
    category_en: str
    text: str
    text_en: str
    requirement: str
    requirement_en: str
    severity: str
    deadline_rule: str
    legal_basis: str
    legal_basis_en: str
    order: int


@dataclass(frozen=True)
class ChecklistDefinition:
    code: str
    version: int
    domain: str
    name: str
    name_en: str
    place_kinds: tuple[str, ...]
    items: tuple[ItemDefinition, ...]

    @property
    def item_prefix(self) -> str:
        """Two-letter prefix shared by the item codes (``FS-RH`` -> ``RH``)."""
        return self.code.rsplit("-", 1)[-1]


def _check_keys(actual: Mapping[str, object], expected: frozenset[str], where: str) -> None:
    missing = sorted(expected - actual.keys())
    unknown = sorted(actual.keys() - expected)
    if missing:
        raise ChecklistDataError(f"{where}: missing key(s): {', '.join(missing)}")
    if unknown:
        raise ChecklistDataError(f"{where}: unknown key(s): {', '.join(unknown)}")


def _text(
    table: Mapping[str, object], key: str, where: str, max_length: int, *, allow_empty: bool = False
) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise ChecklistDataError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    if value != value.strip():
        raise ChecklistDataError(f"{where}: {key!r} has leading or trailing whitespace")
    if not value and not allow_empty:
        raise ChecklistDataError(f"{where}: {key!r} must not be empty")
    if len(value) > max_length:
        raise ChecklistDataError(
            f"{where}: {key!r} is {len(value)} characters long, the limit is {max_length}"
        )
    return value


def _choice(table: Mapping[str, object], key: str, where: str, choices: tuple[str, ...]) -> str:
    value = table[key]
    if not isinstance(value, str) or value not in choices:
        raise ChecklistDataError(
            f"{where}: {key!r} is {value!r}, expected one of: {', '.join(choices)}"
        )
    return value


def _item(raw: object, index: int, prefix: str, file_where: str) -> ItemDefinition:
    where = f"{file_where}: item #{index}"
    if not isinstance(raw, dict):
        raise ChecklistDataError(f"{where}: must be a table ([[items]])")
    code_value = raw.get("code")
    if isinstance(code_value, str):
        where = f"{where} ({code_value})"
    _check_keys(raw, ITEM_KEYS, where)

    code = _text(raw, "code", where, MAX_LENGTHS["item.code"])
    if not ITEM_CODE_RE.match(code):
        raise ChecklistDataError(f"{where}: code {code!r} does not match {ITEM_CODE_RE.pattern}")
    if not code.startswith(f"{prefix}-"):
        raise ChecklistDataError(f"{where}: code {code!r} must start with {prefix}-")

    texts = {
        key: _text(
            raw, key, where, MAX_LENGTHS[f"item.{key}"], allow_empty=key in OPTIONAL_ITEM_TEXT
        )
        for key in (
            "category",
            "category_en",
            "text",
            "text_en",
            "requirement",
            "requirement_en",
            "legal_basis",
            "legal_basis_en",
        )
    }
    if bool(texts["legal_basis"]) != bool(texts["legal_basis_en"]):
        raise ChecklistDataError(
            f"{where}: legal_basis and legal_basis_en must both be given or both be empty"
        )

    severity = _choice(raw, "severity", where, SEVERITIES)
    deadline_rule = _choice(raw, "deadline_rule", where, DEADLINE_RULES)
    if severity == "on_the_spot" and deadline_rule != ON_THE_SPOT_DEADLINE:
        raise ChecklistDataError(
            f"{where}: on_the_spot items must use deadline_rule {ON_THE_SPOT_DEADLINE!r}, "
            f"got {deadline_rule!r}"
        )

    return ItemDefinition(
        code=code,
        category=texts["category"],
        category_en=texts["category_en"],
        text=texts["text"],
        text_en=texts["text_en"],
        requirement=texts["requirement"],
        requirement_en=texts["requirement_en"],
        severity=severity,
        deadline_rule=deadline_rule,
        legal_basis=texts["legal_basis"],
        legal_basis_en=texts["legal_basis_en"],
        order=index,
    )


def load_definition(path: Path) -> ChecklistDefinition:
    """Read and validate one checklist file.

    Raises :class:`ChecklistDataError` naming the file (and the item, where
    the fault is in an item) for any unreadable, malformed or invalid data.
    """
    where = path.name
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ChecklistDataError(f"{where}: cannot read file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ChecklistDataError(f"{where}: invalid TOML: {exc}") from exc

    _check_keys(data, CHECKLIST_KEYS, where)

    code = _text(data, "code", where, MAX_LENGTHS["checklist.code"])
    if not CHECKLIST_CODE_RE.match(code):
        raise ChecklistDataError(
            f"{where}: checklist code {code!r} does not match {CHECKLIST_CODE_RE.pattern}"
        )
    where = f"{where} ({code})"

    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ChecklistDataError(f"{where}: 'version' must be a positive integer, got {version!r}")

    domain = _choice(data, "domain", where, DOMAINS)
    name = _text(data, "name", where, MAX_LENGTHS["checklist.name"])
    name_en = _text(data, "name_en", where, MAX_LENGTHS["checklist.name_en"])

    raw_kinds = data["place_kinds"]
    if not isinstance(raw_kinds, list) or not raw_kinds:
        raise ChecklistDataError(f"{where}: 'place_kinds' must be a non-empty list")
    place_kinds: list[str] = []
    for kind in raw_kinds:
        if not isinstance(kind, str) or kind not in PLACE_KINDS:
            raise ChecklistDataError(
                f"{where}: unknown place kind {kind!r}, expected one of: {', '.join(PLACE_KINDS)}"
            )
        if kind in place_kinds:
            raise ChecklistDataError(f"{where}: place kind {kind!r} listed twice")
        place_kinds.append(kind)

    raw_items = data["items"]
    if not isinstance(raw_items, list) or not raw_items:
        raise ChecklistDataError(f"{where}: 'items' must be a non-empty array of tables")
    prefix = code.rsplit("-", 1)[-1]
    items: list[ItemDefinition] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items, start=1):
        item = _item(raw, index, prefix, where)
        if item.code in seen:
            raise ChecklistDataError(
                f"{where}: item #{index} ({item.code}): duplicate item code {item.code!r}"
            )
        seen.add(item.code)
        items.append(item)

    return ChecklistDefinition(
        code=code,
        version=version,
        domain=domain,
        name=name,
        name_en=name_en,
        place_kinds=tuple(place_kinds),
        items=tuple(items),
    )


def load_builtin_definitions(data_dir: Path | None = None) -> list[ChecklistDefinition]:
    """Load every ``*.toml`` in ``DATA_DIR`` (or ``data_dir``), sorted by code.

    Also checks that each file is named after its code in lower case and that
    no two files define the same checklist code.
    """
    directory = DATA_DIR if data_dir is None else data_dir
    definitions: dict[str, ChecklistDefinition] = {}
    for path in sorted(directory.glob("*.toml")):
        definition = load_definition(path)
        expected_name = f"{definition.code.lower()}.toml"
        if path.name != expected_name:
            raise ChecklistDataError(
                f"{path.name}: file for checklist {definition.code} must be named {expected_name}"
            )
        if definition.code in definitions:
            raise ChecklistDataError(f"{path.name}: duplicate checklist code {definition.code}")
        definitions[definition.code] = definition
    return [definitions[code] for code in sorted(definitions)]
