"""The dashboard's figures follow the loop, day by day, and equal the raw records."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from bihuan.core import clock
from bihuan.dashboard import metrics, summaries
from bihuan.dashboard.models import AreaDayStats, AreaStats
from bihuan.dashboard.verify import verify
from bihuan.hazards import services
from bihuan.hazards.models import Hazard
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.services import Finding, submit_inspection
from bihuan.testing import after_photo, before_photo, future

pytestmark = pytest.mark.django_db


def _item(world, place, severity="general"):
    checklist = world.checklist_for(world.places[place])
    return next(i for i in checklist.items.all() if i.severity == severity)


def _register(world, place="baita_rental", actor="baita_grid_worker", **kwargs):
    return services.register_hazard(actor=world.users[actor], place=world.places[place],
                                     item=_item(world, place), description="",
                                     evidence=[before_photo()], **kwargs)


def _advance(days: int) -> None:
    clock.freeze(clock.now() + dt.timedelta(days=days))


def _clean() -> None:
    differences = verify()
    assert differences == [], "\n".join(str(d) for d in differences[:20])


def test_figures_follow_a_hazard_through_the_loop_and_time(world):
    u = world.users
    city, east = world.city, world.towns["east"]
    hazard = _register(world, deadline=future(3))
    today = clock.today()
    f = metrics.figures(city, today)
    assert (f.hazards_found, f.open, f.open_overdue, f.closed) == (1, 1, 0, 0)
    _clean()
    # Five days later the deadline has passed: overdue, without any write.
    _advance(5)
    f = metrics.figures(east, clock.today())
    assert f.open_overdue == 1
    assert metrics.figures(east, today).open_overdue == 0  # as it stood that day
    _clean()
    hazard = services.submit_rectification(hazard, actor=u["landlord"], evidence=[after_photo()])
    assert metrics.figures(city, clock.today()).open_overdue == 0
    hazard = services.pass_verification(hazard, actor=u["east_officer"])
    f = metrics.figures(city, clock.today())
    assert (f.open, f.closed, f.closed_on_time, f.closure_rate) == (0, 1, 0, 1.0)
    _clean()
    services.fail_look_back(hazard, actor=u["east_officer_2"], reason="again",
                            deadline=future(5))
    f = metrics.figures(city, clock.today())
    assert (f.open, f.closed, f.look_backs, f.recurrences, f.recurrence_rate) == (
        1, 0, 1, 1, 1.0)
    # West sees none of it.
    assert metrics.figures(world.towns["west"], clock.today()).hazards_found == 0
    _clean()
    points = metrics.trend(city, today, clock.today())
    assert points[0].found == 1
    assert sum(p.found for p in points) == 1
    assert points[-1].open == 1
    assert any(p.overdue == 1 for p in points)


def test_a_dismissed_report_leaves_found_and_a_pending_extension_stops_overdue(world):
    u = world.users
    report = _register(world, actor="landlord")
    assert metrics.figures(world.city, clock.today()).hazards_found == 1
    services.dismiss_report(report, actor=u["baita_cadre"], reason="not a hazard")
    assert metrics.figures(world.city, clock.today()).hazards_found == 0
    hazard = _register(world, deadline=future(2))
    _advance(3)
    assert metrics.figures(world.city, clock.today()).open_overdue == 1
    services.request_extension(hazard, actor=u["landlord"], reason="parts",
                               requested_deadline=future(10))
    assert metrics.figures(world.city, clock.today()).open_overdue == 0
    _clean()
    services.decide_extension(hazard, actor=u["east_officer"], approve=False, reason="no")
    _clean()


def test_coverage_and_missed_detection_from_inspections(world):
    u = world.users
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    submit_inspection(actor=u["baita_grid_worker"], place=place,
                      kind=InspectionKind.GRID_PATROL, checklist=checklist, results={})
    f = metrics.figures(world.city, clock.today())
    assert f.places_inspected == 1
    assert f.coverage == pytest.approx(1 / 6)
    _advance(2)
    item = _item(world, "baita_rental")
    submit_inspection(actor=u["west_officer"] if False else u["commander"], place=place,
                      kind=InspectionKind.CROSS, checklist=checklist, results={},
                      findings=[Finding(item_code=item.code, deadline=future(5))])
    f = metrics.figures(world.city, clock.today())
    assert f.places_inspected == 1  # the same place, counted once
    assert (f.missed_detection_rate, f.hazards_found) == (1.0, 1)
    _clean()


def test_rebuild_gives_the_same_rows_and_verify_catches_a_corrupted_row(world):
    u = world.users
    h = _register(world, deadline=future(3))
    services.submit_rectification(h, actor=u["landlord"], evidence=[after_photo()])
    _register(world, place="loutang_rental", actor="loutang_grid_worker")
    before = summaries.table_contents()
    call_command("metrics", "rebuild")
    assert summaries.table_contents() == before
    call_command("metrics", "verify")
    row = AreaStats.objects.first()
    AreaStats.objects.filter(pk=row.pk).update(open=row.open + 1)
    with pytest.raises(CommandError):
        call_command("metrics", "verify")
    call_command("metrics", "rebuild")
    day_row = AreaDayStats.objects.filter(found__gt=0).first()
    AreaDayStats.objects.filter(pk=day_row.pk).update(found=0)
    with pytest.raises(CommandError):
        call_command("metrics", "verify")
    assert Hazard.objects.count() == 2


def test_place_counts_follow_places_created_moved_closed_and_deleted(world):
    from bihuan.places.models import Place

    city, east, west = world.city, world.towns["east"], world.towns["west"]
    assert metrics.figures(city, clock.today()).places == 6
    place = Place.objects.create(name="新店", kind="shop", area=world.grids["baita-2"],
                                 address="白塔村8号")
    assert metrics.figures(east, clock.today()).places == 5
    place.area = world.grids["loutang-1"]
    place.save()
    assert (metrics.figures(east, clock.today()).places,
            metrics.figures(west, clock.today()).places) == (4, 3)
    place.active = False
    place.save(update_fields=["active"])
    assert metrics.figures(city, clock.today()).places == 6
    place.delete()
    assert metrics.figures(city, clock.today()).places == 6
    _clean()
    # A bulk load slips past the counters: verify says so, a rebuild mends it.
    Place.objects.filter(pk=world.places["loutang_hotel"].pk).update(active=False)
    assert any(d.figure == "places" for d in verify())
    summaries.rebuild()
    assert metrics.figures(west, clock.today()).places == 1
    _clean()


def test_a_rebuild_locks_the_tables_first_and_analyzes_them_after_on_postgresql(world,
                                                                                on_postgres):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _register(world, deadline=future(3))
    with CaptureQueriesContext(connection) as queries:
        summaries.rebuild()
    sql = [q["sql"] for q in queries.captured_queries]
    locks = [i for i, s in enumerate(sql) if s.startswith("LOCK TABLE")]
    analyzes = [i for i, s in enumerate(sql) if s.startswith("ANALYZE")]
    if not on_postgres:
        assert not locks and not analyzes
        return
    first_read = next(i for i, s in enumerate(sql) if "hazards_hazard" in s)
    assert len(locks) == 5 and max(locks) < first_read  # held before the replay reads
    assert analyzes == [len(sql) - 1]  # the last statement, after the rows are written
    for table in ("dashboard_areastats", "dashboard_areadaystats", "dashboard_hazardmetricstate",
                  "dashboard_placecoverage", "dashboard_areaplacecount"):
        assert table in sql[-1]
    _clean()
