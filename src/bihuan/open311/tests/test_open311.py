"""A client following GeoReport v2: list services, post a request, read its status back."""

from __future__ import annotations

import json

import pytest
from defusedxml import ElementTree as SafeET
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bihuan.core.tokens import create_token
from bihuan.hazards import services as hazard_services
from bihuan.reports import services as report_services
from bihuan.reports.models import CitizenReport
from bihuan.testing import tiny_jpeg

pytestmark = pytest.mark.django_db

# One persona world for the module, each test in its own savepoint (see test_api).
from bihuan.core.tests.test_api import _module_world  # noqa: E402, F401


@pytest.fixture
def world(_module_world, db):  # noqa: F811 - the module's world, not conftest's
    return _module_world

BASE = "/open311/v2"


def _xml(response):
    assert response["Content-Type"].startswith("application/xml"), response["Content-Type"]
    return SafeET.fromstring(response.content)


def test_a_georeport_client_lists_services_posts_and_follows_in_json(world):
    client = Client(REMOTE_ADDR="10.1.1.1")
    services = client.get(f"{BASE}/services.json?jurisdiction_id=yongkang").json()
    codes = [s["service_code"] for s in services]
    assert "blocked-exit" in codes
    assert set(services[0]) == {"service_code", "service_name", "description", "metadata",
                                "type", "keywords", "group"}
    assert services[0]["metadata"] is False
    definition = client.get(f"{BASE}/services/blocked-exit.json").json()
    assert definition == {"service_code": "blocked-exit", "attributes": []}

    # The city's area data has town centres: a point near one is located to it.
    posted = client.post(f"{BASE}/requests.json", {
        "jurisdiction_id": "yongkang", "service_code": "blocked-exit",
        "lat": "28.9001", "long": "120.0401", "description": "消防通道被锁",
        "email": "a@example.cn",
    })
    assert posted.status_code == 201, posted.content
    [created] = posted.json()
    ticket = created["service_request_id"]
    report = CitizenReport.objects.get(ticket=ticket)
    assert report.description.endswith("消防通道被锁")
    assert report.contact == "a@example.cn"

    [status] = client.get(f"{BASE}/requests/{ticket}.json").json()
    assert status["service_request_id"] == ticket
    assert status["status"] == "open"
    assert status["service_code"] == "blocked-exit"
    assert status["description"] == "消防通道被锁"
    # Never the contact, the reporter's place description or a precise point.
    assert "a@example.cn" not in json.dumps(status, ensure_ascii=False)
    assert "lat" not in status and "long" not in status

    # The town accepts it and closes the hazard: the client reads "closed".
    officer = world.users["east_officer"]
    report.area = world.villages["baita"]
    report.save(update_fields=["area"])
    hazard = report_services.triage_accept(actor=officer, report=report,
                                           place=world.places["baita_rental"])
    hazard_services.dismiss_report(hazard, actor=officer, reason="已核实不存在")
    [status] = client.get(f"{BASE}/requests/{ticket}.json").json()
    assert status["status"] == "closed"
    [listed] = client.get(f"{BASE}/requests.json?service_request_id={ticket}").json()
    assert listed["status"] == "closed"


def test_the_same_conversation_in_xml(world):
    client = Client(REMOTE_ADDR="10.1.1.2")
    root = _xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert "ebike-charging" in codes
    definition = _xml(client.get(f"{BASE}/services/ebike-charging.xml"))
    assert definition.tag == "service_definition"
    assert definition.find("attributes") is not None
    posted = client.post(f"{BASE}/requests.xml", {
        "service_code": "ebike-charging", "address_string": "东城街道白塔村3号楼道",
        "description": "楼道里电动车充电", "phone": "13812345678",
        "media": SimpleUploadedFile("p.jpg", tiny_jpeg(1), "image/jpeg"),
    })
    assert posted.status_code == 201, posted.content
    root = _xml(posted)
    assert root.tag == "service_requests"
    ticket = root.find("request").findtext("service_request_id")
    report = CitizenReport.objects.get(ticket=ticket)
    assert report.area == world.towns["east"] and report.photo
    status = _xml(client.get(f"{BASE}/requests/{ticket}.xml")).find("request")
    assert status.findtext("status") == "open"
    assert status.findtext("address") == "东城街道"
    assert status.findtext("media_url").endswith(f"/report/{ticket}/photo/")


def test_errors_use_the_specifications_format(world):
    client = Client(REMOTE_ADDR="10.1.1.3")
    missing = client.get(f"{BASE}/requests/YK-AAAAAAAA.json")
    assert missing.status_code == 404
    assert set(missing.json()[0]) == {"code", "description"}
    assert missing.json()[0]["code"] == 404
    bad = client.post(f"{BASE}/requests.xml", {"service_code": "nope", "description": "x",
                                               "lat": "28.9", "long": "120.04"})
    assert bad.status_code == 400
    root = _xml(bad)
    assert root.tag == "errors" and root.find("error").findtext("code") == "400"
    nowhere = client.post(f"{BASE}/requests.json", {"service_code": "wiring",
                                                    "description": "电线老化"})
    assert nowhere.status_code == 400
    assert client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere").status_code == 404
    assert client.get(f"{BASE}/requests.json").status_code == 403  # listing needs a key
    bad_key = client.post(f"{BASE}/requests.json", {"api_key": "bh_wrong"})
    assert bad_key.status_code == 403
    assert not CitizenReport.objects.exists()


def test_posts_are_rate_limited_like_the_public_form(world, settings):
    settings.BIHUAN_REPORTS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="10.1.1.4")
    body = {"service_code": "fire-hazard", "description": "堆放易燃物",
            "address_string": "西城街道"}
    codes = [client.post(f"{BASE}/requests.json", body).status_code for _ in range(3)]
    assert codes == [201, 201, 400]
    assert CitizenReport.objects.count() == 2


def test_a_retried_post_with_an_idempotency_key_files_one_report(world):
    # A civic client has no cookie and no CSRF token: the endpoint does not ask for one.
    client = Client(REMOTE_ADDR="10.1.1.5", enforce_csrf_checks=True)
    body = {"service_code": "fire-hazard", "description": "仓库住人",
            "address_string": "西城街道楼塘村"}
    first = client.post(f"{BASE}/requests.json", body, HTTP_IDEMPOTENCY_KEY="r-1")
    again = client.post(f"{BASE}/requests.json", body, HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content and again["Idempotent-Replayed"] == "true"
    assert CitizenReport.objects.count() == 1


def test_a_system_with_an_api_key_lists_the_reports_of_its_scope(world, settings):
    settings.BIHUAN_OPEN311_REQUIRE_API_KEY = True
    _t, east_key = create_token(user=world.users["east_officer"], name="east app")
    anonymous = Client(REMOTE_ADDR="10.1.1.6")
    refused = anonymous.post(f"{BASE}/requests.json",
                             {"service_code": "wiring", "description": "电线老化",
                              "address_string": "东城街道"})
    assert refused.status_code == 400
    east = anonymous.post(f"{BASE}/requests.json",
                          {"api_key": east_key, "service_code": "wiring",
                           "description": "电线老化", "address_string": "东城街道"})
    assert east.status_code == 201
    report_services.file_report(description="西城的报告", town=world.towns["west"],
                                client_ip="10.9.9.9")
    listed = anonymous.get(f"{BASE}/requests.json?api_key={east_key}&status=open").json()
    assert [r["service_request_id"] for r in listed] == [east.json()[0]["service_request_id"]]
    assert anonymous.get(f"{BASE}/requests.json?api_key={east_key}&status=closed").json() == []
