"""Campaign pages: who sees what, forms through the services, printable and exportable lists."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from bihuan.campaigns import services
from bihuan.campaigns.choices import Duty
from bihuan.campaigns.models import Campaign, Draw, Target, Task
from bihuan.campaigns.tests.helpers import campaign, teams
from bihuan.core.exports import safe_cell
from bihuan.hazards import services as hazards
from bihuan.testing import before_photo, future, tiny_jpeg

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


@pytest.fixture
def setup(world):
    c = campaign(world)
    task = services.create_task(actor=world.users["commander"], campaign=c, title="白塔村出租房",
                                area=world.villages["baita"], due_on=future(5))
    west_task = services.create_task(actor=world.users["commander"], campaign=c, title="楼塘村",
                                     area=world.villages["loutang"], due_on=future(5))
    return c, task, west_task


@pytest.mark.parametrize("persona,status", [
    ("commander", 200), ("east_officer", 200), ("baita_grid_worker", 200),
    ("fire_inspector", 200), ("landlord", 404), ("citizen", 404), ("system_admin", 404),
    ("audit_admin", 404),
])
def test_who_sees_the_campaign_pages(client, world, setup, persona, status):
    c, task, _west = setup
    client.force_login(world.users[persona])
    for url in (reverse("campaigns:list"), reverse("campaigns:detail", args=[c.pk]),
                reverse("campaigns:tasks", args=[c.pk]),
                reverse("campaigns:responsibilities", args=[c.pk]),
                reverse("campaigns:problems", args=[c.pk]),
                reverse("campaigns:findings", args=[c.pk]),
                reverse("campaigns:task", args=[task.pk])):
        assert client.get(url).status_code == status, url


def test_another_towns_task_is_not_found(client, world, setup):
    _c, task, west_task = setup
    client.force_login(world.users["west_officer"])
    assert client.get(reverse("campaigns:task", args=[task.pk])).status_code == 404
    assert client.get(reverse("campaigns:task", args=[west_task.pk])).status_code == 200


def test_only_managers_get_the_forms(client, world, setup):
    c, _task, _west = setup
    client.force_login(world.users["baita_grid_worker"])
    assert client.get(reverse("campaigns:new")).status_code == 404
    assert client.get(reverse("campaigns:draw_new", args=[c.pk, "cross"])).status_code == 404
    assert client.get(reverse("campaigns:responsibility_new", args=[c.pk])).status_code == 404
    assert client.get(reverse("campaigns:task_new", args=[c.pk])).status_code == 404
    response = client.post(reverse("campaigns:detail", args=[c.pk]),
                           {"metric": "coverage", "value": "90"})
    assert response.status_code == 404
    assert not Target.objects.exists()


def test_the_commander_creates_a_campaign_from_the_form(client, world):
    client.force_login(world.users["commander"])
    response = client.post(reverse("campaigns:new"), {
        "name": "出租房专项", "code": "CZF-1", "area": world.city.code,
        "starts_on": "2026-09-14", "ends_on": "2026-10-31", "place_kinds": ["rental_house"],
    })
    created = Campaign.objects.get(code="CZF-1")
    assert response.status_code == 302
    assert created.place_kinds == ["rental_house"] and created.area == world.city


def test_a_target_over_100_percent_shows_an_error_and_writes_nothing(client, world, setup):
    c, _task, _west = setup
    client.force_login(world.users["commander"])
    response = client.post(reverse("campaigns:detail", args=[c.pk]),
                           {"metric": "coverage", "value": "120"})
    assert response.status_code == 200
    assert "100" in response.content.decode()
    assert not Target.objects.exists()


def test_a_task_without_an_owner_shows_an_error_and_writes_nothing(client, world, setup):
    c, _task, _west = setup
    client.force_login(world.users["commander"])
    before = Task.objects.count()
    response = client.post(reverse("campaigns:task_new", args=[c.pk]),
                           {"title": "无主任务", "due_on": future(3).isoformat()})
    assert response.status_code == 200
    assert "owner" in response.content.decode() or "责任" in response.content.decode()
    assert Task.objects.count() == before


def test_progress_is_reported_with_a_photo(client, world, setup):
    _c, task, _west = setup
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.users["baita_grid_worker"])
    response = client.post(reverse("campaigns:task", args=[task.pk]), {
        "note": "已完成一半", "progress": "50",
        "evidence": SimpleUploadedFile("a.jpg", tiny_jpeg(2), content_type="image/jpeg"),
    })
    assert response.status_code == 302
    evidence = task.reports.get().evidence.get()
    assert client.get(reverse("campaigns:task_evidence", args=[evidence.pk])).status_code == 200
    client.force_login(world.users["west_officer"])
    assert client.get(reverse("campaigns:task_evidence", args=[evidence.pk])).status_code == 404


def test_csv_exports_are_safe_from_formulas(client, world, setup):
    c, _task, _west = setup
    services.create_task(actor=world.users["commander"], campaign=c,
                         title='=HYPERLINK("http://evil")', area=world.towns["east"],
                         due_on=future(4))
    services.add_responsibility(actor=world.users["commander"], campaign=c,
                                area=world.villages["baita"], duty=Duty.TERRITORIAL,
                                person_name="@SUM(A1)")
    client.force_login(world.users["commander"])
    tasks = _csv(client.get(reverse("campaigns:tasks", args=[c.pk]) + "?format=csv"))
    assert [r[0] for r in tasks if "HYPERLINK" in r[0]] == ["'=HYPERLINK(\"http://evil\")"]
    people = _csv(client.get(reverse("campaigns:responsibilities", args=[c.pk]) + "?format=csv"))
    assert people[1][3] == "'@SUM(A1)"
    for prefix in "=+-@":
        assert safe_cell(prefix + "1") == "'" + prefix + "1"
    assert safe_cell("白塔村") == "白塔村"


def test_the_task_csv_follows_the_filters_and_the_scope(client, world, setup):
    c, _task, _west = setup
    client.force_login(world.users["east_officer"])
    rows = _csv(client.get(reverse("campaigns:tasks", args=[c.pk]) + "?format=csv"))
    assert [r[0] for r in rows[1:]] == ["白塔村出租房"]
    client.force_login(world.users["commander"])
    rows = _csv(client.get(reverse("campaigns:tasks", args=[c.pk])
                           + f"?format=csv&area={world.towns['west'].code}"))
    assert [r[0] for r in rows[1:]] == ["楼塘村"]


def test_a_hazard_page_links_its_tasks_and_people(client, world, setup):
    c, task, west_task = setup
    services.add_responsibility(actor=world.users["east_officer"], campaign=c,
                                area=world.villages["baita"], duty=Duty.TERRITORIAL,
                                person_name="白塔村书记")
    items = [i for i in world.checklist_for(world.places["baita_rental"]).items.all()
             if i.severity == "general"]
    hazard = hazards.register_hazard(actor=world.users["baita_grid_worker"],
                                     place=world.places["baita_rental"], item=items[0],
                                     description="", evidence=[before_photo()])
    client.force_login(world.users["east_officer"])
    page = client.get(reverse("hazards:detail", args=[hazard.pk])).content.decode()
    assert reverse("campaigns:task", args=[task.pk]) in page
    assert reverse("campaigns:task", args=[west_task.pk]) not in page
    assert "白塔村书记" in page
    problems = client.get(reverse("campaigns:problems", args=[c.pk]) + "?format=csv")
    assert [r[0] for r in _csv(problems)[1:]] == ([hazard.number] if hazard.campaign_id else [])


def test_a_cross_draw_through_the_pages(client, world, setup):
    c, _task, _west = setup
    t = teams(world)
    client.force_login(world.users["commander"])
    response = client.post(reverse("campaigns:draw_new", args=[c.pk, "cross"]),
                           {"public_seed": "20260914", "per_town": "2", "clean_share": "30"})
    draw = Draw.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("campaigns:draw", args=[draw.pk])).content.decode()
    assert draw.seed in page and draw.inputs_hash in page
    assert not draw.assignments.exists()
    client.post(reverse("campaigns:draw_perform", args=[draw.pk]))
    draw.refresh_from_db()
    assert draw.status == "drawn"
    page = client.get(reverse("campaigns:draw", args=[draw.pk])).content.decode()
    assert (t["west"].name in page and "baita_rental" in page) or "baita" in page
    rows = _csv(client.get(reverse("campaigns:draw", args=[draw.pk]) + "?format=csv"))
    assert len(rows) == 1 + draw.assignments.count()
    # The east team's member sees its own assignments (in 西城), not 东城's.
    client.force_login(world.users["west_officer"])
    page = client.get(reverse("campaigns:draw", args=[draw.pk])).content.decode()
    assert f'data-team="{t["west"].pk}"' in page  # 东城's places, its team is 西城's
    # A second draw of the same record is refused.
    client.force_login(world.users["commander"])
    client.post(reverse("campaigns:draw_perform", args=[draw.pk]))
    assert draw.assignments.count() == 4


def test_a_draw_for_a_town_without_places_shows_the_error(client, world):
    c = campaign(world, code="HOTEL", place_kinds=["hotel"])
    teams(world)
    client.force_login(world.users["commander"])
    response = client.post(reverse("campaigns:draw_new", args=[c.pk, "cross"]),
                           {"per_town": "2", "clean_share": "30"})
    assert response.status_code == 200
    assert "东城街道" in response.content.decode()
    assert not Draw.objects.exists()


def test_the_assignee_records_a_look_back_and_the_checker_a_duty_check(client, world, setup):
    from bihuan.campaigns.models import DutyFinding
    from bihuan.campaigns.tests.test_services import _closed_hazard, _patrol

    c, _task, _west = setup
    hazard = _closed_hazard(world)
    _patrol(world, "baita_shop")
    commander = world.users["commander"]
    look_back = services.perform_draw(
        services.announce_look_back_draw(actor=commander, campaign=c, share=100),
        actor=commander)
    duty = services.perform_draw(
        services.announce_duty_draw(actor=commander, campaign=c, grids=1, per_grid=1),
        actor=commander)
    item = look_back.look_backs.get()
    url = reverse("campaigns:look_back", args=[item.pk])
    # Someone else: not found.
    client.force_login(world.users["east_officer"])
    assert client.get(url).status_code == 404
    client.force_login(item.assignee)
    assert client.get(url).status_code == 200
    response = client.post(url, {"result": "fail", "reason": "", "deadline": ""})
    assert response.status_code == 200  # a fail needs a reason: shown, nothing written
    hazard.refresh_from_db()
    assert hazard.state == "closed"
    client.post(url, {"result": "pass", "reason": "复查整改保持"})
    hazard.refresh_from_db()
    assert hazard.look_back_count == 1 and hazard.state == "closed"

    check = duty.duty_checks.get()
    client.force_login(check.checker)
    response = client.post(reverse("campaigns:duty_check", args=[check.pk]),
                           {"result": "refute", "note": "场所负责人称未见检查人员"})
    assert response.status_code == 302
    findings = client.get(reverse("campaigns:findings", args=[c.pk])).content.decode()
    assert "场所负责人称未见检查人员" in findings
    assert DutyFinding.objects.count() == 1


def test_the_list_shows_each_campaigns_status_as_the_api_gives_it(world, client):
    import datetime as dt

    from django.utils import translation

    running = campaign(world)
    ended = campaign(world, code="OLD-1", name="夏季行动", area=world.towns["east"],
                     starts_on=dt.date(2026, 6, 1), ends_on=dt.date(2026, 8, 31))
    coming = campaign(world, code="NEXT-1", name="冬季行动", area=world.towns["east"],
                      starts_on=dt.date(2026, 11, 1), ends_on=dt.date(2026, 12, 31))
    client.force_login(world.users["commander"])
    with translation.override("zh-hans"):
        page = client.get(reverse("campaigns:list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    rows = {c.code: row for c in (running, ended, coming)
            for row in page.content.decode().split("<tr") if c.code in row}
    assert "进行中" in rows["SYGJ-2026"] and "已结束" in rows["OLD-1"]
    assert "未开始" in rows["NEXT-1"]
    api = client.get("/api/campaigns/").json()["results"]
    assert {r["code"]: r["status"] for r in api} == {
        "SYGJ-2026": "running", "OLD-1": "ended", "NEXT-1": "not_started"}
