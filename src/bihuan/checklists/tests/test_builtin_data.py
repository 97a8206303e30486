"""Built-in checklist data: every file loads, coverage is complete, bad files are rejected.

Plain pytest, no database and no Django: only ``bihuan.checklists.builtin``.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from bihuan.checklists.builtin import (
    DATA_DIR,
    DEADLINE_RULES,
    PLACE_KINDS,
    SEVERITIES,
    ChecklistDataError,
    ChecklistDefinition,
    load_builtin_definitions,
    load_definition,
)

TOML_FILES = sorted(DATA_DIR.glob("*.toml"))

EXPECTED_FIRE = {
    "FS-RH": "rental_house",
    "FS-SS": "shop",
    "FS-SH": "three_in_one",
    "FS-MK": "market",
    "FS-RC": "residential_compound",
    "FS-FA": "enterprise",
    "FS-HT": "hotel",
}
EXPECTED_CC_KINDS = {"shop", "market", "residential_compound", "rental_house", "hotel"}

# Each topic: any one of the words must appear in the Chinese text of some fire item.
REQUIRED_TOPICS: dict[str, tuple[str, ...]] = {
    "e-bikes": ("电动自行车",),
    "locked or blocked exits": ("锁闭", "封堵"),
    "extinguishers": ("灭火器",),
    "improvised wiring": ("私拉乱接", "电线"),
    "people sleeping in premises": ("住人",),
    "sandwich panels": ("彩钢板",),
    "smoke alarms": ("烟感", "火灾探测报警"),
    "burglar bars": ("防盗窗",),
    "gas": ("燃气", "液化石油气"),
    "emergency lighting": ("应急照明",),
    "exit signs": ("疏散指示标志",),
    "fire doors": ("防火门",),
    "hydrants": ("消火栓",),
    "fire lanes": ("消防车通道",),
    "group rental": ("群租",),
    "hot work": ("动火",),
}

ITEM_CODE = re.compile(r"^[A-Z]{2}-\d{2,3}$")


@pytest.fixture(scope="module")
def definitions() -> list[ChecklistDefinition]:
    return load_builtin_definitions()


@pytest.fixture(scope="module")
def fire(definitions: list[ChecklistDefinition]) -> list[ChecklistDefinition]:
    return [d for d in definitions if d.domain == "fire"]


def test_data_dir_has_the_expected_files() -> None:
    names = {path.name for path in TOML_FILES}
    expected = {f"{code.lower()}.toml" for code in EXPECTED_FIRE} | {"cc.toml"}
    assert names == expected


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.name)
def test_every_file_loads(path: Path) -> None:
    definition = load_definition(path)
    assert path.name == f"{definition.code.lower()}.toml"
    assert definition.version >= 1
    assert definition.items
    assert [item.order for item in definition.items] == list(range(1, len(definition.items) + 1))


def test_load_builtin_definitions_sorted_by_code(
    definitions: list[ChecklistDefinition],
) -> None:
    codes = [d.code for d in definitions]
    assert codes == sorted(codes)
    assert set(codes) == set(EXPECTED_FIRE) | {"CC"}


def test_item_counts(definitions: list[ChecklistDefinition]) -> None:
    fire_items = sum(len(d.items) for d in definitions if d.domain == "fire")
    civilized_items = sum(len(d.items) for d in definitions if d.domain == "civilized")
    assert fire_items >= 80
    assert civilized_items >= 12
    for d in definitions:
        assert len(d.items) >= 12, d.code


def test_every_fire_place_kind_has_a_checklist(fire: list[ChecklistDefinition]) -> None:
    covered = {kind for d in fire for kind in d.place_kinds}
    assert covered == set(PLACE_KINDS)
    by_code = {d.code: d for d in fire}
    for code, kind in EXPECTED_FIRE.items():
        assert by_code[code].place_kinds == (kind,), code


def test_civilized_checklist(definitions: list[ChecklistDefinition]) -> None:
    (cc,) = [d for d in definitions if d.domain == "civilized"]
    assert cc.code == "CC"
    assert set(cc.place_kinds) == EXPECTED_CC_KINDS


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.name)
def test_item_codes_unique_and_well_formed(path: Path) -> None:
    # Read the raw file, independently of the loader's own checks.
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    codes = [item["code"] for item in raw["items"]]
    duplicates = [code for code, n in Counter(codes).items() if n > 1]
    assert not duplicates, f"{path.name}: duplicate item codes {duplicates}"
    prefix = raw["code"].rsplit("-", 1)[-1]
    for code in codes:
        assert ITEM_CODE.match(code), f"{path.name}: bad item code {code!r}"
        assert code.startswith(f"{prefix}-"), f"{path.name}: {code} lacks prefix {prefix}"


def test_values_are_from_the_allowed_sets(definitions: list[ChecklistDefinition]) -> None:
    for d in definitions:
        for item in d.items:
            assert item.severity in SEVERITIES, item.code
            assert item.deadline_rule in DEADLINE_RULES, item.code
            if item.severity == "on_the_spot":
                assert item.deadline_rule == "WD1", item.code


def test_every_severity_is_used_in_fire_checklists(fire: list[ChecklistDefinition]) -> None:
    used = {item.severity for d in fire for item in d.items}
    assert used == set(SEVERITIES)


@pytest.mark.parametrize("topic", sorted(REQUIRED_TOPICS))
def test_required_topic_present(topic: str, fire: list[ChecklistDefinition]) -> None:
    words = REQUIRED_TOPICS[topic]
    texts = [item.text for d in fire for item in d.items]
    assert any(word in text for text in texts for word in words), (
        f"no fire item mentions {topic} ({' / '.join(words)})"
    )


def test_e_bike_items_in_every_fire_checklist(fire: list[ChecklistDefinition]) -> None:
    for d in fire:
        assert any("电动自行车" in item.text for item in d.items), d.code


def test_legal_basis_uses_current_major_hazard_standard(
    definitions: list[ChecklistDefinition],
) -> None:
    for d in definitions:
        for item in d.items:
            assert "GB 35181-2017" not in item.legal_basis, item.code
            assert "重大火灾隐患判定方法" not in item.legal_basis, item.code
            if "GB 35181" in item.legal_basis:
                assert "《重大火灾隐患判定规则》（GB 35181-2025）" in item.legal_basis, item.code


def test_major_candidates_cite_gb35181_and_ask_for_a_decision(
    fire: list[ChecklistDefinition],
) -> None:
    for d in fire:
        for item in d.items:
            if item.severity == "major_candidate":
                assert "GB 35181-2025" in item.legal_basis, item.code
                assert "集体研判" in item.requirement, item.code


def test_fire_items_have_a_legal_basis(fire: list[ChecklistDefinition]) -> None:
    for d in fire:
        for item in d.items:
            assert item.legal_basis and item.legal_basis_en, item.code


# --- the loader rejects malformed files -------------------------------------------------

GOOD_ITEM = """
[[items]]
code = "{code}"
category = "安全疏散"
category_en = "Evacuation"
text = "锁闭安全出口"
text_en = "Exit locked"
requirement = "立即开启"
requirement_en = "Unlock at once"
severity = "{severity}"
deadline_rule = "{deadline}"
legal_basis = "《中华人民共和国消防法》第二十八条"
legal_basis_en = "Fire Protection Law art. 28"
"""

HEADER = """
code = "FS-XX"
version = 1
domain = "fire"
name = "测试检查表"
name_en = "Test checklist"
place_kinds = ["shop"]
"""


def item(code: str = "XX-01", severity: str = "on_the_spot", deadline: str = "WD1") -> str:
    return GOOD_ITEM.format(code=code, severity=severity, deadline=deadline)


def write(tmp_path: Path, text: str, name: str = "fs-xx.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_well_formed_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + item("XX-01") + item("XX-02", "general", "WD7"))
    definition = load_definition(path)
    assert definition.code == "FS-XX"
    assert [i.code for i in definition.items] == ["XX-01", "XX-02"]
    assert [i.order for i in definition.items] == [1, 2]


@pytest.mark.parametrize(
    ("label", "text", "message"),
    [
        ("unknown severity", HEADER + item(severity="urgent"), "severity"),
        ("duplicate code", HEADER + item("XX-01") + item("XX-01"), "duplicate"),
        ("missing item key", HEADER + item().replace('text_en = "Exit locked"\n', ""), "text_en"),
        (
            "missing top-level key",
            HEADER.replace('name_en = "Test checklist"\n', "") + item(),
            "name_en",
        ),
        ("unknown item key", HEADER + item() + 'extra = "x"\n', "extra"),
        ("bad item code", HEADER + item("XX-1"), "XX-1"),
        ("wrong item prefix", HEADER + item("YY-01"), "YY-01"),
        (
            "unknown deadline rule",
            HEADER + item(severity="general", deadline="WD2"),
            "deadline_rule",
        ),
        ("on the spot with long deadline", HEADER + item(deadline="WD7"), "on_the_spot"),
        ("unknown place kind", HEADER.replace('["shop"]', '["school"]') + item(), "school"),
        (
            "unknown domain",
            HEADER.replace('domain = "fire"', 'domain = "water"') + item(),
            "domain",
        ),
        ("no items", HEADER + "items = []\n", "items"),
        ("invalid TOML", HEADER + item() + "this is not toml\n", "TOML"),
        ("empty text", HEADER + item().replace('text = "锁闭安全出口"', 'text = ""'), "text"),
        ("version not an int", HEADER.replace("version = 1", 'version = "1"') + item(), "version"),
    ],
)
def test_loader_rejects_malformed_file(tmp_path: Path, label: str, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ChecklistDataError) as excinfo:
        load_definition(path)
    error = str(excinfo.value)
    assert "fs-xx.toml" in error, label
    assert message in error, label


def test_error_names_the_item(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + item("XX-01") + item("XX-02", severity="urgent"))
    with pytest.raises(ChecklistDataError, match=r"fs-xx\.toml.*item #2 \(XX-02\)"):
        load_definition(path)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(ChecklistDataError, match=r"nope\.toml"):
        load_definition(tmp_path / "nope.toml")


def test_builtin_loader_checks_file_names(tmp_path: Path) -> None:
    write(tmp_path, HEADER + item(), name="wrong-name.toml")
    with pytest.raises(ChecklistDataError, match=r"fs-xx\.toml"):
        load_builtin_definitions(tmp_path)
