"""Importing ledgers: the messy ledger, all-or-nothing, duplicates, CSV encodings."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from openpyxl import load_workbook

from bihuan.audit.models import AuditEntry
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.hazards.models import Hazard
from bihuan.imports import normalize as norm
from bihuan.imports import services
from bihuan.imports.choices import DuplicateDecision, ImportKind, ImportStatus
from bihuan.imports.headers import Header
from bihuan.imports.tests.ledgers import BROKEN_ROW, plain_rows, write_csv, write_messy_xlsx
from bihuan.places.models import Party, Place


def start(world: Any, path: Path, *, kind: str = ImportKind.PLACES, user: str = "east_officer",
          area: str = "east", **kwargs: Any) -> Any:
    with path.open("rb") as handle:
        return services.start_import(
            actor=world.users[user], kind=kind, file=File(handle, name=path.name),
            filename=path.name, area=world.towns[area], **kwargs)


def counts() -> tuple[int, int, int]:
    return Place.objects.count(), Party.objects.count(), Hazard.objects.count()


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("value", ["2022.9.18", "2022年9月18日", "2022/09/18", "2022-9-18",
                                   "２０２２．９．１８", "20220918", 44822, "44822",
                                   dt.datetime(2022, 9, 18, 0, 0)])
def test_it_reads_the_usual_date_forms(value: Any) -> None:
    assert norm.parse_date(value) == dt.date(2022, 9, 18)


@pytest.mark.parametrize("value", ["2022-13-45", "下周", "9/18", 12])
def test_it_refuses_what_is_not_a_date(value: Any) -> None:
    with pytest.raises(ValueError):
        norm.parse_date(value)


def test_addresses_typed_differently_share_a_key() -> None:
    assert norm.address("永康市 东城街道　白塔村１２号") == "永康市东城街道白塔村12号"
    assert norm.address_key("白塔村12号—3") == norm.address_key("白塔村 １２号-3")
    assert norm.address_key("白塔村12号") != norm.address_key("白塔村13号")
    assert norm.phone("１３８ ００００ ００００") == "13800000000"
    assert norm.is_total_row([None, "合计：", 6])
    assert not norm.is_total_row(["1", "合计店"])


# ---------------------------------------------------------------- the messy ledger


def test_it_finds_a_two_row_header_under_a_title_row(world: Any, tmp_path: Path) -> None:
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=True))
    header = Header.from_json(job.header)
    assert (header.first_row, header.last_row) == (2, 3)
    assert header.mapping == {1: "name", 2: "address", 3: "party_name", 4: "phone",
                              5: "kind", 6: "village"}


def test_the_dry_run_names_exactly_the_broken_row_and_writes_nothing(world: Any,
                                                                      tmp_path: Path) -> None:
    before = counts()
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=True))
    job = services.check_import(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.CHECKED
    # Rows 4, 5, 7, 8, 9, 10: the title, header, blank and total rows are not data.
    assert job.total_rows == 6
    assert set(job.problems.values_list("row", flat=True)) == {BROKEN_ROW}
    messages = " ".join(job.problems.values_list("message", flat=True))
    assert "12345" in messages  # the phone that is not one
    assert job.error_rows == 1
    duplicates = {d.row: d for d in job.duplicates.all()}
    assert duplicates[8].same_as_row == 4
    assert duplicates[10].place_id == world.places["baita_rental"].pk
    assert set(duplicates) == {8, 10}
    assert counts() == before


def test_the_commit_writes_nothing_while_a_row_is_broken(world: Any, tmp_path: Path) -> None:
    before = counts()
    audit_before = AuditEntry.objects.count()
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=True))
    job = services.check_import(job, actor=world.users["east_officer"])
    with pytest.raises(ValidationFailed):
        services.commit_import(job, actor=world.users["east_officer"])
    assert counts() == before
    assert not AuditEntry.objects.filter(action="place.import").exists()
    # Only the upload itself is on the record.
    assert AuditEntry.objects.count() == audit_before + 1


def test_the_fixed_ledger_imports_everything(world: Any, tmp_path: Path) -> None:
    places, parties, _hazards = counts()
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    job = services.check_import(job, actor=world.users["east_officer"])
    assert job.error_rows == 0
    job = services.commit_import(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.DONE
    # Rows 4, 5, 7 and 9 are new; 8 repeats row 4 and 10 an existing place: skipped.
    assert (job.created_count, job.skipped_count, job.merged_count) == (4, 2, 0)
    assert Place.objects.count() == places + 4
    assert Party.objects.count() == parties + 4
    first = Place.objects.get(name="白塔村出租房甲")
    assert first.address == "白塔村12号"
    assert first.area == world.villages["baita"]
    assert first.kind == "rental_house"
    assert first.party is not None and first.party.phone == "13800000011"
    market = Place.objects.get(name="五金城市场")
    assert market.area == world.villages["wujin"]
    assert market.party is not None and market.party.kind == "organisation"
    assert market.party.phone == "0579-87123456"
    assert Place.objects.get(name="白塔五金店").address == "白塔村15号"
    entry = AuditEntry.objects.get(action="place.import")
    assert sorted(entry.data["rows"]) == [4, 5, 7, 9]
    assert AuditEntry.objects.filter(action="import.commit", object_id=str(job.pk)).exists()


def test_duplicate_decisions_merge_and_create_anyway(world: Any, tmp_path: Path) -> None:
    existing = world.places["baita_rental"]
    existing.party = None
    existing.latitude = existing.longitude = None
    existing.save()
    user = world.users["east_officer"]
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    job = services.check_import(job, actor=user)
    services.decide_duplicate(job, actor=user, row=8, decision=DuplicateDecision.CREATE)
    services.decide_duplicate(job, actor=user, row=10, decision=DuplicateDecision.MERGE)
    places = Place.objects.count()
    job = services.commit_import(job, actor=user)
    assert (job.created_count, job.merged_count, job.skipped_count) == (5, 1, 0)
    assert Place.objects.count() == places + 5
    # Row 10 names no party: the merge fills nothing and overwrites nothing.
    existing.refresh_from_db()
    assert existing.party is None


def test_a_hazard_ledger_imports_with_three_date_forms(world: Any, tmp_path: Path) -> None:
    user = world.users["east_officer"]
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False),
                kind=ImportKind.HAZARDS, default_decision=DuplicateDecision.MERGE)
    job = services.check_import(job, actor=user)
    assert job.error_rows == 0, list(job.problems.values_list("row", "message"))
    hazards = Hazard.objects.count()
    services.commit_import(job, actor=user)
    assert Hazard.objects.count() == hazards + 6
    deadlines = {h.description: h.deadline for h in Hazard.objects.filter(reported_by=user)}
    assert deadlines["疏散通道堵塞"] == dt.date(2026, 9, 30)
    assert deadlines["灭火器过期"] == dt.date(2026, 10, 8)
    assert deadlines["消防通道占用"] == dt.date(2026, 10, 15)
    assert deadlines["私拉乱接电线"] == dt.date(2026, 10, 5)  # an Excel serial date
    # Row 8 repeats row 4's place: its hazard lands on that place.
    charging = Hazard.objects.get(description="电动车楼道充电")
    assert charging.place.name == "白塔村出租房甲"
    assert Hazard.objects.get(description="私拉乱接电线").place == world.places["baita_rental"]


def test_a_past_deadline_in_a_hazard_ledger_is_a_problem(world: Any, tmp_path: Path) -> None:
    rows = [["场所名称", "地址", "场所类型", "所属村", "存在问题", "限改日期"],
            ["甲店", "白塔村1号", "店面", "白塔村", "灭火器过期", "2026-09-01"]]
    job = start(world, write_csv(tmp_path / "h.csv", rows, encoding="utf-8"),
                kind=ImportKind.HAZARDS)
    job = services.check_import(job, actor=world.users["east_officer"])
    assert list(job.problems.values_list("row", flat=True)) == [2]


def test_the_error_report_is_the_sheet_with_an_error_column(world: Any, tmp_path: Path) -> None:
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=True))
    job = services.check_import(job, actor=world.users["east_officer"])
    out = BytesIO()
    assert services.write_error_report(job, out) == "xlsx"
    out.seek(0)
    sheet = load_workbook(out, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    width = len(rows[2])
    assert rows[0][0] == "东城街道出租房消防安全台账"
    errors = {n: row[width - 1] for n, row in enumerate(rows, start=1) if n > 3}
    assert errors[BROKEN_ROW] and "12345" in errors[BROKEN_ROW]
    assert all(not v for n, v in errors.items() if n != BROKEN_ROW)


# ---------------------------------------------------------------- CSV variants


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_the_usual_encodings(world: Any, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "places.csv", plain_rows(30), encoding=encoding)
    job = start(world, path)
    job = services.check_import(job, actor=world.users["east_officer"])
    assert job.error_rows == 0 and job.total_rows == 30
    services.commit_import(job, actor=world.users["east_officer"])
    assert Place.objects.filter(name__startswith="出租房").count() == 30
    assert Place.objects.get(name="出租房7").party.name == "房东7"


def test_a_big_file_is_read_in_batches(world: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "BATCH", 7)
    path = write_csv(tmp_path / "places.csv", plain_rows(40), encoding="gb18030")
    seen: list[int] = []
    job = start(world, path)
    job = services.check_import(job, actor=world.users["east_officer"], on_progress=seen.append)
    job = services.commit_import(job, actor=world.users["east_officer"])
    assert seen == [7, 14, 21, 28, 35, 40]
    assert job.created_count == 40
    assert AuditEntry.objects.filter(action="place.import").count() == 6


# ---------------------------------------------------------------- scope


def test_it_refuses_another_towns_area(world: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", plain_rows(2), encoding="utf-8")
    with pytest.raises(NotFound):
        start(world, path, user="west_officer", area="east")


def test_rows_outside_the_jobs_area_are_problems(world: Any, tmp_path: Path) -> None:
    rows = [["场所名称", "地址", "类别", "所属镇街", "村(社区)"],
            ["甲", "楼塘村1号", "出租房", "西城街道", "楼塘村"]]
    job = start(world, write_csv(tmp_path / "p.csv", rows, encoding="utf-8"))
    job = services.check_import(job, actor=world.users["east_officer"])
    assert job.error_rows == 1


def test_a_party_or_citizen_cannot_import(world: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", plain_rows(2), encoding="utf-8")
    for name in ("landlord", "citizen", "system_admin"):
        with pytest.raises((NotFound, PermissionDenied)):
            start(world, path, user=name)


def test_someone_elses_job_is_not_found(world: Any, tmp_path: Path) -> None:
    job = start(world, write_csv(tmp_path / "p.csv", plain_rows(2), encoding="utf-8"))
    with pytest.raises(NotFound):
        services.check_import(job, actor=world.users["east_officer_2"])


# ---------------------------------------------------------------- tenants


def test_a_tenant_register_imports_into_existing_rental_houses(world: Any,
                                                               tmp_path: Path) -> None:
    from bihuan.tenants.models import Tenant
    from bihuan.tenants.tests.helpers import id_number, with_wrong_check_digit

    address = world.places["baita_rental"].address
    rows = [["流动人口登记表"],
            ["姓名", "身份证号码", "手机", "房间号", "入住日期", "详细地址"],
            ["张三", id_number(1), "13912345678", "101", "2026.3.1", address],
            ["李四", with_wrong_check_digit(id_number(2)), "", "102", "2026年4月2日", address],
            ["王五", id_number(3), "", "103", "2026/5/3", "白塔村999号"]]
    user = world.users["baita_cadre"]
    path = write_csv(tmp_path / "tenants.csv", rows, encoding="gb18030")
    with path.open("rb") as handle:
        job = services.start_import(actor=user, kind=ImportKind.TENANTS,
                                    file=File(handle, name=path.name), filename=path.name,
                                    area=world.villages["baita"])
    job = services.check_import(job, actor=user)
    assert set(job.problems.values_list("row", flat=True)) == {4, 5}
    # Problems name what is wrong, never the ID number itself.
    assert not any(id_number(2)[:14] in m for m in job.problems.values_list("message",
                                                                            flat=True))
    with pytest.raises(ValidationFailed):
        services.commit_import(job, actor=user)
    assert Tenant.objects.count() == 0
    rows[3][1] = id_number(2)
    rows[4][5] = address
    path = write_csv(tmp_path / "tenants2.csv", rows, encoding="utf-8-sig")
    with path.open("rb") as handle:
        job = services.start_import(actor=user, kind=ImportKind.TENANTS,
                                    file=File(handle, name=path.name), filename=path.name,
                                    area=world.villages["baita"])
    job = services.check_import(job, actor=user)
    assert job.error_rows == 0
    job = services.commit_import(job, actor=user)
    assert Tenant.objects.filter(place=world.places["baita_rental"]).count() == 3
    assert {t.moved_in_on.isoformat() for t in Tenant.objects.all()} == {
        "2026-03-01", "2026-04-02", "2026-05-03"}
    # The plain file of ID numbers is not kept once the register holds them.
    job.refresh_from_db()
    assert not job.file


# ---------------------------------------------------------------- one pass (command line)


def test_one_pass_writes_nothing_while_a_row_is_broken(world: Any, tmp_path: Path) -> None:
    before = counts()
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=True))
    job = services.import_at_once(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.CHECKED
    assert set(job.problems.values_list("row", flat=True)) == {BROKEN_ROW}
    assert counts() == before
    assert not AuditEntry.objects.filter(action="place.import").exists()


def test_one_pass_imports_the_fixed_ledger_like_two_passes(world: Any, tmp_path: Path) -> None:
    places = Place.objects.count()
    job = start(world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    job = services.import_at_once(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.created_count, job.skipped_count) == (6, 4, 2)
    assert Place.objects.count() == places + 4
    assert set(job.duplicates.values_list("row", flat=True)) == {8, 10}


def test_the_command_line_dry_run_and_import(world: Any, tmp_path: Path, capsys: Any) -> None:
    from django.core.management import call_command

    path = write_messy_xlsx(tmp_path / "messy.xlsx", broken=True)
    with pytest.raises(SystemExit):
        call_command("import", "places", str(path), "--user", "east_officer",
                     "--area", world.towns["east"].code)
    assert f"row {BROKEN_ROW}:" in capsys.readouterr().out
    path = write_messy_xlsx(tmp_path / "fixed.xlsx", broken=False)
    places = Place.objects.count()
    call_command("import", "places", str(path), "--user", "east_officer",
                 "--area", world.towns["east"].code, "--dry-run")
    assert Place.objects.count() == places
    call_command("import", "places", str(path), "--user", "east_officer",
                 "--area", world.towns["east"].code)
    assert Place.objects.count() == places + 4
    assert "Imported: 4 created" in capsys.readouterr().out
