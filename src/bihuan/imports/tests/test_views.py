"""The import pages as an official uses them."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from bihuan.imports.models import ImportJob
from bihuan.imports.tests.ledgers import BROKEN_ROW, write_messy_xlsx
from bihuan.places.models import Place


def upload(client: Any, world: Any, path: Path) -> Any:
    return client.post(reverse("imports:list"), {
        "kind": "places", "area": world.towns["east"].pk, "place_kind": "",
        "default_decision": "skip",
        "file": SimpleUploadedFile(path.name, path.read_bytes()),
    })


def test_an_official_uploads_checks_fixes_nothing_and_sees_the_broken_row(
        client: Any, world: Any, tmp_path: Path) -> None:
    client.force_login(world.users["east_officer"])
    response = upload(client, world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=True))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("imports:detail",
                                                                    args=[job.pk])
    page = client.get(response.url)
    assert page.status_code == 200 and "import-mapping" in page.content.decode()
    client.post(reverse("imports:check", args=[job.pk]))
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'id="import-problems"' in page and "import-commit" not in page
    places = Place.objects.count()
    client.post(reverse("imports:commit", args=[job.pk]))
    assert Place.objects.count() == places
    report = client.get(reverse("imports:errors", args=[job.pk]))
    sheet = load_workbook(BytesIO(b"".join(report.streaming_content)),
                          read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[BROKEN_ROW - 1][-1]


def test_an_official_imports_the_fixed_ledger(client: Any, world: Any, tmp_path: Path) -> None:
    client.force_login(world.users["east_officer"])
    upload(client, world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    job = ImportJob.objects.get()
    client.post(reverse("imports:check", args=[job.pk]))
    client.post(reverse("imports:decide", args=[job.pk]), {"row": 8, "decision": "create"})
    places = Place.objects.count()
    client.post(reverse("imports:commit", args=[job.pk]))
    assert Place.objects.count() == places + 5
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'id="job-outcome"' in page


def test_the_column_mapping_can_be_corrected(client: Any, world: Any, tmp_path: Path) -> None:
    client.force_login(world.users["east_officer"])
    upload(client, world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    job = ImportJob.objects.get()
    # Ignore the phone column: the broken-phone check can no longer fire.
    client.post(reverse("imports:mapping", args=[job.pk]), {
        "col_1": "name", "col_2": "address", "col_3": "party_name", "col_4": "",
        "col_5": "kind", "col_6": "village"})
    job.refresh_from_db()
    assert "phone" not in job.header["mapping"].values()


def test_others_cannot_see_a_job(client: Any, world: Any, tmp_path: Path) -> None:
    client.force_login(world.users["east_officer"])
    upload(client, world, write_messy_xlsx(tmp_path / "messy.xlsx", broken=False))
    job = ImportJob.objects.get()
    for name in ("east_officer_2", "commander", "landlord", "citizen"):
        client.force_login(world.users[name])
        assert client.get(reverse("imports:detail", args=[job.pk])).status_code == 404
        assert client.post(reverse("imports:commit", args=[job.pk])).status_code == 404
    client.force_login(world.users["landlord"])
    assert client.get(reverse("imports:list")).status_code == 404
