"""Duplicates against existing places: by normalised address through the key index,
in chunks, for places however they were written; a constant number of queries a batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bihuan.imports import normalize as norm
from bihuan.imports import services
from bihuan.imports.choices import ImportStatus
from bihuan.imports.tests.ledgers import plain_rows, write_csv
from bihuan.places import models as place_models
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Place
from bihuan.places.services import register_place


def start(world: Any, path: Path) -> Any:
    with path.open("rb") as handle:
        return services.start_import(
            actor=world.users["east_officer"], kind="places",
            file=File(handle, name=path.name), filename=path.name, area=world.towns["east"])


def ledger(tmp_path: Path, rows: list[tuple[str, str]], name: str = "places.csv") -> Path:
    lines: list[list[Any]] = [["场所名称", "详细地址", "类别", "村(社区)"]]
    lines += [[place, address, "出租房", "白塔村"] for place, address in rows]
    return write_csv(tmp_path / name, lines, encoding="utf-8")


def existing(world: Any, name: str, address: str) -> Place:
    return Place.objects.create(name=name, kind=PlaceKind.RENTAL_HOUSE,
                                area=world.grids["baita-1"], address=address)


def duplicates(job: Any) -> dict[int, tuple[int | None, int | None]]:
    return {d.row: (d.place_id, d.same_as_row) for d in job.duplicates.all()}


def test_a_place_typed_differently_on_the_form_is_a_duplicate(world: Any,
                                                               tmp_path: Path) -> None:
    # Registered through the form: stored as typed, with spaces and full-width digits.
    typed = register_place(actor=world.users["east_officer"], area=world.grids["baita-1"],
                           name="白塔村出租房乙", kind=PlaceKind.RENTAL_HOUSE,
                           address="白塔村 １６号")
    assert typed.address == "白塔村 １６号"
    job = start(world, ledger(tmp_path, [("白塔村出租房乙", "白塔村16号"),
                                         ("白塔村出租房丁", "白塔村17号")]))
    job = services.check_import(job, actor=world.users["east_officer"])
    assert duplicates(job) == {2: (typed.pk, None)}


def test_a_place_written_without_a_key_is_found_by_its_address(world: Any,
                                                                tmp_path: Path) -> None:
    place = existing(world, "白塔村出租房戊", "白塔村18号")
    Place.objects.filter(pk=place.pk).update(address_key="")  # as COPY or raw SQL leave it
    job = start(world, ledger(tmp_path, [("白塔村出租房戊", "白塔村18号")]))
    job = services.import_at_once(job, actor=world.users["east_officer"])
    assert job.status == ImportStatus.DONE
    assert duplicates(job) == {2: (place.pk, None)}
    assert job.skipped_count == 1


@pytest.mark.parametrize("one_pass", [False, True])
def test_duplicates_are_found_across_lookup_chunks(world: Any, tmp_path: Path,
                                                   monkeypatch: Any, one_pass: bool) -> None:
    monkeypatch.setattr(place_models, "ADDRESS_LOOKUP_CHUNK", 2)
    monkeypatch.setattr(services, "BATCH", 4)
    places = [existing(world, f"旧出租房{n}", f"白塔村{100 + n}号") for n in range(5)]
    # Two equally similar places at one address: the older one is named.
    twin = existing(world, "旧出租房0", "白塔村 100 号")
    rows = [(f"旧出租房{n}", f"白塔村{100 + n}号") for n in range(5)]
    rows += [(f"新出租房{n}", f"白塔村{200 + n}号") for n in range(4)]
    rows += [("新出租房1", "白塔村201号")]  # an earlier row of the file, in another batch
    job = start(world, ledger(tmp_path, rows))
    user = world.users["east_officer"]
    job = services.import_at_once(job, actor=user) if one_pass else \
        services.check_import(job, actor=user)
    expected = {2 + n: (places[n].pk, None) for n in range(5)}
    expected[11] = (None, 8)
    assert duplicates(job) == expected
    assert twin.pk > places[0].pk


def test_a_batch_costs_the_same_queries_whatever_its_size(world: Any, tmp_path: Path,
                                                          monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "PROGRESS_EVERY_S", 10**6)  # progress: the first write only
    existing(world, "出租房3", "白塔村3号")  # one duplicate in each file

    def queries(rows: int, batch: int) -> int:
        monkeypatch.setattr(services, "BATCH", batch)
        path = write_csv(tmp_path / f"p{rows}.csv", plain_rows(rows, start=0),
                         encoding="utf-8")
        job = start(world, path)
        with CaptureQueriesContext(connection) as captured:
            job = services.import_at_once(job, actor=world.users["east_officer"])
        assert job.created_count == rows - 1
        # Rows of this file would be duplicates of the next one: remove them.
        Place.objects.exclude(name="出租房3").filter(name__startswith="出租房").delete()
        return len(captured.captured_queries)

    # A first import looks up what a process caches once (the id sequences' names).
    queries(10, 10)
    # Four batches either way: of 10 rows, then of 30.
    assert queries(40, 10) == queries(120, 30)


def test_the_key_of_a_stored_address_is_its_address_key() -> None:
    for typed in ("永康市 东城街道　白塔村１２号", "白塔村12号—3", "a（1）b", "e \u0301", "㍿x"):
        stored = norm.address(typed)
        assert norm.key_of_address(stored) == norm.address_key(stored)


@pytest.mark.parametrize("value", [" a\u3000b\t\nc ", "\xa0x\u2028y\x1c", "１２ ３", "", "  "])
def test_text_and_compact_fold_every_kind_of_white_space(value: str) -> None:
    import re
    import unicodedata

    spaces = re.compile(r"\s+")
    nfkc = unicodedata.normalize("NFKC", value)
    assert norm.text(value) == spaces.sub(" ", nfkc).strip()
    assert norm.compact(value) == spaces.sub("", nfkc)
