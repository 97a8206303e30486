"""The campaigns API (read only): scoping by ``visible_to``, fields, filters, queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bihuan.campaigns import services
from bihuan.campaigns.choices import Metric
from bihuan.campaigns.models import Campaign, Task
from bihuan.campaigns.tests.helpers import START, campaign
from bihuan.core.tokens import create_token
from bihuan.places.choices import PlaceKind

pytestmark = pytest.mark.django_db

# The conftest clock: 2026-09-14, inside START (09-01) … END (10-30).
TODAY = dt.date(2026, 9, 14)


def _client(world, persona: str) -> Client:
    _token, secret = create_token(user=world.users[persona], name="campaign api test")
    return Client(HTTP_AUTHORIZATION=f"Token {secret}")


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


def _task(world, c, title, *, area=None, org_unit=None, due_on=None, place_kind=""):
    return services.create_task(actor=world.users["commander"], campaign=c, title=title,
                                area=area, org_unit=org_unit, place_kind=place_kind,
                                due_on=due_on or dt.date(2026, 9, 20))


@pytest.fixture
def three(world):
    """A city campaign and one per town, each created by command staff."""
    return {
        "city": campaign(world),
        "east": campaign(world, code="DC-2026", name="东城专项", area=world.towns["east"]),
        "west": campaign(world, code="XC-2026", name="西城专项", area=world.towns["west"]),
    }


# ---------------------------------------------------------------- scope


def test_a_town_officer_sees_the_city_and_own_town_campaigns_only(world, three):
    east = _client(world, "east_officer")
    assert _ids(east.get("/api/campaigns/")) == {three["city"].pk, three["east"].pk}
    assert east.get(f"/api/campaigns/{three['east'].pk}/").status_code == 200
    assert east.get(f"/api/campaigns/{three['city'].pk}/").status_code == 200
    # Another town's campaign is not found, exactly like one that does not exist.
    other = east.get(f"/api/campaigns/{three['west'].pk}/")
    missing = east.get("/api/campaigns/999999/")
    assert other.status_code == 404 == missing.status_code
    assert other.json() == missing.json()
    # The commander sees all three.
    assert _ids(_client(world, "commander").get("/api/campaigns/")) == {
        c.pk for c in three.values()}


def test_a_party_sees_no_campaigns(world, three):
    landlord = _client(world, "landlord")
    assert _ids(landlord.get("/api/campaigns/")) == set()
    assert landlord.get(f"/api/campaigns/{three['city'].pk}/").status_code == 404


def test_a_town_officer_sees_own_town_tasks_and_area_less_ones(world, three):
    c = three["city"]
    east_task = _task(world, c, "东城排查", area=world.towns["east"])
    baita_task = _task(world, c, "白塔村", area=world.villages["baita"])
    west_task = _task(world, c, "西城排查", area=world.towns["west"])
    dept_task = _task(world, c, "消防部门", org_unit=world.org_units["fire"])
    west_own = _task(world, three["west"], "西城自查", area=world.towns["west"])
    east = _client(world, "east_officer")
    assert _ids(east.get("/api/campaign-tasks/")) == {east_task.pk, baita_task.pk,
                                                      dept_task.pk}
    assert east.get(f"/api/campaign-tasks/{baita_task.pk}/").status_code == 200
    for hidden in (west_task, west_own):
        response = east.get(f"/api/campaign-tasks/{hidden.pk}/")
        assert response.status_code == 404, hidden.title
        assert response.json()["code"] == "not_found"
    assert _ids(_client(world, "west_officer").get("/api/campaign-tasks/")) == {
        west_task.pk, dept_task.pk, west_own.pk}


def test_anonymous_is_refused_like_the_other_endpoints(world, three):
    task = _task(world, three["city"], "东城排查", area=world.towns["east"])
    anonymous = Client()
    expected = anonymous.get("/api/hazards/").status_code
    assert expected in (401, 403)
    for url in ("/api/campaigns/", f"/api/campaigns/{three['city'].pk}/",
                "/api/campaign-tasks/", f"/api/campaign-tasks/{task.pk}/"):
        response = anonymous.get(url)
        assert response.status_code == expected, url
        assert response.json()["code"] == "not_authenticated"


def test_writing_is_not_allowed(world, three):
    c = three["city"]
    task = _task(world, c, "东城排查", area=world.towns["east"])
    commander = _client(world, "commander")
    body = {"code": "NEW-1", "name": "新行动", "title": "新任务"}
    calls = [
        ("post", "/api/campaigns/"), ("put", f"/api/campaigns/{c.pk}/"),
        ("patch", f"/api/campaigns/{c.pk}/"), ("delete", f"/api/campaigns/{c.pk}/"),
        ("post", "/api/campaign-tasks/"), ("put", f"/api/campaign-tasks/{task.pk}/"),
        ("patch", f"/api/campaign-tasks/{task.pk}/"),
        ("delete", f"/api/campaign-tasks/{task.pk}/"),
    ]
    for method, url in calls:
        response = getattr(commander, method)(url, body, content_type="application/json")
        assert response.status_code == 405, (method, url)
        assert response.json()["code"] == "method_not_allowed"
    assert Campaign.objects.count() == 3
    assert list(Task.objects.values_list("pk", "title")) == [(task.pk, "东城排查")]


# ---------------------------------------------------------------- fields and filters


def test_the_campaign_fields_are_the_campaigns(world):
    checklist = world.checklist_for(world.places["baita_rental"])
    c = campaign(world, place_kinds=[PlaceKind.SHOP, PlaceKind.RENTAL_HOUSE],
                 checklists=[checklist], description="出租房和店面")
    services.set_target(actor=world.users["commander"], campaign=c, metric=Metric.COVERAGE,
                        value="95")
    services.set_target(actor=world.users["commander"], campaign=c,
                        metric=Metric.OPEN_MAJOR, value="0")
    ended = campaign(world, code="OLD-1", name="夏季行动", area=world.towns["east"],
                     starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 8, 31))
    coming = campaign(world, code="NEXT-1", name="冬季行动", area=world.towns["east"],
                      starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31))
    rows = _client(world, "east_officer").get("/api/campaigns/").json()["results"]
    by_id = {row["id"]: row for row in rows}
    assert by_id[c.pk] == {
        "id": c.pk, "code": "SYGJ-2026", "name": "消防安全双月攻坚行动",
        "area": world.city.code, "area_name": world.city.name,
        "place_kinds": ["rental_house", "shop"], "starts_on": "2026-09-01",
        "ends_on": "2026-10-30", "status": "running", "description": "出租房和店面",
        "checklists": [checklist.pk],
        "targets": [{"metric": "coverage", "value": "95.00"},
                    {"metric": "open_major", "value": "0.00"}],
    }
    assert by_id[ended.pk]["status"] == "ended"
    assert by_id[coming.pk]["status"] == "not_started"
    assert by_id[ended.pk]["area"] == world.towns["east"].code
    assert by_id[ended.pk]["targets"] == [] and by_id[ended.pk]["place_kinds"] == []
    # Newest start first, as the UI lists them.
    assert [row["id"] for row in rows] == [coming.pk, c.pk, ended.pk]


def test_the_campaign_filters(world, three):
    ended = campaign(world, code="OLD-1", name="夏季行动", area=world.towns["east"],
                     starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 8, 31))
    commander = _client(world, "commander")
    assert _ids(commander.get("/api/campaigns/?status=ended")) == {ended.pk}
    assert _ids(commander.get("/api/campaigns/?status=running")) == {
        c.pk for c in three.values()}
    assert _ids(commander.get("/api/campaigns/?status=not_started")) == set()
    assert _ids(commander.get(f"/api/campaigns/?area={world.towns['east'].code}")) == {
        three["east"].pk, ended.pk}
    assert _ids(commander.get("/api/campaigns/?area=nowhere")) == set()
    assert commander.get("/api/campaigns/?status=someday").status_code == 400


def test_the_task_fields_are_the_tasks(world):
    c = campaign(world)
    fire = world.org_units["fire"]
    late = _task(world, c, "白塔村出租房", area=world.villages["baita"], org_unit=fire,
                 due_on=dt.date(2026, 9, 10), place_kind=PlaceKind.RENTAL_HOUSE)
    services.report_task_progress(actor=world.users["commander"], task=late,
                                  note="过半", progress=60)
    dept = _task(world, c, "消防部门培训", org_unit=fire, due_on=dt.date(2026, 10, 1))
    rows = _client(world, "east_officer").get("/api/campaign-tasks/").json()["results"]
    assert rows == [
        {"id": late.pk, "campaign": c.pk, "title": "白塔村出租房", "description": "",
         "org_unit": str(fire), "area": world.villages["baita"].code,
         "area_name": world.villages["baita"].name, "place_kind": "rental_house",
         "due_on": "2026-09-10", "status": "open", "progress": 60, "overdue": True,
         "completed_at": None},
        {"id": dept.pk, "campaign": c.pk, "title": "消防部门培训", "description": "",
         "org_unit": str(fire), "area": None, "area_name": None, "place_kind": "",
         "due_on": "2026-10-01", "status": "open", "progress": 0, "overdue": False,
         "completed_at": None},
    ]


def test_the_task_filters_are_the_ui_lists(world, three):
    c = three["city"]
    late = _task(world, c, "逾期", area=world.villages["baita"], due_on=dt.date(2026, 9, 10),
                 place_kind=PlaceKind.SHOP)
    later = _task(world, c, "未到期", area=world.towns["west"], due_on=dt.date(2026, 10, 1))
    other = _task(world, three["east"], "东城", area=world.towns["east"])
    done = _task(world, c, "已完成", area=world.towns["east"])
    services.report_task_progress(actor=world.users["commander"], task=done, note="完成",
                                  progress=100)
    assert Task.objects.get(pk=done.pk).status == "done"
    commander = _client(world, "commander")
    assert _ids(commander.get(f"/api/campaign-tasks/?campaign={c.pk}")) == {
        late.pk, later.pk, done.pk}
    assert _ids(commander.get(f"/api/campaign-tasks/?campaign={three['east'].pk}")) == {
        other.pk}
    assert _ids(commander.get("/api/campaign-tasks/?overdue=true")) == {late.pk}
    assert _ids(commander.get("/api/campaign-tasks/?status=done")) == {done.pk}
    assert _ids(commander.get("/api/campaign-tasks/?place_kind=shop")) == {late.pk}
    assert _ids(commander.get(f"/api/campaign-tasks/?area={world.towns['west'].code}")) == {
        later.pk}
    assert commander.get(f"/api/campaign-tasks/?campaign={2**70}").status_code == 400


def test_the_lists_page_by_cursor(world):
    c = campaign(world)
    tasks = [_task(world, c, f"任务{i}", area=world.towns["east"],
                   due_on=START + dt.timedelta(days=i)) for i in range(5)]
    commander = _client(world, "commander")
    seen: list[int] = []
    url: str | None = "/api/campaign-tasks/?page_size=2"
    while url:
        page = commander.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
        assert url is None or "cursor=" in url
    assert seen == [t.pk for t in tasks]


# ---------------------------------------------------------------- queries


def _list_queries(client: Client, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    return len(queries)


def test_the_campaign_list_costs_the_same_for_more_rows(world):
    checklist = world.checklist_for(world.places["baita_rental"])

    def add(i: int) -> None:
        c = campaign(world, code=f"C-{i}", name=f"行动{i}", area=world.towns["east"],
                     checklists=[checklist])
        services.set_target(actor=world.users["commander"], campaign=c,
                            metric=Metric.COVERAGE, value="90")

    add(0)
    client = _client(world, "east_officer")
    client.get("/api/campaigns/")  # warm up (the token's first use writes its last use)
    one = _list_queries(client, "/api/campaigns/", 1)
    for i in range(1, 6):
        add(i)
    assert _list_queries(client, "/api/campaigns/", 6) == one


def test_the_task_list_costs_the_same_for_more_rows(world):
    c = campaign(world)
    fire = world.org_units["fire"]

    def add(i: int) -> None:
        village = world.villages["baita"] if i % 2 else world.villages["wujin"]
        _task(world, c, f"任务{i}", area=village, org_unit=fire)

    add(0)
    client = _client(world, "east_officer")
    client.get("/api/campaign-tasks/")
    one = _list_queries(client, "/api/campaign-tasks/", 1)
    for i in range(1, 6):
        add(i)
    assert _list_queries(client, "/api/campaign-tasks/", 6) == one
