"""A draw's page shows a non-manager only the items in its own scope (or its own).

A grid worker sees a town's draw (its area contains theirs), but the look-back items
and duty checks of the other grids name hazards, places and inspections it may not
see: they are left out, as the cross-inspection assignments are.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from bihuan.campaigns import draws
from bihuan.campaigns.models import Draw, DutyCheckItem, LookBackItem
from bihuan.campaigns.tests.helpers import campaign
from bihuan.core import clock
from bihuan.hazards import services as hazard_services
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.models import Inspection
from bihuan.testing import future

pytestmark = pytest.mark.django_db


def _draw(world: Any, kind: str) -> Draw:
    town = campaign(world, area=world.towns["east"], code=f"EAST-{kind}")
    # Written directly, items and all: which items a draw yields is campaigns/tests'
    # business; this is about who sees them.
    inputs: dict[str, Any] = {"areas": []} if kind == "look_back" else {"grids": []}
    params = {"share": 10} if kind == "look_back" else {"grids": 1, "per_grid": 1, "days": 30}
    seed = draws.effective_seed("", "0" * 16)
    return Draw.objects.create(
        campaign=town, kind=kind, area=world.towns["east"], nonce="0" * 16, seed=seed,
        params=params, inputs=inputs, inputs_hash=draws.digest(inputs),
        announced_by=world.users["east_officer"], announced_at=clock.now(), status="drawn",
        result_hash=draws.digest(draws.ALGORITHMS[kind](seed, params, inputs)))


def _page(world: Any, persona: str, draw: Draw) -> str:
    client = Client()
    client.force_login(world.users[persona])
    response = client.get(reverse("campaigns:draw", args=[draw.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_look_back_items_outside_a_grid_workers_scope_are_not_shown(world: Any) -> None:
    draw = _draw(world, "look_back")
    hazards = {}
    for key in ("baita_rental", "baita2_workshop"):
        hazards[key] = hazard_services.register_hazard(
            actor=world.users["east_officer"], place=world.places[key],
            description=f"{key} 堆放杂物", requirement="清理", deadline=future(5))
        LookBackItem.objects.create(draw=draw, hazard=hazards[key], tier=1,
                                    assignee=world.users["east_officer"])
    grid_page = _page(world, "baita_grid_worker", draw)
    assert hazards["baita_rental"].number in grid_page
    assert hazards["baita2_workshop"].number not in grid_page
    assert "baita2_workshop" not in grid_page
    # The town officer manages the draw: every item.
    town_page = _page(world, "east_officer", draw)
    assert hazards["baita_rental"].number in town_page
    assert hazards["baita2_workshop"].number in town_page


def test_duty_checks_outside_a_grid_workers_scope_are_not_shown(world: Any) -> None:
    draw = _draw(world, "duty")
    checklist = world.checklist_for(world.places["baita_rental"])
    for key, grid in (("baita_rental", "baita-1"), ("baita2_workshop", "baita-2")):
        place = world.places[key]
        inspection = Inspection.objects.create(
            place=place, kind=InspectionKind.GRID_PATROL, checklist=checklist,
            inspector=world.users["baita_cadre"], started_at=clock.now(),
            status="submitted")
        DutyCheckItem.objects.create(draw=draw, grid=world.grids[grid], inspection=inspection,
                                     checker=world.users["east_officer"])
    grid_page = _page(world, "baita_grid_worker", draw)
    assert "baita_rental" in grid_page
    assert "baita2_workshop" not in grid_page
    assert "baita2_workshop" in _page(world, "east_officer", draw)
