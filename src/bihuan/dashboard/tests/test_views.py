"""The dashboard pages: what each persona may open, and what the pages show."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from bihuan.core import clock
from bihuan.dashboard import metrics
from bihuan.dashboard.tests.test_metrics import _register
from bihuan.testing import future

pytestmark = pytest.mark.django_db


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def _tile(html: str, figure: str) -> str:
    match = re.search(rf'data-figure="{figure}">.*?<span class="tile-value">([^<]*)</span>',
                      html, re.S)
    assert match, figure
    return match.group(1).strip()


def test_the_commander_sees_the_city_and_drills_down_to_a_grid(client, world):
    _register(world, deadline=future(3))
    _register(world, place="loutang_rental", actor="loutang_grid_worker")
    commander = world.users["commander"]
    response = _get(client, commander, reverse("dashboard:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:area", args=[world.city.code])
    html = client.get(response["Location"]).content.decode()
    figures = metrics.figures(world.city, clock.today())
    assert _tile(html, "hazards_found") == str(figures.hazards_found) == "2"
    assert _tile(html, "open") == str(figures.open)
    assert "<svg" in html and 'id="ranking-table"' in html
    # No inline script or style (the CSP forbids them).
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert ' style="' not in html
    east = world.towns["east"]
    html = client.get(reverse("dashboard:area", args=[east.code])).content.decode()
    assert _tile(html, "hazards_found") == "1"
    assert f'href="{reverse("dashboard:area", args=[world.city.code])}' in html  # breadcrumb
    grid = world.grids["baita-1"]
    html = client.get(reverse("dashboard:area", args=[grid.code])).content.decode()
    assert _tile(html, "hazards_found") == "1"
    assert 'id="ranking-table"' not in html  # a grid has no children to rank


def test_a_town_officer_cannot_open_the_other_towns_dashboard(client, world):
    east_officer = world.users["east_officer"]
    west = world.towns["west"]
    assert _get(client, east_officer, reverse("dashboard:area", args=[west.code])
                ).status_code == 404
    assert client.get(reverse("dashboard:area", args=[world.city.code])).status_code == 404
    for name in ("map_json", "map_svg"):
        assert client.get(reverse(f"dashboard:{name}", args=[west.code])).status_code == 404
    assert client.get(reverse("dashboard:area", args=["no-such-area"])).status_code == 404
    assert client.get(reverse("dashboard:area", args=[world.towns["east"].code])
                      ).status_code == 200


@pytest.mark.parametrize("persona", ["fire_inspector", "landlord", "citizen", "system_admin",
                                     "nobody"])
def test_who_holds_no_area_role_has_no_dashboard(client, world, persona):
    response = _get(client, world.users[persona], reverse("dashboard:home"))
    assert response.status_code == 404
    assert client.get(reverse("dashboard:area", args=[world.city.code])).status_code == 404


def test_the_map_data_shows_only_hazards_the_user_may_see(client, world):
    _register(world, deadline=future(3))
    _register(world, place="loutang_rental", actor="loutang_grid_worker")
    data = _get(client, world.users["commander"],
                reverse("dashboard:map_json", args=[world.city.code])).json()
    assert len(data["points"]) == 2
    assert data["tiles"] is None  # no tile source configured: outlines and points only
    assert {o["code"] for o in data["outlines"]} == {t.code for t in world.towns.values()}
    data = _get(client, world.users["east_officer"],
                reverse("dashboard:map_json", args=[world.towns["east"].code])).json()
    assert len(data["points"]) == 1
    svg = client.get(reverse("dashboard:map_svg", args=[world.towns["east"].code]))
    assert svg["Content-Type"].startswith("image/svg+xml")
    assert svg.content.count(b"<circle") >= 1


def test_anonymous_users_are_sent_to_log_in(client, world):
    response = client.get(reverse("dashboard:area", args=[world.city.code]))
    assert response.status_code == 302
    assert "login" in response["Location"]
