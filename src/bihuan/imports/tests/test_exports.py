"""Exporting filtered lists: streamed, scoped, masked, safe against formula injection."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from bihuan.audit.models import AuditEntry
from bihuan.core import masking
from bihuan.core.exports import safe_cell
from bihuan.hazards import services as hazard_services
from bihuan.places.models import Place
from bihuan.testing import future


def read_csv(response: Any) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def read_xlsx(response: Any) -> list[list[Any]]:
    assert response.streaming
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"])
def test_formula_triggers_get_an_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("白塔村") == "白塔村"
    assert safe_cell(-5) == -5


def test_masks() -> None:
    assert masking.mask_phone("13812341234") == "138****1234"
    assert masking.mask_id_number("33078419900101123X") == "330784********123X"
    assert masking.mask_name("张三丰") == "张**"


def test_place_export_is_scoped_masked_streamed_and_audited(client: Any, world: Any) -> None:
    evil = world.places["baita_shop"]
    evil.name = '=HYPERLINK("http://evil.example","点我")'
    evil.save()
    client.force_login(world.users["east_officer"])
    response = client.get(reverse("places:search"), {"format": "csv"})
    assert response.status_code == 200
    rows = read_csv(response)
    names = {row[0] for row in rows[1:]}
    # Another town's places are absent.
    assert "loutang_rental" not in names and "loutang_hotel" not in names
    assert "baita_rental" in names
    assert "'=HYPERLINK(\"http://evil.example\",\"点我\")" in names
    phones = {row[7] for row in rows[1:]}
    assert "138****0001" in phones and "13800000001" not in phones
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.data["list"] == "places" and entry.data["rows"] == len(rows) - 1
    assert entry.actor == world.users["east_officer"]


def test_personal_data_is_unmasked_for_allowed_roles(client: Any, world: Any,
                                                     settings: Any) -> None:
    settings.BIHUAN_PERSONAL_DATA_ROLES = frozenset({"town_officer"})
    client.force_login(world.users["east_officer"])
    rows = read_xlsx(client.get(reverse("places:search"), {"format": "xlsx"}))
    assert "13800000001" in {row[7] for row in rows[1:]}
    client.force_login(world.users["baita_cadre"])
    rows = read_xlsx(client.get(reverse("places:search"), {"format": "xlsx"}))
    assert "13800000001" not in {row[7] for row in rows[1:]}


def test_hazard_export_uses_the_lists_filters_and_scope(client: Any, world: Any) -> None:
    officer = world.users["east_officer"]
    for key in ("baita_rental", "baita_shop"):
        hazard_services.register_hazard(actor=officer, place=world.places[key],
                                         description=f"=cmd {key}", requirement="整改",
                                         deadline=future())
    hazard_services.register_hazard(actor=world.users["west_officer"],
                                    place=world.places["loutang_rental"],
                                    description="楼塘", requirement="整改", deadline=future())
    client.force_login(officer)
    rows = read_xlsx(client.get(reverse("hazards:list"), {"format": "xlsx"}))
    descriptions = [row[6] for row in rows[1:]]
    assert sorted(descriptions) == ["'=cmd baita_rental", "'=cmd baita_shop"]
    rows = read_csv(client.get(reverse("hazards:list"),
                               {"format": "csv", "place_kind": "shop"}))
    assert [row[6] for row in rows[1:]] == ["'=cmd baita_shop"]
    entry = AuditEntry.objects.filter(action="export").latest("id")
    assert entry.data["filters"] == {"place_kind": ["shop"]} and entry.data["rows"] == 1


def test_the_list_page_offers_the_export(client: Any, world: Any) -> None:
    client.force_login(world.users["east_officer"])
    page = client.get(reverse("hazards:list"), {"severity": "general"}).content.decode()
    assert "severity=general&amp;format=xlsx" in page
    page = client.get(reverse("places:search")).content.decode()
    assert "format=csv" in page
    assert Place.objects.count() > 0
