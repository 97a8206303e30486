"""Reading workbooks as Excel saves them: shared strings, read lazily for the header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files import File

from bihuan.core.errors import ValidationFailed
from bihuan.imports import services
from bihuan.imports.readers import open_rows
from bihuan.imports.tests.ledgers import plain_rows, write_shared_strings_xlsx
from bihuan.places.models import Place

ROWS: list[list[Any]] = [["白塔村出租房台账"], *plain_rows(30)]


def first_rows(path: Path, *, head: bool, n: int = 4) -> list[tuple[int, list[Any]]]:
    with open_rows(path, "xlsx", head=head) as stream:
        return [row for _, row in zip(range(n), stream, strict=False)]


def test_the_head_of_a_workbook_reads_as_the_whole_does(tmp_path: Path) -> None:
    path = write_shared_strings_xlsx(tmp_path / "ledger.xlsx", ROWS)
    assert first_rows(path, head=True) == first_rows(path, head=False)
    assert first_rows(path, head=True)[2] == (3, ["出租房0", "白塔村0号", "房东0",
                                                  "13800000000", "出租房", "白塔村"])
    # Read to the end, the lazy table serves every row.
    assert first_rows(path, head=True, n=100) == first_rows(path, head=False, n=100)
    assert len(first_rows(path, head=True, n=100)) == len(ROWS)


def test_the_head_reads_only_the_strings_it_needs(tmp_path: Path) -> None:
    # The table is cut off after the strings of these rows: reading the head does not
    # get that far, reading everything does (and says the file is unreadable).
    path = write_shared_strings_xlsx(tmp_path / "cut.xlsx", ROWS, broken_tail=True)
    assert first_rows(path, head=True, n=5)[4][1][0] == "出租房2"
    with pytest.raises(ValidationFailed):
        first_rows(path, head=False)


def test_a_workbook_with_shared_strings_imports(world: Any, tmp_path: Path) -> None:
    path = write_shared_strings_xlsx(tmp_path / "ledger.xlsx", ROWS)
    user = world.users["east_officer"]
    with path.open("rb") as handle:
        job = services.start_import(actor=user, kind="places",
                                    file=File(handle, name=path.name), filename=path.name,
                                    area=world.towns["east"])
    job = services.import_at_once(job, actor=user)
    assert (job.error_rows, job.created_count) == (0, 30)
    assert Place.objects.get(name="出租房29").address == "白塔村29号"
