"""The command dashboard in a browser: the city, then a town, then a village.

The commander opens the dashboard from the navigation, reads the tiles, the
trend chart, the map (Leaflet served by the site itself, no tile source: the
area outlines and the hazards only) and the ranking, and drills down two
levels by the ranking table's links. A town officer of the other town gets
"not found" for a town that is not theirs. Shots at 1280 px (and 360 px).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)


def _world():
    from bihuan.hazards import services
    from bihuan.testing import before_photo, build_world, future

    world = build_world()
    u, p = world.users, world.places

    def register(place: str, actor: str, index: int = 0, **kwargs):
        items = [i for i in world.checklist_for(p[place]).items.all() if i.severity == "general"]
        return services.register_hazard(actor=u[actor], place=p[place], item=items[index],
                                        description="", evidence=[before_photo(index)],
                                        **kwargs)

    register("baita_rental", "baita_grid_worker", deadline=future(2))
    register("baita_shop", "baita_grid_worker", 1)
    register("wujin_market", "east_officer", 2)
    register("loutang_hotel", "loutang_grid_worker")
    return world


def test_the_commander_drills_down_from_the_city_to_a_village(session_factory):
    world = _world()
    password = set_password(world.users["commander"])
    set_password(world.users["west_officer"], password)

    s = session_factory(DESKTOP)
    s.login("commander", password)
    s.go("/")
    s.tap("nav a[href='/dashboard/']")
    s.page.wait_for_load_state()
    assert s.page.locator("#metric-tiles [data-figure=hazards_found] .tile-value"
                          ).inner_text() == "4"
    assert s.page.locator(".trend-chart").count() == 1
    # Leaflet (from the site's own static files) replaced the SVG fallback.
    s.page.wait_for_selector("#hazard-map.leaflet-container")
    s.page.wait_for_selector("#hazard-map path.leaflet-interactive")
    assert s.page.locator("#ranking-table tbody tr").count() == 2
    assert s.page.locator("style").count() == 0
    assert s.page.locator("script:not([src])").count() == 0
    s.shot("dashboard-city")

    # Level one: the town, through the ranking table.
    east = world.towns["east"]
    s.tap(f"#ranking-table a[href^='/dashboard/{east.code}/']")
    s.page.wait_for_load_state()
    assert s.page.locator("#metric-tiles [data-figure=hazards_found] .tile-value"
                          ).inner_text() == "3"
    assert s.page.locator(".breadcrumbs a").count() == 1
    s.shot("dashboard-town")

    # Level two: the village.
    baita = world.villages["baita"]
    s.tap(f"#ranking-table a[href^='/dashboard/{baita.code}/']")
    s.page.wait_for_load_state()
    assert s.page.locator("#metric-tiles [data-figure=hazards_found] .tile-value"
                          ).inner_text() == "2"
    assert s.page.locator(".breadcrumbs a").count() == 2
    s.page.wait_for_selector("#hazard-map.leaflet-container")
    s.shot("dashboard-village")

    phone = session_factory(PHONE)
    phone.login("commander", password)
    phone.go(f"/dashboard/{baita.code}/")
    phone.shot("dashboard-village")

    other = session_factory(DESKTOP)
    other.login("west_officer", password)
    response = other.go(f"/dashboard/{east.code}/")
    assert response.status == 404
    # Chromium reports the 404 document itself as a failed resource; nothing else may.
    other.console_errors[:] = [e for e in other.console_errors if "404" not in e]
