"""A cross-inspection team works at its assigned places in another town, on the field pages.

The team's scope is its home town; the running draw's assignment is the only way
into the other town, and only into the assigned places.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bihuan.campaigns import services
from bihuan.campaigns.tests.helpers import END, campaign, teams
from bihuan.core import clock
from bihuan.core.errors import NotFound, PermissionDenied
from bihuan.hazards.choices import HazardState
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.inspections import services as inspections
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.models import Inspection
from bihuan.places.models import Place
from bihuan.testing import tiny_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(world):
    """The west team's draw: the places of the east town assigned to it."""
    c = campaign(world)
    t = teams(world)
    draw = services.announce_cross_draw(actor=world.users["commander"], campaign=c,
                                        per_town=2, public_seed="2026-09-14 福彩3D 123")
    draw = services.perform_draw(draw, actor=world.users["commander"])
    places = [a.place for a in draw.assignments.filter(team=t["west"]).select_related("place")]
    assert places and all(p.area.path.startswith(world.towns["east"].path) for p in places)
    return {"campaign": c, "team": t["west"], "places": places, "draw": draw}


def _general_item(world, place):
    return next(i for i in world.checklist_for(place).items.order_by("order")
                if i.severity == "general")


def test_a_team_member_records_a_cross_inspection_at_an_assigned_place(client, world, assigned):
    officer = world.users["west_officer"]
    place = assigned["places"][0]
    client.force_login(officer)
    start = client.get(reverse("inspections:start", args=[place.pk]))
    assert start.status_code == 200
    item = _general_item(world, place)
    response = client.post(reverse("inspections:quick_hazard", args=[place.pk]), {
        "client_key": str(uuid.uuid4()), "item": item.pk,
        "photo": SimpleUploadedFile("p.jpg", tiny_jpeg(4), content_type="image/jpeg"),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    inspection = Inspection.objects.get()
    assert inspection.kind == InspectionKind.CROSS
    assert inspection.team == assigned["team"]
    assert inspection.campaign == assigned["campaign"]
    assert inspection.inspector == officer
    hazard = Hazard.objects.get()
    # The hazard belongs to the town where the place is: the east town rectifies it.
    assert hazard.area_id == place.area_id and hazard.state == HazardState.RECTIFYING
    assert HazardEvent.objects.get(hazard=hazard).actor == officer
    # The member reads their own notice ...
    notice = client.get(reverse("inspections:notice", args=[inspection.pk]))
    assert notice.status_code == 200
    assert place.name in notice.content.decode()
    # ... and the cross-inspection counts for the team.
    progress, done = services.cross_progress(assigned["draw"])
    assert done[place.pk] == inspection
    assert next(p for p in progress if p.team == assigned["team"]).done == 1


def test_the_assignment_opens_only_the_assigned_places_and_nothing_else(client, world,
                                                                         assigned):
    officer = world.users["west_officer"]
    client.force_login(officer)
    others = Place.objects.filter(area__path__startswith=world.towns["east"].path).exclude(
        pk__in=[p.pk for p in assigned["places"]])
    assert others.exists()
    for place in others:
        assert client.get(reverse("inspections:start", args=[place.pk])).status_code == 404
    # The place's own page, the hazard list and the registry stay the east town's.
    place = assigned["places"][0]
    assert not Place.objects.visible_to(officer).filter(pk=place.pk).exists()
    with pytest.raises(NotFound):
        inspections.submit_inspection(
            actor=officer, place=others[0], kind=InspectionKind.CROSS,
            checklist=world.checklist_for(others[0]), results={})
    # A member of the east team (the town's own) has no cross grant over its own town.
    assert services.cross_assignment_for(world.users["east_officer"], place.pk) is None


def test_through_the_assignment_only_a_cross_inspection_may_be_recorded(world, assigned):
    place = assigned["places"][0]
    before = Inspection.objects.count()
    with pytest.raises(PermissionDenied):
        inspections.submit_inspection(
            actor=world.users["west_officer"], place=place, kind=InspectionKind.GRID_PATROL,
            checklist=world.checklist_for(place), results={})
    assert Inspection.objects.count() == before


def test_the_assignment_ends_with_the_campaign(client, world, assigned):
    place = assigned["places"][0]
    client.force_login(world.users["west_officer"])
    assert client.get(reverse("inspections:start", args=[place.pk])).status_code == 200
    with clock.frozen_at(dt.datetime.combine(END + dt.timedelta(days=1), dt.time(10),
                                             tzinfo=clock.now().tzinfo)):
        assert client.get(reverse("inspections:start", args=[place.pk])).status_code == 404
