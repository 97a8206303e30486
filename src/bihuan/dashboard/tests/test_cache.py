"""The dashboard's cached pieces are keyed by the rows they come from: never a stale figure.

Each test primes the cache first (a request, or the metric function) and then
changes the records through the services, without clearing anything: a piece
reused under a stale key would show the old figure and fail the test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse

from bihuan.accounts.choices import Role
from bihuan.accounts.models import User
from bihuan.accounts.services import grant_role, revoke_role
from bihuan.core import clock
from bihuan.dashboard import metrics
from bihuan.dashboard.models import AreaDayStats, AreaStats, new_stamp
from bihuan.dashboard.summaries import place_counts
from bihuan.dashboard.tests.test_metrics import _advance, _clean, _register
from bihuan.hazards import services
from bihuan.testing import after_photo, future

pytestmark = pytest.mark.django_db


def _uncached(area, day):
    """Counters and places per child of ``area``, summed in Python from every row."""
    counters = metrics.counters_by_path(area, day)  # reads the rows, caches nothing
    by_child: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for path, cell in counters.items():
        child = path[len(area.path):].split("/", 1)[0]
        for name, value in cell.items():
            by_child[child][name] += value
    from bihuan.areas.models import Area

    paths = dict(Area.objects.values_list("pk", "path"))
    places: dict[str, int] = defaultdict(int)
    for (area_id, _kind), n in place_counts().items():
        if paths[area_id].startswith(area.path):
            places[paths[area_id][len(area.path):].split("/", 1)[0]] += n
    return by_child, places


def _assert_children_exact(area, day):
    """Every child's figures as the dashboard shows them equal the rows summed afresh."""
    counters, places = _uncached(area, day)
    _figures, ranking = metrics.overview(area, day)
    assert ranking
    for row in ranking:
        code = row.area.code
        shown = row.figures
        assert (shown.hazards_found, shown.open, shown.open_overdue, shown.closed,
                shown.places) == (counters[code]["found"], counters[code]["open"],
                                  counters[code]["overdue"], counters[code]["closed"],
                                  places[code]), code


def test_a_piece_is_reused_only_while_the_stamps_of_its_rows_are_the_same(world):
    # The key is the stamp, not the time: a change that renews no stamp (here a
    # row written behind the services' back) is not seen; a renewed stamp is.
    _register(world, deadline=future(3))
    city, today = world.city, clock.today()
    before = metrics.figures(city, today).open_overdue
    assert before == 0  # +1 booked on the day after the deadline, still in the future
    AreaDayStats.objects.filter(day__gt=today).update(overdue=F("overdue") + 7)
    assert metrics.figures(city, today).open_overdue == before  # cached piece reused
    row = AreaStats.objects.get(area=world.grids["baita-1"], campaign_key=0)
    AreaStats.objects.filter(pk=row.pk).update(stamp=new_stamp())
    assert metrics.figures(city, today).open_overdue == before - 7  # recomputed


def test_an_overdue_booking_moved_in_the_future_reaches_the_next_figures(world):
    # The extension request moves no total (the future +1 and its -1 cancel out),
    # only future day rows: exactly what the cached "changes after D" hold.
    city, east = world.city, world.towns["east"]
    hazard = _register(world, deadline=future(3))
    later = hazard.deadline + dt.timedelta(days=2)
    assert metrics.figures(city, later).open_overdue == 1
    assert metrics.trend(east, clock.today(), later)[-1].overdue == 1
    services.request_extension(hazard, actor=world.users["landlord"], reason="parts",
                               requested_deadline=future(20))
    assert metrics.figures(city, later).open_overdue == 0
    assert metrics.trend(east, clock.today(), later)[-1].overdue == 0
    assert [p.overdue for p in metrics.trend(city, clock.today(), later)] == [0] * 6
    # The figures handed to the trend must be those of the rows it reads next.
    at_end = metrics.figures(city, later)
    assert metrics.trend(city, clock.today(), later, at_end=at_end)[-1].overdue == 0
    with pytest.raises(ValueError):
        metrics.trend(east, clock.today(), later, at_end=at_end)
    _clean()


def test_every_cached_part_of_the_page_shows_the_next_transition(client, world):
    commander = world.users["commander"]
    client.force_login(commander)
    url = reverse("dashboard:area", args=[world.city.code]) + "?campaign=all"

    def page() -> str:
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    def ranking_row(html: str, town: str) -> list[str]:
        table = html.split('id="ranking-table"', 1)[1].split("</table>", 1)[0]
        row = next(r for r in table.split("<tr>") if f">{town}</a>" in r)
        return re.findall(r"<td>(.*?)</td>", row)

    def trend_row(html: str, day: dt.date) -> list[str]:
        table = html.split('id="trend-table"', 1)[1].split("</table>", 1)[0]
        return re.findall(r"<td>(.*?)</td>", table.split(f"<td>{day:%Y-%m-%d}</td>", 1)[1]
                          .split("</tr>", 1)[0])

    html = page()
    assert ranking_row(html, "东城街道")[-2:] == ["0", "0"]  # hazards found, open overdue
    hazard = _register(world, deadline=future(3))
    html = page()
    assert ranking_row(html, "东城街道")[-2:] == ["1", "0"]
    assert trend_row(html, clock.today())[0] == "1"  # found that day
    assert hazard.number not in html  # not overdue yet
    _advance(5)
    html = page()
    assert ranking_row(html, "东城街道")[-2:] == ["1", "1"]
    assert hazard.number in html.split('id="overdue-list"', 1)[1]
    services.submit_rectification(hazard, actor=world.users["landlord"],
                                  evidence=[after_photo()])
    html = page()
    assert ranking_row(html, "东城街道")[-2:] == ["1", "0"]
    assert 'id="overdue-list"' not in html
    # Decided major: the major list (its own cached part) follows.
    assert hazard.number not in html.split('id="major-title"', 1)[1]
    services.decide_major(hazard, actor=commander, confirmed=True,
                          participants=["甲", "乙", "丙"], minutes="集体研判")
    assert hazard.number in page().split('id="major-title"', 1)[1]
    # The cached parts are per language.
    assert ">Rank<" in page()
    assert ">名次<" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_field_people_granted_and_revoked_reach_the_ranking(world):
    city, today = world.city, clock.today()

    def inspectors(town: str) -> int:
        row = next(r for r in metrics.overview(city, today)[1] if r.area == world.towns[town])
        return round(row.figures.places / row.places_per_inspector)

    assert inspectors("east") == 2  # the village cadre and the grid worker of Baita
    newcomer = User.objects.create_user(username="newcomer", password=None)
    membership = grant_role(actor=None, user=newcomer, role=Role.GRID_WORKER,
                            area=world.grids["wujin-1"])
    assert inspectors("east") == 3
    revoke_role(actor=None, membership=membership)
    assert inspectors("east") == 2


def test_an_area_moved_to_another_parent_takes_its_figures_along(world):
    # Baita's first grid moves to the other town with its places and its hazard,
    # whose overdue +1 lies in the future (in the cached "changes after today").
    _register(world, deadline=future(3))
    city, today = world.city, clock.today()
    _assert_children_exact(city, today)
    grid = world.grids["baita-1"]
    grid.parent = world.villages["loutang"]
    grid.save()
    _assert_children_exact(city, today)
    east, west = (next(r.figures for r in metrics.overview(city, today)[1]
                       if r.area == world.towns[t]) for t in ("east", "west"))
    assert (east.hazards_found, east.open_overdue, east.places) == (0, 0, 2)
    assert (west.hazards_found, west.open_overdue, west.places) == (1, 0, 4)


def test_the_map_outlines_follow_a_place_moved_on_the_map(client, world):
    client.force_login(world.users["commander"])
    url = reverse("dashboard:map_json", args=[world.city.code])

    def east_hull() -> list[list[float]]:
        outlines = client.get(url).json()["outlines"]
        return next(o["hull"] for o in outlines if o["code"] == world.towns["east"].code)

    assert all(lat < 29 for lat, _lon in east_hull())
    place = world.places["baita_rental"]
    place.latitude = Decimal("29.5")
    place.save()
    assert any(lat == 29.5 for lat, _lon in east_hull())
    place.active = False
    place.save(update_fields=["active"])
    assert all(lat < 29 for lat, _lon in east_hull())
