"""Campaign services: targets, tasks, lists, the three draws and missed detection."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from bihuan.audit.models import AuditEntry
from bihuan.campaigns import draws, services
from bihuan.campaigns.choices import CheckResult, DrawStatus, Duty, DutyResult, Metric
from bihuan.campaigns.models import (
    Campaign,
    CrossAssignment,
    CrossPairing,
    Draw,
    DutyFinding,
    LookBackItem,
    Responsibility,
    Target,
    Task,
    TaskReport,
)
from bihuan.campaigns.tests.helpers import END, START, campaign, teams
from bihuan.core import clock
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.dashboard import metrics
from bihuan.hazards import services as hazards
from bihuan.hazards.choices import HazardState
from bihuan.inspections import services as inspections
from bihuan.inspections.choices import InspectionKind
from bihuan.places.models import Place
from bihuan.testing import after_photo, before_photo, future, tiny_jpeg

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (
        Campaign, Target, Task, TaskReport, Responsibility, Draw, CrossAssignment,
        CrossPairing, LookBackItem, DutyFinding, AuditEntry)}


def _closed_hazard(world, place="baita_rental", index=0):
    u, p = world.users, world.places
    items = [i for i in world.checklist_for(p[place]).items.all() if i.severity == "general"]
    hazard = hazards.register_hazard(actor=u["baita_grid_worker"], place=p[place],
                                     item=items[index], description="",
                                     evidence=[before_photo(index)])
    party = u["landlord"] if p[place].party.user_id == u["landlord"].pk else u["shopkeeper"]
    hazards.submit_rectification(hazard, actor=party, evidence=[after_photo(index)])
    return hazards.pass_verification(hazard, actor=u["east_officer"])


def _patrol(world, place, actor="baita_grid_worker", findings=(), days_ago=3, campaign=None):
    with clock.frozen_at(clock.now() - dt.timedelta(days=days_ago)):
        return inspections.submit_inspection(
            actor=world.users[actor], place=world.places[place],
            kind=InspectionKind.GRID_PATROL, campaign=campaign,
            checklist=world.checklist_for(world.places[place]), results={},
            findings=findings,
        )


# ---------------------------------------------------------------- campaigns, targets


def test_the_commander_creates_a_campaign_and_it_is_audited(world):
    c = campaign(world, place_kinds=["rental_house"])
    assert c.created_by == world.users["commander"]
    assert AuditEntry.objects.filter(action="campaign.create", object_id=str(c.pk)).exists()


def test_a_town_officer_creates_campaigns_only_in_its_town(world):
    officer = world.users["east_officer"]
    services.create_campaign(actor=officer, code="E1", name="东城专项", area=world.towns["east"],
                             starts_on=START, ends_on=END)
    with pytest.raises(PermissionDenied):
        services.create_campaign(actor=officer, code="W1", name="西城",
                                 area=world.towns["west"], starts_on=START, ends_on=END)
    with pytest.raises(PermissionDenied):
        services.create_campaign(actor=world.users["baita_grid_worker"], code="B1", name="白塔",
                                 area=world.villages["baita"], starts_on=START, ends_on=END)


def test_campaign_visibility_is_one_query_up_and_down_the_tree(world, django_assert_num_queries):
    city = campaign(world)
    east = services.create_campaign(actor=world.users["east_officer"], code="E1", name="东城",
                                    area=world.towns["east"], starts_on=START, ends_on=END)
    west = services.create_campaign(actor=world.users["west_officer"], code="W1", name="西城",
                                    area=world.towns["west"], starts_on=START, ends_on=END)
    user = world.users["baita_grid_worker"]
    services.scope_of(user)  # the scope is cached per request
    with django_assert_num_queries(1):
        seen = set(Campaign.objects.visible_to(user))
    assert seen == {city, east}
    assert set(Campaign.objects.visible_to(world.users["fire_inspector"])) == {city, east, west}
    assert not Campaign.objects.visible_to(world.users["landlord"]).exists()
    assert not Campaign.objects.visible_to(world.users["citizen"]).exists()


def test_a_target_over_100_percent_is_refused_and_nothing_is_written(world):
    c = campaign(world)
    before = _counts()
    with pytest.raises(ValidationFailed) as error:
        services.set_target(actor=world.users["commander"], campaign=c,
                            metric=Metric.COVERAGE, value="101")
    assert "100" in str(error.value.message)
    assert _counts() == before
    target = services.set_target(actor=world.users["commander"], campaign=c,
                                 metric=Metric.COVERAGE, value="95")
    assert target.value == Decimal("95.00")
    # A count is not a percentage: a ceiling of 0 open major hazards is fine.
    services.set_target(actor=world.users["commander"], campaign=c, metric=Metric.OPEN_MAJOR,
                        value=0)


def test_the_forecast_follows_the_daily_rate(world):
    from bihuan.campaigns import progress

    c = campaign(world, place_kinds=["rental_house", "shop", "market", "hotel",
                                     "three_in_one"])
    target = services.set_target(actor=world.users["commander"], campaign=c,
                                 metric=Metric.COVERAGE, value=100)
    # Six places; two inspected in the last week: 2/6 now, 0 a week ago.
    _patrol(world, "baita_rental", days_ago=2, campaign=c)
    _patrol(world, "baita_shop", days_ago=1, campaign=c)
    f = progress.forecast(target)
    assert f.current == pytest.approx(100 * 2 / 6)
    assert f.daily_rate == pytest.approx(100 * 2 / 6 / 7)
    remaining = (END - clock.today()).days
    assert f.projected == pytest.approx(min(100, 100 * 2 / 6 + f.daily_rate * remaining))
    assert f.will_meet is True
    # Reached when the remaining 4/6 are covered at the current rate: 14 more days.
    assert f.reached_on == clock.today() + dt.timedelta(days=14)
    rows = progress.progress_by_area(c)
    by_town = {r.area.code: r.values[0][1] for r in rows}
    assert by_town[world.towns["east"].code] == pytest.approx(50)
    assert by_town[world.towns["west"].code] == pytest.approx(0)


# ---------------------------------------------------------------- tasks and lists


def test_a_task_with_no_owner_is_refused_and_nothing_is_written(world):
    c = campaign(world)
    before = _counts()
    with pytest.raises(ValidationFailed) as error:
        services.create_task(actor=world.users["commander"], campaign=c, title="出租房全覆盖",
                             due_on=future(5))
    assert error.value.field == "org_unit"
    assert _counts() == before


def test_a_task_is_reported_on_with_evidence_and_done_at_100(world):
    c = campaign(world)
    task = services.create_task(actor=world.users["commander"], campaign=c,
                                title="白塔村出租房全覆盖", area=world.villages["baita"],
                                org_unit=world.org_units["fire"], due_on=future(5))
    # A grid worker of another town may not report on it; a grid worker inside may.
    with pytest.raises((PermissionDenied, NotFound)):
        services.report_task_progress(actor=world.users["loutang_grid_worker"], task=task,
                                      note="x", progress=10)
    before = _counts()
    with pytest.raises(ValidationFailed):
        services.report_task_progress(
            actor=world.users["baita_grid_worker"], task=task, note="已查", progress=50,
            evidence=[services.EvidenceUpload(b"not a photo")])
    assert _counts() == before
    services.report_task_progress(actor=world.users["baita_grid_worker"], task=task,
                                  note="已查 40 户", progress=50,
                                  evidence=[services.EvidenceUpload(tiny_jpeg(3))])
    services.report_task_progress(actor=world.users["fire_inspector"], task=task,
                                  note="全部完成", progress=100)
    task.refresh_from_db()
    assert task.status == "done" and task.completed_at is not None
    assert task.reports.count() == 2
    assert task.reports.first().evidence.count() == 1


def test_overdue_tasks_are_derived_from_the_date(world):
    c = campaign(world)
    task = services.create_task(actor=world.users["commander"], campaign=c, title="t",
                                area=world.towns["east"], due_on=future(2))
    assert not Task.objects.overdue().exists()
    clock.advance(dt.timedelta(days=3))
    assert list(Task.objects.overdue()) == [task]
    assert task.is_overdue()


def test_a_hazard_shows_its_tasks_and_responsible_people(world):
    c = campaign(world)
    u = world.users
    mine = services.create_task(actor=u["commander"], campaign=c, title="白塔出租房",
                                area=world.villages["baita"], place_kind="rental_house",
                                due_on=future(5))
    services.create_task(actor=u["commander"], campaign=c, title="楼塘",
                         area=world.villages["loutang"], due_on=future(5))
    services.create_task(actor=u["commander"], campaign=c, title="白塔商铺",
                         area=world.villages["baita"], place_kind="shop", due_on=future(5))
    person = services.add_responsibility(actor=u["east_officer"], campaign=c,
                                         area=world.villages["baita"], duty=Duty.TERRITORIAL,
                                         person_name="白塔村书记")
    services.add_responsibility(actor=u["west_officer"], campaign=c,
                                area=world.villages["loutang"], duty=Duty.TERRITORIAL,
                                person_name="楼塘村书记")
    hazard = _closed_hazard(world)
    tasks, people = services.links_for_hazard(hazard, u["east_officer"])
    assert tasks == [mine]
    assert people == [person]


def test_a_departmental_duty_names_its_department(world):
    c = campaign(world)
    before = _counts()
    with pytest.raises(ValidationFailed):
        services.add_responsibility(actor=world.users["commander"], campaign=c,
                                    area=world.city, duty=Duty.DEPARTMENTAL, person_name="张")
    assert _counts() == before


# ---------------------------------------------------------------- cross-inspection


def _cross(world, c, seed="2026-09-14 福彩3D 123", **kwargs):
    values = {"per_town": 2, "public_seed": seed}
    values.update(kwargs)
    draw = services.announce_cross_draw(actor=world.users["commander"], campaign=c, **values)
    return services.perform_draw(draw, actor=world.users["commander"])


def test_a_cross_draw_is_recorded_before_it_is_drawn_and_never_sends_a_team_home(world):
    c = campaign(world)
    t = teams(world)
    draw = services.announce_cross_draw(actor=world.users["commander"], campaign=c,
                                        per_town=2, public_seed="123")
    assert draw.status == DrawStatus.ANNOUNCED
    assert not CrossAssignment.objects.exists()
    announced = AuditEntry.objects.get(action="campaign.draw.cross.announce")
    assert announced.data["inputs_hash"] == draws.digest(draw.inputs)
    assert announced.data["seed"] == draws.effective_seed("123", draw.nonce)
    draw = services.perform_draw(draw, actor=world.users["commander"])
    drawn = AuditEntry.objects.get(action="campaign.draw.cross.draw")
    assert drawn.seq == announced.seq + 1 and drawn.prev_hash == announced.hash
    pairs = {p.town_id: p.team_id for p in draw.pairings.all()}
    assert pairs == {world.towns["east"].pk: t["west"].pk, world.towns["west"].pk: t["east"].pk}
    assert draw.assignments.count() == 4
    for a in draw.assignments.select_related("place__area", "team__home_area"):
        assert a.place.area.path.startswith(a.town.path)
        assert not a.place.area.path.startswith(a.team.home_area.path)
    assert services.verify_draw(draw)


def test_the_same_seed_gives_the_same_cross_draw(world, monkeypatch):
    c = campaign(world)
    teams(world)
    # Add places so the sample has a real choice to make.
    for i in range(8):
        Place.objects.create(name=f"r{i}", kind="rental_house", area=world.grids["baita-2"],
                             address="x")
    monkeypatch.setattr(services.secrets, "token_hex", lambda n: "ab" * n)
    first = _cross(world, c, seed="42")
    second = _cross(world, c, seed="42")
    rows = lambda d: sorted(d.assignments.values_list("town_id", "team_id", "place_id"))  # noqa: E731
    assert rows(first) == rows(second)
    others = [rows(_cross(world, c, seed=str(s))) for s in range(6)]
    assert any(o != rows(first) for o in others)


def test_the_cross_sample_is_stratified_by_kind_and_includes_recently_clean_places(world):
    c = campaign(world)
    teams(world)
    for i in range(9):
        Place.objects.create(name=f"r{i}", kind="rental_house", area=world.grids["baita-2"],
                             address="x")
    _patrol(world, "baita_shop")  # passed as clean three days ago
    draw = _cross(world, c, per_town=4, clean_share=0.5)
    east = [a for a in draw.assignments.all() if a.town == world.towns["east"]]
    sizes = {"rental_house": 10, "shop": 1, "three_in_one": 1, "market": 1}
    allocation = draws.allocate(sizes, 4)
    for kind, n in allocation.items():
        assert sum(1 for a in east if a.place_kind == kind) == n
    shop = [a for a in east if a.place_kind == "shop"]
    if shop:
        assert shop[0].recently_clean and shop[0].place == world.places["baita_shop"]


def test_a_draw_for_a_town_with_no_eligible_places_is_refused_and_nothing_is_written(world):
    c = campaign(world, place_kinds=["hotel"])  # no hotel in 东城
    teams(world)
    before = _counts()
    with pytest.raises(ValidationFailed) as error:
        services.announce_cross_draw(actor=world.users["commander"], campaign=c, per_town=2)
    assert "东城街道" in str(error.value.message)
    assert _counts() == before


def test_only_managers_announce_and_draw(world):
    c = campaign(world)
    teams(world)
    for name in ("baita_grid_worker", "fire_inspector", "landlord"):
        with pytest.raises((PermissionDenied, NotFound)):
            services.announce_cross_draw(actor=world.users[name], campaign=c, per_town=1)
    # A town officer draws inside its town only.
    with pytest.raises(PermissionDenied):
        services.announce_cross_draw(actor=world.users["east_officer"], campaign=c,
                                     per_town=1)


def test_a_single_town_with_only_its_own_team_cannot_be_paired(world):
    c = campaign(world)
    teams(world)
    # The west team can take 东城 alone.
    services.announce_cross_draw(actor=world.users["commander"], campaign=c, per_town=1,
                                 towns=[world.towns["east"].code])
    before = _counts()
    # Without it, only 东城's own team is left: no pairing is possible.
    from bihuan.accounts.models import Team

    Team.objects.filter(home_area=world.towns["west"]).delete()
    with pytest.raises(ValidationFailed):
        services.announce_cross_draw(actor=world.users["commander"], campaign=c, per_town=1,
                                     towns=[world.towns["east"].code])
    assert _counts() == before


# ---------------------------------------------------------------- look-back


def test_the_look_back_sample_is_seeded_risk_first_and_assigned_to_someone_else(world,
                                                                               monkeypatch):
    c = campaign(world)
    closed = [_closed_hazard(world, index=i) for i in range(4)]
    monkeypatch.setattr(services.secrets, "token_hex", lambda n: "cd" * n)
    draw_a = services.announce_look_back_draw(actor=world.users["commander"], campaign=c,
                                              share=50, public_seed="7")
    inputs_a = draw_a.inputs
    draw_a = services.perform_draw(draw_a, actor=world.users["commander"])
    items = list(draw_a.look_backs.all())
    assert len(items) == 2  # 50 % of 4 closed hazards in 东城
    assert all(i.assignee_id != world.users["east_officer"].pk for i in items)
    # The same seed and inputs: the same sample.
    again = draws.look_back_result(draw_a.seed, draw_a.params, inputs_a)
    assert [[i[1], i[3]] for i in again["items"]] == [[i.hazard_id, i.assignee_id]
                                                       for i in items]
    assert {i.hazard_id for i in items} <= {h.pk for h in closed}


def _look_back_item(world):
    """A campaign, one closed hazard, and the look-back a 100 % draw assigns for it."""
    c = campaign(world)
    _closed_hazard(world)
    draw = services.perform_draw(
        services.announce_look_back_draw(actor=world.users["commander"], campaign=c, share=100),
        actor=world.users["commander"])
    return c, draw.look_backs.get()


def test_a_failed_look_back_reopens_the_hazard_and_counts_a_recurrence(world):
    c, item = _look_back_item(world)
    with pytest.raises(PermissionDenied):
        services.record_look_back(item, actor=world.users["east_officer"], passed=True)
    assignee = item.assignee
    before = _counts()
    with pytest.raises(ValidationFailed):  # a fail needs a reason and a new deadline
        services.record_look_back(item, actor=assignee, passed=False, reason="")
    assert _counts() == before
    services.record_look_back(item, actor=assignee, passed=False, reason="灭火器又过期",
                              deadline=future(7))
    item.refresh_from_db()
    item.hazard.refresh_from_db()
    assert item.result == CheckResult.FAILED
    assert item.hazard.state == HazardState.RECTIFYING
    assert item.hazard.recurrence_count == 1
    # A failed look-back is a recurrence, not a missed detection: no hazard was found
    # by a cross-inspection or look-back inspection (one definition, the dashboard's).
    md = services.missed_detection(world.city, c)
    assert md == services.MissedDetection.of(metrics.figures(world.city, clock.today(), c))
    assert (md.cross_found, md.missed, md.rate) == (0, 0, None)
    assert metrics.figures(world.city, clock.today()).recurrences == 1


# ---------------------------------------------------------------- duty spot checks


def test_a_refuted_duty_check_becomes_a_finding_against_the_grids_officials(world):
    c = campaign(world)
    _patrol(world, "baita_rental")
    _patrol(world, "baita_shop")
    draw = services.perform_draw(
        services.announce_duty_draw(actor=world.users["commander"], campaign=c, grids=1,
                                    per_grid=1),
        actor=world.users["commander"])
    item = draw.duty_checks.get()
    assert item.grid == world.grids["baita-1"]
    assert item.checker != item.inspection.inspector
    before = _counts()
    with pytest.raises(ValidationFailed):
        services.record_duty_check(item, actor=item.checker, confirmed=False, note="")
    assert _counts() == before
    services.record_duty_check(item, actor=item.checker, confirmed=False,
                               note="房东说近一个月没人来查过")
    item.refresh_from_db()
    assert item.result == DutyResult.REFUTED
    finding = DutyFinding.objects.get()
    assert set(finding.officials.all()) == {world.users["baita_grid_worker"]}
    assert list(DutyFinding.objects.visible_to(world.users["east_officer"])) == [finding]
    assert not DutyFinding.objects.visible_to(world.users["west_officer"]).exists()


def test_a_duty_draw_without_recorded_inspections_is_refused(world):
    c = campaign(world)
    before = _counts()
    with pytest.raises(ValidationFailed):
        services.announce_duty_draw(actor=world.users["commander"], campaign=c, grids=2,
                                    per_grid=1)
    assert _counts() == before


# ---------------------------------------------------------------- missed detection


def _cross_finding(world, place, *, campaign=None, team=None, actor="fire_inspector",
                   index=0, found=True):
    """A cross-inspection of ``place``, registering one hazard unless ``found`` is false."""
    checklist = world.checklist_for(world.places[place])
    items = [i for i in checklist.items.all() if i.severity == "general"]
    findings = ([inspections.Finding(item_code=items[index].code, evidence=[before_photo(index)])]
                if found else [])
    return inspections.submit_inspection(
        actor=world.users[actor], place=world.places[place], kind=InspectionKind.CROSS,
        team=team, campaign=campaign, checklist=checklist, results={}, findings=findings)


@pytest.fixture
def cross_findings(world):
    """Within the campaign: a hazard found by a cross-inspection at a place the local
    grid patrol passed as clean 5 days before (missed), one at a place whose last
    clean patrol is 40 days old (found, not missed), and a cross-inspection finding
    nothing at a place passed clean (neither). Outside the campaign: one more miss."""
    c = campaign(world)
    t = teams(world)
    _patrol(world, "baita_rental", days_ago=5)  # clean
    _patrol(world, "baita_shop", days_ago=5)  # clean
    _patrol(world, "loutang_rental", actor="loutang_grid_worker", days_ago=40)  # clean, old
    _cross_finding(world, "baita_rental", campaign=c, team=t["west"])
    _cross_finding(world, "loutang_rental", campaign=c, team=t["east"])
    _cross_finding(world, "baita_shop", campaign=c, team=t["west"], found=False)
    _cross_finding(world, "baita_rental", actor="commander", index=1)  # no campaign
    return c, t


def test_missed_detection_is_the_dashboards_figure_for_the_campaign(world, cross_findings):
    c, _t = cross_findings
    today = clock.today()
    md = services.missed_detection(world.city, c)
    f = metrics.figures(world.city, today, c)
    assert (md.cross_found, md.missed, md.rate) == (f.cross_found, f.missed,
                                                     f.missed_detection_rate)
    assert (md.cross_found, md.missed, md.rate) == (2, 1, 0.5)
    # The finding outside the campaign counts in all records, not in the campaign's.
    overall = metrics.figures(world.city, today)
    assert (overall.cross_found, overall.missed) == (3, 2)
    for town, expected in (("east", (1, 1, 1.0)), ("west", (1, 0, 0.0))):
        md = services.missed_detection(world.towns[town], c)
        assert (md.cross_found, md.missed, md.rate) == expected
        assert md == services.MissedDetection.of(metrics.figures(world.towns[town], today, c))
    # As of a day before the findings: nothing yet.
    before = today - dt.timedelta(days=1)
    assert services.missed_detection(world.city, c, before) == services.MissedDetection(0, 0, None)


def test_missed_detection_by_area_and_team_are_the_dashboards_child_figures(world,
                                                                           cross_findings):
    c, t = cross_findings
    today = clock.today()
    by_area = services.missed_detection_by_area(c)
    children = metrics.child_figures(world.city, today, c)
    assert [(a, md.cross_found, md.missed, md.rate) for a, md in by_area] == [
        (f.area, f.cross_found, f.missed, f.missed_detection_rate) for f in children]
    assert [(a, md.cross_found, md.missed) for a, md in by_area] == [
        (world.towns["east"], 1, 1), (world.towns["west"], 1, 0)]
    by_team = dict(services.missed_detection_by_team(c))
    assert (by_team[t["east"]].cross_found, by_team[t["east"]].missed) == (1, 1)
    assert (by_team[t["west"]].cross_found, by_team[t["west"]].missed) == (1, 0)
    # A town's campaign: its villages, and its team answers for the town.
    east = campaign(world, code="E-2026", area=world.towns["east"])
    _cross_finding(world, "wujin_market", campaign=east, actor="east_officer")
    rows = dict(services.missed_detection_by_area(east))
    assert [(a, md.cross_found) for a, md in rows.items()] == [
        (f.area, f.cross_found) for f in metrics.child_figures(world.towns["east"], today, east)]
    assert (rows[world.villages["wujin"]].cross_found, rows[world.villages["baita"]].cross_found
            ) == (1, 0)
    assert dict(services.missed_detection_by_team(east)) == {
        t["east"]: services.MissedDetection(1, 0, 0.0)}


def test_the_campaign_page_shows_the_dashboards_missed_detection(client, world,
                                                                 cross_findings):
    c, _t = cross_findings
    client.force_login(world.users["commander"])
    html = client.get(reverse("campaigns:detail", args=[c.pk])).content.decode()
    section = html[html.index('id="missed-detection"'):html.index('id="draws"')]
    assert '<strong>50.0%</strong>' in section
    dashboard = client.get(reverse("dashboard:area", args=[world.city.code]),
                           {"campaign": c.pk}).content.decode()
    tile = dashboard[dashboard.index('data-figure="missed_detection_rate"'):]
    assert tile[:tile.index("</div>")].count('<span class="tile-value">50.0%</span>') == 1


def test_a_team_member_finds_the_assignment_of_a_place(world):
    c = campaign(world)
    t = teams(world)
    draw = _cross(world, c)
    assigned = draw.assignments.filter(team=t["east"]).first()
    assert services.cross_assignment_for(world.users["fire_inspector"],
                                         assigned.place_id) == assigned
    assert services.cross_assignment_for(world.users["west_officer"], assigned.place_id) is None
