"""The field screens: start, walk, quick hazard, new place, notice."""

from __future__ import annotations

import base64
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from bihuan.core import clock
from bihuan.hazards.choices import EvidenceKind, HazardState
from bihuan.hazards.models import Evidence, Hazard
from bihuan.hazards.services import default_deadline, register_hazard
from bihuan.inspections.choices import FollowUpOutcome, InspectionKind, ItemOutcome
from bihuan.inspections.models import CarriedHazard, Inspection, InspectionResult
from bihuan.places.models import Party, Place
from bihuan.testing import tiny_jpeg

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- helpers


def _login(client, world, persona="baita_grid_worker"):
    client.force_login(world.users[persona])
    return world.users[persona]


def _photo(name="photo.jpg", seed=1, content=None):
    return SimpleUploadedFile(name, content if content is not None else tiny_jpeg(seed),
                              content_type="image/jpeg")


def _signature_data_url() -> str:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    for x in range(20, 280):
        image.putpixel((x, 50 + (x % 15)), (0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:09:14 09:05:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (28.0, 54.0, 36.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 2.0, 24.0)
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _walk_url(world, place="baita_rental"):
    place_obj = world.places[place]
    return reverse("inspections:walk", args=[place_obj.pk, world.checklist_for(place_obj).pk])


def _walk_data(world, place="baita_rental", **extra):
    """What the walk form sends untouched: every item passes, carried hazards unchecked."""
    place_obj = world.places[place]
    checklist = world.checklist_for(place_obj)
    data = {"client_key": str(uuid.uuid4()),
            "started_at": clock.now().isoformat()}
    for item in checklist.items.all():
        data[f"r-{item.code}"] = ItemOutcome.PASS
        data[f"requirement-{item.code}"] = item.requirement
        deadline = default_deadline(item.deadline_rule)
        data[f"deadline-{item.code}"] = deadline.isoformat() if deadline else ""
    for hazard in Hazard.objects.filter(place=place_obj).open():
        data[f"c-{hazard.pk}"] = FollowUpOutcome.NOT_CHECKED
    data.update(extra)
    return data


def _open_hazard(world, code="RH-14", place="baita_rental"):
    place_obj = world.places[place]
    item = world.checklist_for(place_obj).items.get(code=code)
    return register_hazard(actor=world.users["baita_cadre"], place=place_obj, item=item,
                           description="")


def _counts():
    return (Inspection.objects.count(), Hazard.objects.count(), Evidence.objects.count(),
            InspectionResult.objects.count(), CarriedHazard.objects.count())


# ---------------------------------------------------------------- scope


@pytest.mark.parametrize("name", ["start", "quick_hazard"])
def test_it_answers_404_for_another_grids_place(client, world, name):
    _login(client, world)
    response = client.get(reverse(f"inspections:{name}", args=[world.places["loutang_rental"].pk]))
    assert response.status_code == 404


def test_the_walk_of_another_grids_place_is_404_and_writes_nothing(client, world):
    _login(client, world)
    response = client.post(_walk_url(world, "loutang_rental"),
                           _walk_data(world, "loutang_rental"))
    assert response.status_code == 404
    assert not Inspection.objects.exists()


def test_a_market_inspector_does_not_reach_a_rental_house(client, world):
    _login(client, world, "market_inspector")
    url = reverse("inspections:start", args=[world.places["baita_rental"].pk])
    assert client.get(url).status_code == 404
    shop = world.places["baita_shop"]
    assert client.get(reverse("inspections:start", args=[shop.pk])).status_code == 200


def test_a_checklist_for_another_kind_of_place_is_404(client, world):
    _login(client, world)
    shop_checklist = world.checklist_for(world.places["baita_shop"])
    url = reverse("inspections:walk", args=[world.places["baita_rental"].pk, shop_checklist.pk])
    assert client.get(url).status_code == 404


def test_the_party_sees_its_place_but_may_not_inspect_it(client, world):
    _login(client, world, "landlord")
    place = world.places["baita_rental"]
    assert client.get(reverse("inspections:start", args=[place.pk])).status_code == 403
    assert client.get(reverse("inspections:quick_hazard", args=[place.pk])).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, world):
    response = client.get(reverse("inspections:start", args=[world.places["baita_rental"].pk]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# ---------------------------------------------------------------- start


def test_the_start_screen_shows_the_place_its_open_hazards_and_its_checklists(client, world):
    hazard = _open_hazard(world)
    _login(client, world)
    place = world.places["baita_rental"]
    response = client.get(reverse("inspections:start", args=[place.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert place.name in text
    assert hazard.number in text
    checklist = world.checklist_for(place)
    assert reverse("inspections:walk", args=[place.pk, checklist.pk]) in text
    # The civilized-city checklist applies to rental houses too: offered second.
    assert text.index(checklist.name) < text.index("文明城市创建检查表")
    assert reverse("inspections:quick_hazard", args=[place.pk]) in text


def test_starting_writes_nothing(client, world):
    _login(client, world)
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    response = client.post(reverse("inspections:start", args=[place.pk]),
                           {"checklist": checklist.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:walk", args=[place.pk, checklist.pk])
    assert _counts() == (0, 0, 0, 0, 0)


# ---------------------------------------------------------------- the walk


def test_the_walk_proposes_each_items_deadline_and_requirement(client, world):
    _login(client, world)
    response = client.get(_walk_url(world))
    assert response.status_code == 200
    text = response.content.decode()
    item = world.checklist_for(world.places["baita_rental"]).items.get(code="RH-14")
    assert f'value="{default_deadline(item.deadline_rule).isoformat()}"' in text
    assert item.requirement in text
    assert 'capture="environment"' in text
    assert 'name="r-RH-14" id="r-RH-14-pass" value="pass" checked' in text
    # A candidate major item never offers "rectified on the spot".
    assert 'name="spot-RH-01"' not in text
    assert 'name="spot-RH-14"' in text
    assert "<script>" not in text and "onclick" not in text


def test_a_full_inspection_creates_exactly_what_it_should(client, world):
    carried = _open_hazard(world)
    user = _login(client, world)
    place = world.places["baita_rental"]
    before = _counts()
    deadline = clock.today() + dt.timedelta(days=5)
    data = _walk_data(world, **{
        "r-RH-05": ItemOutcome.FAIL,
        "requirement-RH-05": "三楼储藏室的住人员当天清退",
        "deadline-RH-05": deadline.isoformat(),
        "detail-RH-05": "三楼储藏室",
        "before-RH-05": _photo("before.jpg", 3),
        "r-RH-09": ItemOutcome.FAIL,
        "spot-RH-09": "on",
        "before-RH-09": _photo("b.jpg", 4),
        "after-RH-09": _photo("a.jpg", 5),
        "r-RH-12": ItemOutcome.NOT_APPLICABLE,
        f"c-{carried.pk}": FollowUpOutcome.STILL_PRESENT,
        "signature": _signature_data_url(),
        "signed_by_name": "楼先生",
        "latitude": "28.910001", "longitude": "120.050002",
    })
    response = client.post(_walk_url(world), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    inspection = Inspection.objects.get()
    assert response["Location"] == reverse("inspections:notice", args=[inspection.pk])
    assert inspection.kind == InspectionKind.GRID_PATROL
    assert inspection.inspector == user
    assert inspection.client_key == uuid.UUID(data["client_key"])
    assert inspection.notice_number == f"永消通〔2026〕{inspection.pk}号"
    assert inspection.signed_by_name == "楼先生"
    with inspection.party_signature.open("rb") as handle:
        assert Image.open(handle).format == "PNG"
    # One result per item of the checklist version, as tapped (untouched = pass).
    checklist = world.checklist_for(place)
    results = dict(inspection.results.values_list("item__code", "outcome"))
    assert len(results) == checklist.items.count()
    assert results["RH-05"] == results["RH-09"] == ItemOutcome.FAIL
    assert results["RH-12"] == ItemOutcome.NOT_APPLICABLE
    assert {v for k, v in results.items() if k not in {"RH-05", "RH-09", "RH-12"}} == {"pass"}
    # Two findings: one to rectify by the chosen deadline, one closed on the spot.
    found = {h.code: h for h in Hazard.objects.filter(inspection=inspection)}
    assert set(found) == {"RH-05", "RH-09"}
    assert found["RH-05"].state == HazardState.RECTIFYING
    assert found["RH-05"].deadline == deadline
    assert found["RH-05"].requirement == "三楼储藏室的住人员当天清退"
    assert found["RH-05"].description == "三楼储藏室"
    assert found["RH-09"].state == HazardState.CLOSED
    kinds = sorted(Evidence.objects.filter(hazard__inspection=inspection)
                   .values_list("hazard__code", "kind"))
    assert kinds == [("RH-05", EvidenceKind.BEFORE), ("RH-09", EvidenceKind.AFTER),
                     ("RH-09", EvidenceKind.BEFORE)]
    evidence = Evidence.objects.filter(hazard=found["RH-05"]).get()
    assert evidence.latitude == Decimal("28.910001")
    # The carried hazard is recorded as seen, and stays open.
    assert dict(inspection.carried.values_list("hazard_id", "outcome")) == {
        carried.pk: FollowUpOutcome.STILL_PRESENT
    }
    carried.refresh_from_db()
    assert carried.state == HazardState.RECTIFYING
    after = _counts()
    assert after[0] - before[0] == 1
    assert after[1] - before[1] == 2
    assert after[2] - before[2] == 3
    assert after[4] - before[4] == 1

    notice = client.get(response["Location"])
    text = notice.content.decode()
    assert notice.status_code == 200
    assert inspection.notice_number in text
    assert "三楼储藏室的住人员当天清退" in text
    assert found["RH-05"].checklist_item.legal_basis in text
    assert reverse("inspections:signature", args=[inspection.pk]) in text
    assert "@media print" not in text  # print styles live in the static CSS
    png = client.get(reverse("inspections:signature", args=[inspection.pk]))
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"


def test_a_retried_submission_creates_nothing_new(client, world):
    _login(client, world)
    data = _walk_data(world, **{"r-RH-05": ItemOutcome.FAIL})
    first = client.post(_walk_url(world), data)
    assert first.status_code == 302
    counts = _counts()
    again = client.post(_walk_url(world), _walk_data(world, client_key=data["client_key"],
                                                     **{"r-RH-05": ItemOutcome.FAIL}))
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert _counts() == counts


def test_a_retry_the_form_now_refuses_still_finds_the_first_inspection(client, world):
    _login(client, world)
    tomorrow = clock.today() + dt.timedelta(days=1)
    data = _walk_data(world, **{"r-RH-05": ItemOutcome.FAIL,
                                "deadline-RH-05": tomorrow.isoformat()})
    first = client.post(_walk_url(world), data)
    assert first.status_code == 302
    counts = _counts()
    # The phone retries two days later: its deadline is in the past by then.
    later = dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(10),
                                tzinfo=clock.now().tzinfo)
    with clock.frozen_at(later):
        again = client.post(_walk_url(world), {**data, "started_at": ""})
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert _counts() == counts


# A submission's statements, session and scope included, on a later visit (the first
# visit of a place also books its coverage row). Fewer than the checklist has items, and
# the same with one carried hazard or three: nothing is read or written per item or
# per carried hazard.
# The session and its user are one query (accounts.sessions), the checklist and its
# items another.
WALK_QUERIES = 15
# Each finding adds its hazard, its history, its photos, the figures and the audit
# (not another look-up of the place: it reuses the submission's field access).
WALK_QUERIES_WITH_A_PHOTO_FINDING = 29


def _walk_queries(client, world, **extra) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data = _walk_data(world, **extra)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(_walk_url(world), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return len(queries)


def test_a_submission_takes_a_fixed_number_of_queries(client, world):
    _login(client, world)
    _open_hazard(world, code="RH-14")
    _walk_queries(client, world)  # the place's first visit
    plain = _walk_queries(client, world)
    for code in ("RH-05", "RH-09"):
        _open_hazard(world, code=code)
    assert Hazard.objects.filter(place=world.places["baita_rental"]).open().count() == 3
    assert _walk_queries(client, world) == plain
    assert plain <= WALK_QUERIES, plain
    with_photo = _walk_queries(client, world, **{
        "r-RH-04": ItemOutcome.FAIL, "before-RH-04": _photo("b.jpg", 6)})
    assert with_photo <= WALK_QUERIES_WITH_A_PHOTO_FINDING, with_photo


def test_a_non_image_upload_gives_a_clear_error_and_writes_nothing(client, world):
    _login(client, world)
    data = _walk_data(world, **{
        "r-RH-05": ItemOutcome.FAIL,
        "before-RH-05": _photo("notes.jpg", content=b"this is a text file, not a photo\n" * 40),
    })
    response = client.post(_walk_url(world), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Only photos (JPEG, PNG or WebP) can be attached." in text
    assert 'id="item-RH-05"' in text and "has-error" in text
    assert _counts() == (0, 0, 0, 0, 0)


def test_a_passed_item_is_not_a_finding_whatever_else_is_sent_with_it(client, world):
    """Only a failed item's finding is read: a passed item's stray photo or detail is
    neither checked nor stored (a submission does not build their fields)."""
    _login(client, world)
    data = _walk_data(world, **{
        "before-RH-05": _photo("notes.jpg", content=b"not a photo\n" * 40),
        "detail-RH-05": "x" * 500,
    })
    response = client.post(_walk_url(world), data)
    assert response.status_code == 302
    assert _counts()[:3] == (1, 0, 0)


def test_a_refused_walk_shows_every_item_again_with_what_was_sent(client, world):
    _login(client, world)
    data = _walk_data(world, **{
        "r-RH-05": ItemOutcome.FAIL,
        "before-RH-05": _photo("notes.jpg", content=b"this is a text file, not a photo\n" * 40),
        "detail-RH-09": "楼道堆物",
    })
    response = client.post(_walk_url(world), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    text = response.content.decode()
    checklist = world.checklist_for(world.places["baita_rental"])
    for item in checklist.items.all():
        for name in ("r", "detail", "before", "requirement", "deadline"):
            assert f'name="{name}-{item.code}"' in text, (name, item.code)
    assert 'value="楼道堆物"' in text
    assert _counts() == (0, 0, 0, 0, 0)


def test_a_candidate_major_item_is_never_closed_on_the_spot(client, world):
    _login(client, world)
    data = _walk_data(world, **{
        "r-RH-01": ItemOutcome.FAIL, "spot-RH-01": "on",
        "before-RH-01": _photo("b.jpg", 6), "after-RH-01": _photo("a.jpg", 7),
    })
    response = client.post(_walk_url(world), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "A candidate major hazard cannot be closed on the spot." in response.content.decode()
    assert _counts() == (0, 0, 0, 0, 0)


def test_rectified_on_the_spot_needs_the_after_photo(client, world):
    _login(client, world)
    data = _walk_data(world, **{"r-RH-09": ItemOutcome.FAIL, "spot-RH-09": "on"})
    response = client.post(_walk_url(world), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "needs a photo after the fix" in response.content.decode()
    assert not Inspection.objects.exists()


def test_a_deadline_in_the_past_is_refused(client, world):
    _login(client, world)
    yesterday = clock.today() - dt.timedelta(days=1)
    data = _walk_data(world, **{"r-RH-05": ItemOutcome.FAIL,
                                "deadline-RH-05": yesterday.isoformat()})
    response = client.post(_walk_url(world), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "must not be in the past" in response.content.decode()
    assert not Inspection.objects.exists()


def test_a_walk_without_findings_is_a_record_without_a_notice_number(client, world):
    _login(client, world)
    response = client.post(_walk_url(world), _walk_data(world))
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.notice_number == ""
    assert not inspection.party_signature
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("inspections:signature", args=[inspection.pk])).status_code == 404


def test_an_unreadable_signature_is_refused(client, world):
    _login(client, world)
    data = _walk_data(world, signature="data:image/png;base64,bm90IGEgcG5n")
    response = client.post(_walk_url(world), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "The signature could not be read" in response.content.decode()
    assert not Inspection.objects.exists()


def test_a_department_inspector_makes_a_department_inspection(client, world):
    _login(client, world, "fire_inspector")
    response = client.post(_walk_url(world), _walk_data(world, **{"r-RH-05": "fail"}))
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.kind == InspectionKind.DEPARTMENT
    assert inspection.org_unit == world.org_units["fire"]
    notice = client.get(response["Location"]).content.decode()
    assert world.org_units["fire"].name in notice


def test_the_photos_exif_fills_in_what_the_phone_did_not_send(client, world):
    _login(client, world)
    data = _walk_data(world, **{
        "r-RH-05": ItemOutcome.FAIL,
        "before-RH-05": _photo("gps.jpg", content=_gps_jpeg()),
    })
    assert client.post(_walk_url(world), data).status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.latitude == Decimal("28.910000")
    assert evidence.longitude == Decimal("120.040000")
    assert evidence.taken_at == dt.datetime(2026, 9, 14, 1, 5, tzinfo=dt.UTC)


# ---------------------------------------------------------------- the quick hazard


def _quick_item(world, code="RH-10", place="baita_rental"):
    return world.checklist_for(world.places[place]).items.get(code=code)


def test_the_quick_hazard_registers_one_hazard_with_one_photo(client, world):
    _login(client, world)
    place = world.places["baita_rental"]
    item = _quick_item(world)
    response = client.post(reverse("inspections:quick_hazard", args=[place.pk]), {
        "client_key": str(uuid.uuid4()), "item": item.pk, "photo": _photo("p.jpg", 9),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    hazard = Hazard.objects.get()
    assert hazard.code == item.code
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.deadline == default_deadline(item.deadline_rule)
    assert hazard.inspection.kind == InspectionKind.GRID_PATROL
    assert list(hazard.evidence.values_list("kind", flat=True)) == [EvidenceKind.BEFORE]
    assert response["Location"] == reverse("inspections:notice", args=[hazard.inspection_id])


def test_the_quick_hazard_needs_a_photo_and_writes_nothing_without(client, world):
    _login(client, world)
    place = world.places["baita_rental"]
    response = client.post(reverse("inspections:quick_hazard", args=[place.pk]), {
        "client_key": str(uuid.uuid4()), "item": _quick_item(world).pk,
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Take a photo of the hazard." in response.content.decode()
    assert _counts() == (0, 0, 0, 0, 0)


def test_the_quick_hazard_refuses_an_item_of_another_kind_of_place(client, world):
    _login(client, world)
    place = world.places["baita_rental"]
    shop_item = world.checklist_for(world.places["baita_shop"]).items.first()
    response = client.post(reverse("inspections:quick_hazard", args=[place.pk]), {
        "client_key": str(uuid.uuid4()), "item": shop_item.pk, "photo": _photo(),
    })
    assert response.status_code == 400
    assert _counts() == (0, 0, 0, 0, 0)


def test_the_quick_hazard_lists_the_most_common_items_first(client, world):
    _login(client, world)
    place = world.places["baita_rental"]
    for _ in range(2):
        _open_hazard(world, code="RH-18")
    text = client.get(reverse("inspections:quick_hazard", args=[place.pk])).content.decode()
    common = _quick_item(world, "RH-18")
    assert text.index(f'id="item-{common.pk}"') < text.index(
        f'id="item-{_quick_item(world, "RH-01").pk}"'
    )


def test_a_retried_quick_hazard_creates_nothing_new(client, world):
    _login(client, world)
    place = world.places["baita_rental"]
    data = {"client_key": str(uuid.uuid4()), "item": _quick_item(world).pk}
    url = reverse("inspections:quick_hazard", args=[place.pk])
    first = client.post(url, {**data, "photo": _photo()})
    again = client.post(url, {**data, "photo": _photo()})
    assert first["Location"] == again["Location"]
    assert Hazard.objects.count() == 1


# ---------------------------------------------------------------- a new place


def _new_place_data(world, **extra):
    data = {"name": "白塔村88号", "kind": "rental_house", "area": world.grids["baita-1"].pk,
            "address": "白塔村88号", "latitude": "28.912345", "longitude": "120.051234",
            "party_name": "周先生", "party_phone": "13812345678"}
    data.update(extra)
    return data


def test_a_new_place_and_its_party_are_registered_then_inspected(client, world):
    _login(client, world)
    response = client.post(reverse("inspections:new_place"), _new_place_data(world))
    place = Place.objects.get(name="白塔村88号")
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:start", args=[place.pk])
    assert place.area == world.grids["baita-1"]
    assert place.latitude == Decimal("28.912345")
    assert place.party.name == "周先生"
    assert place.party.phone == "13812345678"
    assert place.party.role == "landlord"


def test_the_new_place_form_offers_only_visible_areas_and_defaults_to_the_own_grid(client, world):
    _login(client, world)
    text = client.get(reverse("inspections:new_place")).content.decode()
    assert f'value="{world.grids["baita-1"].pk}" selected' in text
    assert world.grids["loutang-1"].name not in text
    response = client.post(reverse("inspections:new_place"),
                           _new_place_data(world, area=world.grids["loutang-1"].pk))
    assert response.status_code == 400
    assert not Place.objects.filter(name="白塔村88号").exists()
    assert Party.objects.count() == 3


def test_a_place_already_registered_is_not_registered_twice(client, world):
    _login(client, world)
    existing = world.places["baita_rental"]
    response = client.post(reverse("inspections:new_place"),
                           _new_place_data(world, name=existing.name))
    assert response.status_code == 400
    assert reverse("inspections:start", args=[existing.pk]) in response.content.decode()
    assert Party.objects.count() == 3


def test_a_known_party_is_reused(client, world):
    _login(client, world)
    landlord = world.parties["landlord"]
    client.post(reverse("inspections:new_place"),
                _new_place_data(world, party_name=landlord.name, party_phone=landlord.phone))
    assert Place.objects.get(name="白塔村88号").party == landlord


def test_a_refusal_of_the_service_writes_nothing(client, world):
    _login(client, world)
    response = client.post(reverse("inspections:new_place"),
                           _new_place_data(world, latitude="51.5", longitude="-0.12"),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "outside China" in response.content.decode()
    assert not Place.objects.filter(name="白塔村88号").exists()
    assert Party.objects.count() == 3


# ---------------------------------------------------------------- the notice


def test_the_notice_is_for_whoever_sees_the_inspection(client, world):
    _login(client, world)
    client.post(_walk_url(world), _walk_data(world, **{"r-RH-05": "fail",
                                                       "signature": _signature_data_url()}))
    inspection = Inspection.objects.get()
    notice = reverse("inspections:notice", args=[inspection.pk])
    png = reverse("inspections:signature", args=[inspection.pk])
    _login(client, world, "landlord")
    assert client.get(notice).status_code == 200
    assert client.get(png).status_code == 200
    for outsider in ("loutang_grid_worker", "shopkeeper", "citizen", "system_admin"):
        _login(client, world, outsider)
        assert client.get(notice).status_code == 404, outsider
        assert client.get(png).status_code == 404, outsider


def test_the_running_campaign_that_covers_the_place_is_recorded(client, world):
    from bihuan.campaigns.models import Campaign

    today = clock.today()
    Campaign.objects.create(code="city-2026", name="全市双月攻坚", area=world.city,
                            starts_on=today - dt.timedelta(days=10),
                            ends_on=today + dt.timedelta(days=50))
    town = Campaign.objects.create(code="east-2026", name="东城出租房专项",
                                   area=world.towns["east"], place_kinds=["rental_house"],
                                   starts_on=today, ends_on=today + dt.timedelta(days=30))
    Campaign.objects.create(code="east-2025", name="去年", area=world.towns["east"],
                            starts_on=today - dt.timedelta(days=400),
                            ends_on=today - dt.timedelta(days=300))
    _login(client, world)
    client.post(_walk_url(world), _walk_data(world, **{"r-RH-05": "fail"}))
    inspection = Inspection.objects.get()
    assert inspection.campaign == town
    assert Hazard.objects.get().campaign == town
