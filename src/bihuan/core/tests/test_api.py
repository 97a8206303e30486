"""The REST API: token authentication, scoping, the loop's actions, errors, idempotency."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from bihuan.audit.models import AuditEntry
from bihuan.core import clock
from bihuan.core.models import ApiToken, IdempotencyKey
from bihuan.core.tokens import create_token, hash_secret, revoke_token
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import HazardState
from bihuan.hazards.models import Evidence, Hazard, HazardEvent
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.models import Inspection
from bihuan.reports import services as report_services
from bihuan.reports.models import CitizenReport
from bihuan.testing import after_photo, before_photo, future, tiny_jpeg

pytestmark = pytest.mark.django_db

FROZEN_AT = dt.datetime(2026, 9, 14, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One persona world for the module (building it costs seconds), inside a
    transaction rolled back at the end; each test runs in its own savepoint within it
    (the ``db`` fixture), so no test sees another's writes."""
    from django.db import transaction
    from django.test.utils import override_settings

    from bihuan.testing import build_world

    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("api-media")))
    with django_db_blocker.unblock():
        media.enable()
        clock.freeze(FROZEN_AT)
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
        finally:
            clock.reset()
            media.disable()
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_module_world, db):
    from bihuan.accounts.scopes import forget_scope

    for user in _module_world.users.values():
        forget_scope(user)
    return _module_world


def _item(world, place_key="baita_rental", severity="general"):
    checklist = world.checklist_for(world.places[place_key])
    return next(i for i in checklist.items.order_by("order") if i.severity == severity)


def _hazard(world, place_key="baita_rental", actor="baita_grid_worker", **kwargs):
    return hazard_services.register_hazard(
        actor=world.users[actor], place=world.places[place_key],
        item=_item(world, place_key), description="", evidence=[before_photo()], **kwargs)


def _token_client(world, persona: str) -> tuple[Client, str]:
    _token, secret = create_token(user=world.users[persona], name="test system")
    return Client(HTTP_AUTHORIZATION=f"Token {secret}"), secret


def _session_client(world, persona: str, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(world.users[persona])
    return client


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


# ---------------------------------------------------------------- tokens


def test_a_token_is_stored_only_as_a_hash_and_shown_once(world):
    out, err = StringIO(), StringIO()
    call_command("api_token", "create", "commander", "--name", "12345 hotline",
                 stdout=out, stderr=err)
    secret = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert secret.startswith("bh_") and len(secret) > 40
    assert token.digest == hash_secret(secret)
    assert secret not in {token.digest, token.prefix, token.name}
    assert token.prefix == secret[:10]
    assert AuditEntry.objects.filter(action="api_token.create").count() == 1
    response = Client(HTTP_AUTHORIZATION=f"Token {secret}").get("/api/hazards/")
    assert response.status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/areas/").status_code == 200


def test_a_wrong_revoked_or_expired_token_is_401(world):
    client, secret = _token_client(world, "commander")
    assert client.get("/api/areas/").status_code == 200
    wrong = Client(HTTP_AUTHORIZATION="Token bh_" + "x" * 43).get("/api/areas/")
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "not_authenticated"
    assert wrong["WWW-Authenticate"] == "Token"
    token = ApiToken.objects.get(digest=hash_secret(secret))
    revoke_token(token)
    assert client.get("/api/areas/").status_code == 401
    _t, expiring = create_token(user=world.users["commander"], name="short",
                                expires_at=clock.now() + dt.timedelta(hours=1))
    late = Client(HTTP_AUTHORIZATION=f"Token {expiring}")
    assert late.get("/api/areas/").status_code == 200
    clock.advance(dt.timedelta(hours=2))
    assert late.get("/api/areas/").status_code == 401


def test_a_token_acts_with_its_users_scope(world):
    hazard = _hazard(world, "loutang_rental", "loutang_grid_worker")
    client, _secret = _token_client(world, "east_officer")
    assert client.get(f"/api/hazards/{hazard.pk}/").status_code == 404
    ids = [h["id"] for h in client.get("/api/hazards/").json()["results"]]
    assert hazard.pk not in ids


def test_a_token_client_needs_no_csrf_but_a_session_does(world):
    hazard = _hazard(world)
    body = {"reason": "重复登记", "version": hazard.version}
    browser = _session_client(world, "east_officer", csrf=True)
    refused = browser.post(f"/api/hazards/{hazard.pk}/void/", body,
                           content_type="application/json")
    assert refused.status_code == 403
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.RECTIFYING
    client, _secret = _token_client(world, "east_officer")
    done = client.post(f"/api/hazards/{hazard.pk}/void/", body, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == HazardState.VOIDED


def test_the_admin_shows_a_new_tokens_secret_once(world):
    admin = world.users["system_admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    response = client.post("/admin/core/apitoken/add/",
                           {"user": world.users["commander"].pk, "name": "police registry"},
                           follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="police registry")
    shown = [str(m) for m in response.context["messages"]]
    secret = next(re.search(r"bh_[A-Za-z0-9_-]+", m).group(0) for m in shown if "bh_" in m)
    assert hash_secret(secret) == token.digest


# ---------------------------------------------------------------- scoping


def test_out_of_scope_objects_are_404_on_every_endpoint(world):
    hazard = _hazard(world, "loutang_rental", "loutang_grid_worker")
    inspection = Inspection.objects.create(
        place=world.places["loutang_rental"], kind=InspectionKind.GRID_PATROL,
        checklist=world.checklist_for(world.places["loutang_rental"]),
        inspector=world.users["loutang_grid_worker"], started_at=clock.now())
    report = report_services.file_report(description="楼道堆满杂物",
                                         town=world.towns["west"], client_ip="10.0.0.9")
    party = world.parties["no_login"]  # its places: baita2_workshop, loutang_hotel
    client = _session_client(world, "baita_grid_worker")
    for url in [f"/api/hazards/{hazard.pk}/", f"/api/inspections/{inspection.pk}/",
                f"/api/reports/{report.pk}/",
                f"/api/places/{world.places['loutang_rental'].pk}/",
                f"/api/parties/{party.pk}/", "/api/hazards/abc/", "/api/reports/0/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url
    before = (HazardEvent.objects.count(), AuditEntry.objects.count())
    from bihuan.hazards.api.views import HazardViewSet

    actions = HazardViewSet.get_extra_actions()
    assert len(actions) >= 20
    for action in actions:
        url = f"/api/hazards/{hazard.pk}/{action.url_path}/"
        if "post" in action.mapping:
            response = client.post(url, {"version": hazard.version, "reason": "x",
                                         "action": "void"}, content_type="application/json")
        else:
            response = client.get(url)
        assert response.status_code == 404, action.url_path
    for action in ["accept", "dismiss", "duplicate"]:
        response = client.post(f"/api/reports/{report.pk}/{action}/",
                               {"reason": "x", "place": world.places["baita_rental"].pk,
                                "of": report.pk}, content_type="application/json")
        assert response.status_code == 404, action
    assert (HazardEvent.objects.count(), AuditEntry.objects.count()) == before
    # In scope, the same lists answer with their own objects only.
    places = [p["id"] for p in client.get("/api/places/").json()["results"]]
    assert sorted(places) == sorted([world.places["baita_rental"].pk,
                                     world.places["baita_shop"].pk])
    assert client.get("/api/reports/").json()["results"] == []


def test_the_hazard_list_takes_the_ui_filters(world):
    open_one = _hazard(world)
    closed = _hazard(world, "baita_shop")
    hazard_services.submit_rectification(closed, actor=world.users["shopkeeper"],
                                         evidence=[after_photo(3)])
    hazard_services.pass_verification(closed, actor=world.users["east_officer"])
    client, _secret = _token_client(world, "commander")  # outlives the clock's jump

    def ids(query: str) -> set[int]:
        return {h["id"] for h in client.get(f"/api/hazards/?{query}").json()["results"]}

    assert ids("state=closed") == {closed.pk}
    assert ids("state=rectifying") == {open_one.pk}
    assert ids(f"place={open_one.place_id}") == {open_one.pk}
    assert ids("area=330784002000") == set()
    assert ids("overdue=false") == {open_one.pk, closed.pk}
    clock.advance(dt.timedelta(days=60))
    assert ids("overdue=true") == {open_one.pk}
    response = client.get("/api/hazards/?state=nonsense")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["field"] == "state"


def test_parties_show_the_phone_masked(world):
    client = _session_client(world, "baita_grid_worker")
    rows = client.get("/api/parties/").json()["results"]
    landlord = next(r for r in rows if r["id"] == world.parties["landlord"].pk)
    assert landlord["phone"] == "138****0001"
    assert landlord["places"] == [world.places["baita_rental"].pk]


# ---------------------------------------------------------------- the loop over the API


def test_the_whole_loop_over_the_api(world):
    hazard = _hazard(world)
    landlord = _session_client(world, "landlord")
    officer = _session_client(world, "east_officer")
    response = landlord.post(f"/api/hazards/{hazard.pk}/submit-rectification/",
                             {"version": 1, "note": "已清理",
                              "photos": [{"content": _b64(tiny_jpeg(5))}]},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == HazardState.PENDING_VERIFICATION
    assert response.json()["version"] == 2
    response = officer.post(f"/api/hazards/{hazard.pk}/verify-pass/", {"version": 2},
                            content_type="application/json")
    assert response.json()["state"] == HazardState.CLOSED
    other = _session_client(world, "east_officer_2")
    response = other.post(f"/api/hazards/{hazard.pk}/look-back-fail/",
                          {"version": 3, "reason": "又发现", "deadline": str(future(5))},
                          content_type="application/json")
    assert response.json()["state"] == HazardState.RECTIFYING
    events = officer.get(f"/api/hazards/{hazard.pk}/events/").json()
    assert [e["action"] for e in events] == ["register", "submit_rectification",
                                             "verify_pass", "look_back_fail"]
    evidence = officer.get(f"/api/hazards/{hazard.pk}/evidence/").json()
    assert [e["kind"] for e in evidence] == ["before", "after"]
    assert officer.get(evidence[1]["url"]).status_code == 200


def test_rectification_photos_may_come_as_multipart_files(world):
    hazard = _hazard(world)
    landlord = _session_client(world, "landlord")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = landlord.post(f"/api/hazards/{hazard.pk}/submit-rectification/", {
        "version": "1", "note": "已整改",
        "files": [SimpleUploadedFile("a.jpg", tiny_jpeg(7), "image/jpeg"),
                  SimpleUploadedFile("b.jpg", tiny_jpeg(8), "image/jpeg")],
    })
    assert response.status_code == 200, response.content
    assert Evidence.objects.filter(hazard=hazard, kind="after").count() == 2


def test_extensions_over_the_api(world):
    hazard = _hazard(world)
    landlord = _session_client(world, "landlord")
    officer = _session_client(world, "east_officer")
    wanted = hazard.deadline + dt.timedelta(days=20)
    response = landlord.post(f"/api/hazards/{hazard.pk}/request-extension/",
                             {"version": 1, "reason": "等材料",
                              "requested_deadline": str(wanted)},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    response = officer.post(f"/api/hazards/{hazard.pk}/approve-extension/", {"version": 2},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["deadline"] == str(wanted)
    rows = officer.get(f"/api/hazards/{hazard.pk}/extensions/").json()
    assert [r["status"] for r in rows] == ["approved"]


def test_a_stale_version_is_409_with_a_translated_message_and_writes_nothing(world):
    hazard = _hazard(world)
    officer = _session_client(world, "east_officer")
    hazard_services.hand_over_to_enforcement(hazard, actor=world.users["commander"],
                                             reason="拒不整改")
    hazard.refresh_from_db()
    before = (hazard.version, HazardEvent.objects.count(), AuditEntry.objects.count())
    response = officer.post(f"/api/hazards/{hazard.pk}/void/",
                            {"version": 1, "reason": "重复登记"},
                            content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["detail"]
    english = officer.post(f"/api/hazards/{hazard.pk}/void/",
                           {"version": 1, "reason": "重复登记"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == ("Someone else changed this record at the same time. "
                                        "Reload it and try again.")
    hazard.refresh_from_db()
    assert (hazard.version, HazardEvent.objects.count(), AuditEntry.objects.count()) == before
    fresh = officer.post(f"/api/hazards/{hazard.pk}/void/",
                         {"version": hazard.version, "reason": "重复登记"},
                         content_type="application/json")
    assert fresh.status_code == 200


def test_two_verifiers_with_the_same_version_one_wins_one_gets_409(world):
    hazard = _hazard(world)
    hazard_services.submit_rectification(hazard, actor=world.users["landlord"],
                                         evidence=[after_photo(1)])
    first = _session_client(world, "east_officer").post(
        f"/api/hazards/{hazard.pk}/verify-pass/", {"version": 2},
        content_type="application/json")
    second = _session_client(world, "commander").post(
        f"/api/hazards/{hazard.pk}/verify-fail/",
        {"version": 2, "reason": "不合格", "deadline": str(future(3))},
        content_type="application/json")
    assert (first.status_code, second.status_code) == (200, 409)
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.CLOSED


def test_refusals_share_one_error_shape(world):
    hazard = _hazard(world)
    officer = _session_client(world, "east_officer")
    grid = _session_client(world, "baita_grid_worker")
    missing = officer.post(f"/api/hazards/{hazard.pk}/void/", {"reason": "x"},
                           content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "invalid" and missing.json()["field"] == "version"
    assert "version" in missing.json()["errors"]
    wrong_state = officer.post(f"/api/hazards/{hazard.pk}/verify-pass/", {"version": 1},
                               content_type="application/json")
    assert wrong_state.status_code == 409
    assert wrong_state.json()["code"] == "transition_not_allowed"
    forbidden = grid.post(f"/api/hazards/{hazard.pk}/void/", {"version": 1, "reason": "x"},
                          content_type="application/json")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"
    anonymous = Client().get("/api/hazards/")
    assert anonymous.status_code == 401
    assert set(anonymous.json()) == {"code", "detail"}
    assert Hazard.objects.get(pk=hazard.pk).version == 1


def test_registering_a_hazard_over_the_api(world):
    item = _item(world)
    client = _session_client(world, "baita_grid_worker")
    response = client.post("/api/hazards/", {
        "place": world.places["baita_rental"].pk, "item_code": item.code,
        "photos": [{"content": _b64(tiny_jpeg(2)), "kind": "before"}],
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    hazard = Hazard.objects.get(pk=response.json()["id"])
    assert hazard.state == HazardState.RECTIFYING and hazard.code == item.code
    refused = client.post("/api/hazards/", {"place": world.places["loutang_rental"].pk,
                                            "description": "x"},
                          content_type="application/json")
    assert refused.status_code == 404


def test_reports_are_triaged_over_the_api(world):
    report = report_services.file_report(description="楼道电动车充电",
                                         town=world.towns["east"], client_ip="10.0.0.7")
    cadre = _session_client(world, "baita_cadre")
    officer = _session_client(world, "east_officer")
    rows = officer.get("/api/reports/?status=new").json()["results"]
    assert [r["ticket"] for r in rows] == [report.ticket]
    assert cadre.get(f"/api/reports/{report.pk}/").status_code == 404  # town-level report
    response = officer.post(f"/api/reports/{report.pk}/accept/",
                            {"place": world.places["baita_rental"].pk},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == HazardState.REPORTED
    assert CitizenReport.objects.get(pk=report.pk).status == "accepted"
    again = officer.post(f"/api/reports/{report.pk}/dismiss/", {"reason": "x"},
                         content_type="application/json")
    assert again.status_code == 409


# ---------------------------------------------------------------- inspections


def _inspection_body(world, place_key="baita_rental", **extra):
    place = world.places[place_key]
    checklist = world.checklist_for(place)
    item = _item(world, place_key)
    body = {
        "place": place.pk, "kind": InspectionKind.GRID_PATROL, "checklist": checklist.pk,
        "results": {item.code: "fail"},
        "findings": [{"item_code": item.code, "description": "楼道堆放杂物",
                      "deadline": str(future(10)),
                      "photos": [{"content": _b64(tiny_jpeg(3)), "kind": "before"}]}],
        "client_key": str(uuid.uuid4()),
    }
    body.update(extra)
    return body


def test_an_inspection_is_submitted_as_json(world):
    client = _session_client(world, "baita_grid_worker")
    response = client.post("/api/inspections/", _inspection_body(world),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    inspection = Inspection.objects.get(pk=body["id"])
    assert body["notice_number"] and len(body["hazards"]) == 1
    assert Hazard.objects.get(pk=body["hazards"][0]).inspection_id == inspection.pk
    assert Evidence.objects.filter(hazard_id=body["hazards"][0], kind="before").count() == 1


def test_an_inspection_is_submitted_as_multipart_with_photo_files(world):
    import json

    from django.core.files.uploadedfile import SimpleUploadedFile

    body = _inspection_body(world)
    finding = body["findings"][0]
    finding["photos"] = []
    finding["files"] = ["before1"]
    client = _session_client(world, "baita_grid_worker")
    response = client.post("/api/inspections/", {
        "place": body["place"], "kind": body["kind"], "checklist": body["checklist"],
        "results": json.dumps(body["results"]), "findings": json.dumps(body["findings"]),
        "client_key": body["client_key"],
        "before1": SimpleUploadedFile("b.jpg", tiny_jpeg(9), "image/jpeg"),
    })
    assert response.status_code == 201, response.content
    assert Evidence.objects.filter(hazard_id=response.json()["hazards"][0]).count() == 1


def test_an_inspection_out_of_scope_or_invalid_writes_nothing(world):
    client = _session_client(world, "baita_grid_worker")
    response = client.post("/api/inspections/", _inspection_body(world, "loutang_rental"),
                           content_type="application/json")
    assert response.status_code == 404
    response = client.post("/api/inspections/",
                           _inspection_body(world, results={"NOPE-1": "fail"}),
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == "findings" or response.json()["field"] == "results"
    broken = _inspection_body(world)
    broken["findings"][0]["photos"][0]["content"] = "not base64!"
    response = client.post("/api/inspections/", broken, content_type="application/json")
    assert response.status_code == 400
    assert not Inspection.objects.exists() and not Hazard.objects.exists()


# ---------------------------------------------------------------- idempotency


def test_a_retried_transition_with_the_same_key_returns_the_first_answer(world):
    hazard = _hazard(world)
    client, _secret = _token_client(world, "east_officer")
    body = {"reason": "拒不整改", "version": 1}
    first = client.post(f"/api/hazards/{hazard.pk}/hand-over/", body,
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    events = HazardEvent.objects.count()
    again = client.post(f"/api/hazards/{hazard.pk}/hand-over/", body,
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert HazardEvent.objects.count() == events
    # The same key for another request: refused, nothing written.
    other = client.post(f"/api/hazards/{hazard.pk}/void/", {"reason": "x", "version": 2},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert HazardEvent.objects.count() == events
    # Without a key, a retry is a new request (and here a stale one).
    assert client.post(f"/api/hazards/{hazard.pk}/hand-over/", body,
                       content_type="application/json").status_code == 409


def test_a_refusal_is_replayed_too_and_keys_expire_after_a_day(world):
    hazard = _hazard(world)
    client, _secret = _token_client(world, "east_officer")  # outlives the clock's jump
    stale = {"reason": "x", "version": 7}
    first = client.post(f"/api/hazards/{hazard.pk}/void/", stale,
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="day-1")
    assert first.status_code == 409
    assert client.post(f"/api/hazards/{hazard.pk}/void/", stale,
                       content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="day-1")["Idempotent-Replayed"] == "true"
    clock.advance(dt.timedelta(hours=25))
    fresh = client.post(f"/api/hazards/{hazard.pk}/void/", stale,
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="day-1")
    assert fresh.status_code == 409 and not fresh.has_header("Idempotent-Replayed")
    assert IdempotencyKey.objects.filter(key="day-1").count() == 1


def test_keys_of_different_users_never_meet(world):
    hazard = _hazard(world)
    body = {"reason": "拒不整改", "version": 1}
    first = _session_client(world, "east_officer").post(
        f"/api/hazards/{hazard.pk}/hand-over/", body, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="shared")
    second = _session_client(world, "commander").post(
        f"/api/hazards/{hazard.pk}/hand-over/", body, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="shared")
    assert first.status_code == 200
    assert second.status_code == 409  # a fresh request: its version is stale now
    assert not second.has_header("Idempotent-Replayed")


def test_a_multipart_retry_with_a_new_boundary_is_the_same_request(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    hazard = _hazard(world)
    client = _session_client(world, "landlord")

    def send(boundary_seed: int):
        return client.post(f"/api/hazards/{hazard.pk}/submit-rectification/",
                           {"version": "1", "note": "已整改",
                            "files": [SimpleUploadedFile(f"{boundary_seed}.jpg", tiny_jpeg(4),
                                                         "image/jpeg")]},
                           HTTP_IDEMPOTENCY_KEY="mp-1")

    assert send(1).status_code == 200
    replay = send(2)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert Evidence.objects.filter(hazard=hazard, kind="after").count() == 1
