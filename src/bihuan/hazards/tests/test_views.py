"""The office pages of the hazard loop: inbox, list, a hazard's page and its transitions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from bihuan.audit.models import AuditEntry
from bihuan.campaigns.models import Campaign
from bihuan.core import clock
from bihuan.hazards import services
from bihuan.hazards import views as hazard_views
from bihuan.hazards.choices import ExtensionStatus, HazardState, Severity
from bihuan.hazards.models import Evidence, ExtensionRequest, Hazard, HazardEvent
from bihuan.testing import after_photo, before_photo, future, tiny_jpeg

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HAZARD_LINK = re.compile(r'href="/hazards/(\d+)/"')


def _register(world, *, place="baita_rental", actor="baita_grid_worker", severity="general",
              **kwargs):
    place_obj = world.places[place]
    items = [i for i in world.checklist_for(place_obj).items.all() if i.severity == severity]
    item = items[kwargs.pop("item_index", 0)]
    return services.register_hazard(actor=world.users[actor], place=place_obj, item=item,
                                     description="", evidence=[before_photo()], **kwargs)


# Who submits the rectification of a hazard at each place (its party, or a cadre).
RECTIFIER = {"baita_rental": "landlord", "baita_shop": "shopkeeper",
             "baita2_workshop": "baita_cadre", "wujin_market": "shopkeeper",
             "loutang_rental": "landlord", "loutang_hotel": "loutang_grid_worker"}


def _pending(world, *, seed=1, **kwargs):
    hazard = _register(world, **kwargs)
    submitter = world.users[RECTIFIER[kwargs.get("place", "baita_rental")]]
    return services.submit_rectification(hazard, actor=submitter, evidence=[after_photo(seed)])


def _as(client, world, persona):
    client.force_login(world.users[persona])
    return client


def _listed_ids(response) -> list[int]:
    assert response.status_code == 200
    ids = [int(pk) for pk in HAZARD_LINK.findall(response.content.decode())]
    return list(dict.fromkeys(ids))


def _written(hazard) -> tuple[int, int, int]:
    return (HazardEvent.objects.filter(hazard=hazard).count(),
            AuditEntry.objects.filter(object_type="hazards.hazard",
                                      object_id=str(hazard.pk)).count(),
            Hazard.objects.get(pk=hazard.pk).version)


# ---------------------------------------------------------------- the list


def test_each_list_filter_narrows_to_exactly_its_hazards(client, world):
    u = world.users
    campaign = Campaign.objects.create(code="C1", name="双月攻坚", area=world.city,
                                       starts_on=clock.today(), ends_on=future(60))
    # An early one, registered a week ago with a deadline that has passed since.
    with clock.frozen_at(clock.now() - dt.timedelta(days=7)):
        early = _register(world, deadline=clock.today() + dt.timedelta(days=2))
    rental = _register(world, campaign=campaign, item_index=1)
    market = _register(world, place="wujin_market", actor="east_officer")
    on_spot = _register(world, place="baita_shop", severity="on_the_spot")
    west = _register(world, place="loutang_hotel", actor="loutang_grid_worker")
    pending = services.submit_rectification(rental, actor=u["landlord"],
                                            evidence=[after_photo(2)])
    services.list_supervision(market, actor=u["east_officer"], level="town",
                              document_number="东城督〔2026〕1号", responsible_person="王某",
                              deadline=future(20))
    everything = {early.pk, rental.pk, market.pk, on_spot.pk, west.pk}
    c = _as(client, world, "commander")
    assert set(_listed_ids(c.get("/hazards/"))) == everything

    def only(**params):
        return set(_listed_ids(c.get("/hazards/", params)))

    assert only(area=world.villages["baita"].code) == {early.pk, rental.pk, on_spot.pk}
    assert only(area=world.towns["west"].code) == {west.pk}
    assert only(place_kind="market") == {market.pk}
    assert only(code=market.code) == {h.pk for h in Hazard.objects.filter(code=market.code)}
    assert only(severity=Severity.ON_THE_SPOT) == {on_spot.pk}
    assert only(state=[HazardState.PENDING_VERIFICATION]) == {pending.pk}
    assert only(state=[HazardState.PENDING_VERIFICATION, HazardState.RECTIFYING]) == everything
    assert only(overdue="true") == {early.pk}
    assert only(overdue="false") == everything - {early.pk}
    assert only(supervision_level="town") == {market.pk}
    assert only(campaign=campaign.pk) == {rental.pk}
    assert only(registered_before=(clock.today() - dt.timedelta(days=1)).isoformat()) == {
        early.pk}
    assert only(registered_after=clock.today().isoformat()) == everything - {early.pk}
    assert only(place=world.places["wujin_market"].pk) == {market.pk}


def test_the_list_shows_only_the_users_scope(client, world):
    east = _register(world)
    west = _register(world, place="loutang_hotel", actor="loutang_grid_worker")
    assert _listed_ids(_as(client, world, "west_officer").get("/hazards/")) == [west.pk]
    # Asking for another town's area gives nothing, not that town's hazards.
    response = client.get("/hazards/", {"area": world.towns["east"].code})
    assert east.pk not in _listed_ids(response)


def test_page_two_follows_the_cursor_without_overlap(client, world, monkeypatch):
    monkeypatch.setattr(hazard_views, "PAGE_SIZE", 3)
    # Registered in the same frozen instant: the id breaks the tie.
    hazards = [_register(world, item_index=i % 3) for i in range(7)]
    c = _as(client, world, "east_officer")
    first = c.get("/hazards/")
    page1 = _listed_ids(first)
    assert page1 == sorted((h.pk for h in hazards), reverse=True)[:3]
    next_url = first.context["next_url"]
    assert first.context["previous_url"] is None
    second = c.get("/hazards/" + next_url)
    page2 = _listed_ids(second)
    assert len(page2) == 3 and not set(page1) & set(page2)
    third = c.get("/hazards/" + second.context["next_url"])
    page3 = _listed_ids(third)
    assert third.context["next_url"] is None
    assert page1 + page2 + page3 == sorted((h.pk for h in hazards), reverse=True)
    back = c.get("/hazards/" + second.context["previous_url"])
    assert _listed_ids(back) == page1
    assert back.context["previous_url"] is None


def test_the_cursor_keeps_the_filters(client, world, monkeypatch):
    monkeypatch.setattr(hazard_views, "PAGE_SIZE", 2)
    for i in range(3):
        _register(world, item_index=i)
    for _ in range(2):
        _register(world, place="wujin_market", actor="east_officer")
    c = _as(client, world, "east_officer")
    first = c.get("/hazards/", {"place_kind": "rental_house"})
    assert "place_kind=rental_house" in first.context["next_url"]
    second = c.get("/hazards/" + first.context["next_url"])
    rentals = set(Hazard.objects.filter(place_kind="rental_house").values_list("pk", flat=True))
    assert set(_listed_ids(first)) | set(_listed_ids(second)) == rentals


def test_a_garbled_cursor_shows_the_first_page(client, world):
    hazard = _register(world)
    response = _as(client, world, "east_officer").get("/hazards/", {"cursor": "!!garbage"})
    assert _listed_ids(response) == [hazard.pk]


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_many_rows(client, world):
    c = _as(client, world, "east_officer")
    params = {"state": ["rectifying"], "overdue": "false"}
    _register(world)
    _register(world, place="wujin_market", actor="east_officer")
    c.get("/hazards/")
    few = _queries(c, "/hazards/", params)
    for i in range(12):
        _register(world, place="baita_rental" if i % 2 else "wujin_market",
                  actor="east_officer", item_index=i % 3)
    with CaptureQueriesContext(connection) as queries:
        response = c.get("/hazards/", params)
    assert len(_listed_ids(response)) == 14
    # Session, user, scope, the area and campaign choices, the page: nothing per row.
    assert len(queries) == few <= 8
    page_query = queries.captured_queries[-1]["sql"]
    assert "LIMIT" in page_query and "OFFSET" not in page_query
    assert "DISTINCT" not in page_query


# ---------------------------------------------------------------- a hazard's page


def test_the_hazard_page_shows_its_whole_timeline_with_photos(client, world):
    u = world.users
    hazard = _pending(world)
    hazard = services.pass_verification(hazard, actor=u["east_officer"], note="已整改到位")
    c = _as(client, world, "east_officer_2")
    response = c.get(f"/hazards/{hazard.pk}/", **EN)
    html = response.content.decode()
    assert response.status_code == 200
    positions = [html.index(label) for label in
                 ("Registered", "Rectification submitted", "Verified and closed")]
    assert positions == sorted(positions)
    assert "已整改到位" in html
    assert "Pending verification → Closed" in html
    for evidence in Evidence.objects.filter(hazard=hazard):
        assert reverse("hazards:evidence", args=[evidence.pk]) in html
    assert hazard.place.party.masked_phone in html
    assert hazard.place.party.phone not in html
    # The closer's colleague may look back; the page offers exactly that.
    assert reverse("hazards:transition", args=[hazard.pk, "look_back_pass"]) in html
    assert reverse("hazards:transition", args=[hazard.pk, "void"]) not in html


def test_the_detail_page_offers_only_what_the_user_may_do_now(client, world):
    hazard = _register(world)
    html = _as(client, world, "landlord").get(f"/hazards/{hazard.pk}/").content.decode()
    assert reverse("hazards:transition", args=[hazard.pk, "submit_rectification"]) in html
    assert reverse("hazards:transition", args=[hazard.pk, "request_extension"]) in html
    assert reverse("hazards:transition", args=[hazard.pk, "void"]) not in html
    html = _as(client, world, "east_officer").get(f"/hazards/{hazard.pk}/").content.decode()
    assert reverse("hazards:transition", args=[hazard.pk, "void"]) in html
    assert reverse("hazards:transition", args=[hazard.pk, "submit_rectification"]) not in html
    assert reverse("hazards:transition", args=[hazard.pk, "approve_extension"]) not in html


@pytest.mark.parametrize("persona", ["west_officer", "shopkeeper", "citizen", "system_admin",
                                     "market_inspector"])
def test_out_of_scope_is_404_on_every_hazard_url(client, world, persona):
    hazard = _pending(world)
    evidence = Evidence.objects.filter(hazard=hazard).first()
    c = _as(client, world, persona)
    before = _written(hazard)
    assert c.get(f"/hazards/{hazard.pk}/").status_code == 404
    assert c.get(f"/hazards/{hazard.pk}/do/void/").status_code == 404
    assert c.get(f"/hazards/{hazard.pk}/do/verify_pass/").status_code == 404
    response = c.post(f"/hazards/{hazard.pk}/do/verify_pass/",
                      {"expected_version": hazard.version})
    assert response.status_code == 404
    assert c.get(f"/hazards/evidence/{evidence.pk}/").status_code == 404
    assert _written(hazard) == before


def test_an_absent_hazard_and_an_unknown_action_are_404(client, world):
    hazard = _register(world)
    c = _as(client, world, "east_officer")
    assert c.get("/hazards/999999/").status_code == 404
    assert c.get(f"/hazards/{hazard.pk}/do/explode/").status_code == 404
    assert c.get(f"/hazards/{hazard.pk}/do/register/").status_code == 404


def test_pages_need_a_login(client, world):
    hazard = _register(world)
    for url in ("/hazards/", f"/hazards/{hazard.pk}/", f"/hazards/{hazard.pk}/do/void/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_evidence_is_streamed_privately_to_whoever_sees_the_hazard(client, world):
    hazard = _register(world)
    evidence = Evidence.objects.get(hazard=hazard)
    response = _as(client, world, "landlord").get(f"/hazards/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == before_photo().content


# ---------------------------------------------------------------- transitions


def test_the_party_submits_a_rectification_with_an_uploaded_photo(client, world):
    hazard = _register(world)
    c = _as(client, world, "landlord")
    form = c.get(f"/hazards/{hazard.pk}/do/submit_rectification/")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.content.decode()
    photo = SimpleUploadedFile("after.jpg", tiny_jpeg(9), content_type="image/jpeg")
    response = c.post(f"/hazards/{hazard.pk}/do/submit_rectification/",
                      {"expected_version": hazard.version, "evidence": photo,
                       "reason": "已清理楼道"})
    assert response.status_code == 302
    assert response["Location"] == f"/hazards/{hazard.pk}/"
    hazard.refresh_from_db()
    assert hazard.state == HazardState.PENDING_VERIFICATION
    after = Evidence.objects.get(hazard=hazard, kind="after")
    assert after.event.action == "submit_rectification"
    assert after.sha256 and after.content_type == "image/jpeg"
    assert hazard.events.get(action="submit_rectification").reason == "已清理楼道"


def test_a_submission_without_a_photo_or_with_a_non_image_writes_nothing(client, world):
    hazard = _register(world)
    c = _as(client, world, "landlord")
    before = _written(hazard)
    response = c.post(f"/hazards/{hazard.pk}/do/submit_rectification/",
                      {"expected_version": hazard.version}, **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"]
    fake = SimpleUploadedFile("after.jpg", b"not a photo at all", content_type="image/jpeg")
    response = c.post(f"/hazards/{hazard.pk}/do/submit_rectification/",
                      {"expected_version": hazard.version, "evidence": fake}, **EN)
    assert response.status_code == 200
    assert "Only photos" in str(response.context["form"].errors["evidence"])
    assert _written(hazard) == before
    assert not Evidence.objects.filter(hazard=hazard, kind="after").exists()


def test_a_town_officer_passes_verification(client, world):
    hazard = _pending(world)
    c = _as(client, world, "east_officer")
    response = c.post(f"/hazards/{hazard.pk}/do/verify_pass/",
                      {"expected_version": hazard.version, "reason": "复查合格"}, follow=True)
    assert response.status_code == 200
    hazard.refresh_from_db()
    assert hazard.state == HazardState.CLOSED
    assert hazard.closed_by == world.users["east_officer"]
    assert any("Verified and closed" in str(m) or "销号" in str(m)
               for m in response.context["messages"])


def test_failing_verification_without_a_reason_is_a_form_error_and_writes_nothing(client,
                                                                                   world):
    hazard = _pending(world)
    c = _as(client, world, "east_officer")
    before = _written(hazard)
    response = c.post(f"/hazards/{hazard.pk}/do/verify_fail/",
                      {"expected_version": hazard.version, "reason": "  ",
                       "deadline": future(5).isoformat()}, **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert _written(hazard) == before
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.PENDING_VERIFICATION


def test_a_service_refusal_is_shown_on_the_form(client, world):
    hazard = _pending(world)
    c = _as(client, world, "east_officer")
    before = _written(hazard)
    response = c.post(f"/hazards/{hazard.pk}/do/verify_fail/",
                      {"expected_version": hazard.version, "reason": "仍堆放杂物",
                       "deadline": (clock.today() - dt.timedelta(days=1)).isoformat()}, **EN)
    assert response.status_code == 200
    assert "must not be in the past" in str(response.context["form"].errors["deadline"])
    assert _written(hazard) == before
    response = c.post(f"/hazards/{hazard.pk}/do/verify_fail/",
                      {"expected_version": hazard.version, "reason": "仍堆放杂物",
                       "deadline": future(5).isoformat()})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.RECTIFYING and hazard.deadline == future(5)


def test_the_party_requests_an_extension_and_the_officer_approves_it(client, world):
    hazard = _register(world)
    wanted = hazard.deadline + dt.timedelta(days=14)
    c = _as(client, world, "landlord")
    response = c.post(f"/hazards/{hazard.pk}/do/request_extension/",
                      {"expected_version": hazard.version, "reason": "材料未到货",
                       "requested_deadline": wanted.isoformat()})
    assert response.status_code == 302
    request = ExtensionRequest.objects.get(hazard=hazard)
    assert request.status == ExtensionStatus.PENDING
    hazard.refresh_from_db()
    assert hazard.clock_paused_since == clock.today()

    inbox = _as(client, world, "east_officer").get("/")
    assert inbox.context["sections"][1].key == "extensions"
    assert [r.pk for r in inbox.context["sections"][1].items] == [request.pk]
    response = client.post(f"/hazards/{hazard.pk}/do/approve_extension/",
                           {"expected_version": hazard.version})
    assert response.status_code == 302
    hazard.refresh_from_db()
    request.refresh_from_db()
    assert request.status == ExtensionStatus.APPROVED
    assert hazard.deadline == wanted and hazard.clock_paused_since is None
    html = client.get(f"/hazards/{hazard.pk}/", **EN).content.decode()
    assert f"Deadline: <strong>{wanted.isoformat()}</strong>" in html


def test_a_town_officer_voids_a_hazard_with_a_reason(client, world):
    hazard = _register(world)
    c = _as(client, world, "east_officer")
    form = c.get(f"/hazards/{hazard.pk}/do/void/").content.decode()
    assert "data-confirm" in form
    response = c.post(f"/hazards/{hazard.pk}/do/void/",
                      {"expected_version": hazard.version, "reason": "重复登记"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.state == HazardState.VOIDED
    assert hazard.events.last().reason == "重复登记"


def test_a_stale_form_gets_the_conflict_message_and_writes_nothing(client, world):
    hazard = _pending(world)
    stale = hazard.version
    services.fail_verification(hazard, actor=world.users["east_officer_2"], reason="不合格",
                               deadline=future(5))
    hazard.refresh_from_db()
    before = _written(hazard)
    response = _as(client, world, "east_officer").post(
        f"/hazards/{hazard.pk}/do/verify_pass/", {"expected_version": stale}, **EN)
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert response.context["conflict"] is True
    assert _written(hazard) == before
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.RECTIFYING


def test_an_action_the_user_may_not_take_is_not_offered_and_is_refused(client, world):
    hazard = _pending(world)
    # A village cadre may not verify: no button, a GET sends back, a POST is refused.
    c = _as(client, world, "baita_cadre")
    html = c.get(f"/hazards/{hazard.pk}/").content.decode()
    assert reverse("hazards:transition", args=[hazard.pk, "verify_pass"]) not in html
    response = c.get(f"/hazards/{hazard.pk}/do/verify_pass/")
    assert response.status_code == 302
    before = _written(hazard)
    response = c.post(f"/hazards/{hazard.pk}/do/verify_pass/",
                      {"expected_version": hazard.version}, **EN)
    assert response.status_code == 200
    assert "You may not take this action" in str(response.context["form"].non_field_errors())
    assert _written(hazard) == before


def test_htmx_gets_only_the_form_fragment(client, world):
    hazard = _pending(world)
    c = _as(client, world, "east_officer")
    response = c.get(f"/hazards/{hazard.pk}/do/verify_fail/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'name="expected_version"' in html
    assert 'name="deadline"' in html and 'name="reason"' in html


def test_decide_major_takes_one_participant_per_line(client, world):
    hazard = _register(world)
    c = _as(client, world, "east_officer")
    response = c.post(f"/hazards/{hazard.pk}/do/decide_major/",
                      {"expected_version": hazard.version, "participants": "张三\n李四",
                       "minutes": "集体讨论"}, **EN)
    assert response.status_code == 200
    assert "at least 3" in str(response.context["form"].errors["participants"])
    response = c.post(f"/hazards/{hazard.pk}/do/decide_major/",
                      {"expected_version": hazard.version, "participants": "张三\n李四\n\n王五\n",
                       "minutes": "集体讨论"})
    assert response.status_code == 302
    hazard.refresh_from_db()
    assert hazard.severity == Severity.MAJOR
    decision = hazard.major_decisions.get()
    assert decision.participants == ["张三", "李四", "王五"]


def test_list_supervision_records_the_document(client, world):
    hazard = _register(world)
    c = _as(client, world, "east_officer")
    response = c.post(f"/hazards/{hazard.pk}/do/list_supervision/", {
        "expected_version": hazard.version, "level": "town",
        "document_number": "东城督〔2026〕7号", "responsible_person": "王某",
        "deadline": future(20).isoformat(), "delivered_by": "李四", "signed_for_by": "楼先生",
    })
    assert response.status_code == 302
    supervision = hazard.supervisions.get()
    assert (supervision.level, supervision.signed_for_by) == ("town", "楼先生")
    html = c.get(f"/hazards/{hazard.pk}/").content.decode()
    assert "东城督〔2026〕7号" in html


# ---------------------------------------------------------------- the inbox


def test_the_inbox_counts_what_waits_for_the_east_officer(client, world):
    u = world.users
    # To verify: three pending in the east (one submitted by a cadre on the party's
    # behalf); one pending in the west is out of scope.
    pending = [_pending(world), _pending(world, place="baita2_workshop", actor="baita_cadre"),
               _pending(world, place="wujin_market", actor="east_officer", seed=5)]
    _pending(world, place="loutang_hotel", actor="loutang_grid_worker")
    # To look back: closed by a colleague (yes), closed by himself (no).
    closed_by_colleague = services.pass_verification(_pending(world), actor=u["east_officer_2"])
    services.pass_verification(_pending(world), actor=u["east_officer"])
    # Overdue: registered long ago with a deadline now past.
    with clock.frozen_at(clock.now() - dt.timedelta(days=10)):
        overdue = _register(world, deadline=clock.today() + dt.timedelta(days=1))
    # An extension request by the party.
    asked = _register(world)
    services.request_extension(asked, actor=u["landlord"], reason="等材料",
                               requested_deadline=asked.deadline + dt.timedelta(days=10))
    # A candidate major hazard.
    candidate = _register(world, severity="major_candidate")

    response = _as(client, world, "east_officer").get("/", **EN)
    assert response.status_code == 200
    sections = {s.key: s for s in response.context["sections"]}
    assert sections["verify"].count == 3
    assert {h.pk for h in sections["verify"].items} == {h.pk for h in pending}
    assert sections["look_back"].count == 1
    assert [h.pk for h in sections["look_back"].items] == [closed_by_colleague.pk]
    assert sections["overdue"].count == 1
    assert [h.pk for h in sections["overdue"].items] == [overdue.pk]
    assert sections["extensions"].count == 1
    assert sections["candidates"].count == 1
    assert [h.pk for h in sections["candidates"].items] == [candidate.pk]
    assert "rectify" not in sections
    html = response.content.decode()
    assert 'id="inbox-verify"' in html and 'data-count="3"' in html
    try:
        triage = reverse("reports:triage")
    except NoReverseMatch:
        triage = None
    if triage:
        assert triage in html


def test_the_inbox_is_cheap(client, world, django_assert_max_num_queries):
    c = _as(client, world, "east_officer")
    _pending(world)
    c.get("/")
    few = _queries(c, "/")
    for i in range(6):
        _pending(world, item_index=i % 3)
        services.pass_verification(_pending(world, item_index=i % 3),
                                   actor=world.users["east_officer_2"])
    with django_assert_max_num_queries(few):
        assert c.get("/").status_code == 200
    # Two queries (a count and the first items) a section, the session's three, and one
    # asking whether the campaign's draws assigned this official anything.
    assert few <= 2 * 5 + 3 + 1


def test_a_grid_worker_sees_overdue_but_no_verification_section(client, world):
    response = _as(client, world, "baita_grid_worker").get("/")
    keys = [s.key for s in response.context["sections"]]
    assert keys == ["overdue"]


def test_a_party_goes_to_the_portal_if_there_is_one(client, world):
    response = _as(client, world, "landlord").get("/")
    try:
        portal = reverse("portal:home")
    except NoReverseMatch:
        assert response.status_code == 200
        assert [s.key for s in response.context["sections"]] == ["rectify"]
    else:
        assert response.status_code == 302
        assert response["Location"] == portal
