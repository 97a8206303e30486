"""The inbox shows what the campaign's draws assigned to a person, until it is done."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bihuan.campaigns import services
from bihuan.campaigns.tests.helpers import campaign, teams
from bihuan.campaigns.tests.test_services import _look_back_item, _patrol
from bihuan.testing import future, tiny_jpeg

pytestmark = pytest.mark.django_db


def _section(client, user, key):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return next((s for s in response.context["sections"] if s.key == key), None), response


def test_the_teams_cross_places_wait_in_the_inbox_until_inspected(client, world):
    c = campaign(world)
    t = teams(world)
    draw = services.perform_draw(
        services.announce_cross_draw(actor=world.users["commander"], campaign=c, per_town=2,
                                     public_seed="42"),
        actor=world.users["commander"])
    mine = list(draw.assignments.filter(team=t["west"]).order_by("place_id"))
    officer = world.users["west_officer"]
    section, response = _section(client, officer, "cross")
    assert section is not None and section.count == len(mine)
    place = mine[0].place
    assert reverse("inspections:start", args=[place.pk]) in response.content.decode()
    item = next(i for i in world.checklist_for(place).items.all() if i.severity == "general")
    posted = client.post(reverse("inspections:quick_hazard", args=[place.pk]), {
        "client_key": str(uuid.uuid4()), "item": item.pk,
        "photo": SimpleUploadedFile("p.jpg", tiny_jpeg(3), content_type="image/jpeg"),
    })
    assert posted.status_code == 302
    section, _response = _section(client, officer, "cross")
    assert (section.count if section else 0) == len(mine) - 1
    # Another team's member is not shown the west team's places.
    other, _response = _section(client, world.users["east_officer"], "cross")
    assert other is None or place.pk not in {a.place_id for a in other.items}


def test_a_look_back_waits_for_its_assignee_and_leaves_when_recorded(client, world):
    _c, item = _look_back_item(world)
    section, response = _section(client, item.assignee, "my_look_backs")
    assert section is not None and [i.pk for i in section.items] == [item.pk]
    assert reverse("campaigns:look_back", args=[item.pk]) in response.content.decode()
    others = [u for name, u in world.users.items()
              if name in ("east_officer", "west_officer") and u != item.assignee]
    for other in others:
        assert _section(client, other, "my_look_backs")[0] is None
    services.record_look_back(item, actor=item.assignee, passed=False, reason="又堵了",
                              deadline=future(7))
    assert _section(client, item.assignee, "my_look_backs")[0] is None


def test_a_duty_check_waits_for_its_checker(client, world):
    c = campaign(world)
    _patrol(world, "baita_rental")
    draw = services.perform_draw(
        services.announce_duty_draw(actor=world.users["commander"], campaign=c, grids=1,
                                    per_grid=1),
        actor=world.users["commander"])
    item = draw.duty_checks.get()
    section, response = _section(client, item.checker, "my_duty_checks")
    assert section is not None and [i.pk for i in section.items] == [item.pk]
    assert reverse("campaigns:duty_check", args=[item.pk]) in response.content.decode()
    services.record_duty_check(item, actor=item.checker, confirmed=True, note="")
    assert _section(client, item.checker, "my_duty_checks")[0] is None
