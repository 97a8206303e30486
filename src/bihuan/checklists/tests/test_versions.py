"""Checklist versions: a new version never breaks past inspections."""

from __future__ import annotations

import dataclasses

import pytest

from bihuan.checklists.builtin import load_builtin_definitions
from bihuan.checklists.choices import ChecklistStatus
from bihuan.checklists.models import Checklist
from bihuan.checklists.services import load_builtin, publish_definition
from bihuan.core.errors import ValidationFailed
from bihuan.hazards import services as hazard_services
from bihuan.hazards.models import Hazard
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.services import Finding, submit_inspection

pytestmark = pytest.mark.django_db


def _rental_definition(version: int):
    definition = next(d for d in load_builtin_definitions() if d.code == "FS-RH")
    items = tuple(
        dataclasses.replace(item, text=item.text + "（修订）") for item in definition.items[:5]
    )
    return dataclasses.replace(definition, version=version, items=items)


def test_loading_twice_publishes_nothing_new(world):
    count = Checklist.objects.count()
    assert load_builtin() == []
    assert Checklist.objects.count() == count
    assert count >= 8


def test_a_new_version_retires_the_old_and_keeps_past_inspections_intact(world):
    place = world.places["baita_rental"]
    old = world.checklist_for(place)
    old_item = old.items.order_by("order").first()
    inspection = submit_inspection(
        actor=world.users["baita_grid_worker"], place=place, kind=InspectionKind.GRID_PATROL,
        checklist=old, results={old_item.code: "fail"},
        findings=[Finding(item_code=old_item.code)],
    )
    new = publish_definition(_rental_definition(old.version + 1))
    old.refresh_from_db()
    assert old.status == ChecklistStatus.RETIRED
    assert new.status == ChecklistStatus.ACTIVE
    assert new.items.count() == 5
    # The past inspection still points at the exact text it was made with.
    result = inspection.results.get()
    assert result.item.checklist_id == old.pk
    assert "（修订）" not in result.item.text
    assert Hazard.objects.get(inspection=inspection).checklist_item_id == old_item.pk


def test_a_version_number_that_is_not_higher_is_refused(world):
    current = Checklist.objects.get(code="FS-RH", status=ChecklistStatus.ACTIVE)
    with pytest.raises(ValidationFailed):
        publish_definition(_rental_definition(current.version))
    assert Checklist.objects.filter(code="FS-RH").count() == 1


def test_a_hazard_code_from_another_checklist_version_is_refused(world):
    place = world.places["baita_rental"]
    old = world.checklist_for(place)
    new = publish_definition(_rental_definition(old.version + 1))
    new_item = new.items.order_by("order").first()
    # An inspection on the new version cannot register a hazard from the old one, and v.v.
    old_inspection_item = old.items.order_by("order").first()
    inspection = submit_inspection(
        actor=world.users["baita_grid_worker"], place=place, kind=InspectionKind.GRID_PATROL,
        checklist=new, results={new_item.code: "pass"},
    )
    before = Hazard.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        hazard_services.register_hazard(
            actor=world.users["baita_grid_worker"], place=place, item=old_inspection_item,
            inspection=inspection, description="",
        )
    assert old_inspection_item.code in str(excinfo.value)
    assert Hazard.objects.count() == before


def test_an_inspection_naming_an_unknown_code_writes_nothing(world):
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    from bihuan.inspections.models import Inspection

    with pytest.raises(ValidationFailed):
        submit_inspection(
            actor=world.users["baita_grid_worker"], place=place,
            kind=InspectionKind.GRID_PATROL, checklist=checklist, results={"ZZ-99": "fail"},
        )
    assert not Inspection.objects.exists()
