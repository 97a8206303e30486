"""Place pages: search by name and nearby, a place's page, its QR plate and token."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse

from bihuan.hazards import services
from bihuan.places import views as place_views
from bihuan.places.models import Place
from bihuan.testing import after_photo, before_photo

pytestmark = pytest.mark.django_db

PLACE_LINK = re.compile(r'href="/places/(\d+)/"')


def _as(client, world, persona):
    client.force_login(world.users[persona])
    return client


def _listed(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in PLACE_LINK.findall(response.content.decode())]


def _move(place: Place, lat: str | None, lon: str | None) -> None:
    Place.objects.filter(pk=place.pk).update(
        latitude=Decimal(lat) if lat else None, longitude=Decimal(lon) if lon else None
    )


# ---------------------------------------------------------------- search


def test_search_by_name_or_address_within_scope(client, world):
    p = world.places
    c = _as(client, world, "east_officer")
    assert _listed(c.get("/places/", {"q": "rental"})) == [p["baita_rental"].pk]
    # The address holds the grid's name: every place of 白塔村第一网格.
    assert set(_listed(c.get("/places/", {"q": "白塔村第一网格"}))) == {
        p["baita_rental"].pk, p["baita_shop"].pk}
    assert _listed(c.get("/places/", {"q": "rental", "kind": "shop"})) == []
    # Another town's places are not found, even by their exact name.
    assert _listed(c.get("/places/", {"q": "loutang_rental"})) == []
    assert _listed(_as(client, world, "west_officer").get("/places/", {"q": "rental"})) == [
        p["loutang_rental"].pk]


def test_search_pages_by_name_without_overlap(client, world, monkeypatch):
    monkeypatch.setattr(place_views, "PAGE_SIZE", 2)
    c = _as(client, world, "commander")
    first = c.get("/places/")
    page1 = _listed(first)
    second = c.get("/places/" + first.context["next_url"])
    page2 = _listed(second)
    third = c.get("/places/" + second.context["next_url"])
    page3 = _listed(third)
    assert third.context["next_url"] is None
    expected = list(Place.objects.order_by("name", "id").values_list("pk", flat=True))
    assert page1 + page2 + page3 == expected
    assert _listed(c.get("/places/" + second.context["previous_url"])) == page1


def test_nearby_orders_the_visible_places_by_distance(client, world):
    p = world.places
    here = ("28.900000", "120.050000")
    _move(p["baita_shop"], "28.900100", "120.050000")  # ~11 m
    _move(p["baita_rental"], "28.903000", "120.050000")  # ~330 m
    _move(p["wujin_market"], "28.920000", "120.050000")  # ~2.2 km
    _move(p["baita2_workshop"], None, None)  # no location: not listed
    _move(p["loutang_rental"], "28.900050", "120.050000")  # nearest, but another town
    c = _as(client, world, "east_officer")
    response = c.get("/places/", {"lat": here[0], "lon": here[1]})
    assert _listed(response) == [p["baita_shop"].pk, p["baita_rental"].pk, p["wujin_market"].pk]
    distances = [round(item.distance) for item in response.context["nearby"]]
    assert distances == sorted(distances)
    assert 5 <= distances[0] <= 20 and 300 <= distances[1] <= 360
    # A name narrows the nearby list too.
    response = c.get("/places/", {"lat": here[0], "lon": here[1], "q": "rental"})
    assert _listed(response) == [p["baita_rental"].pk]


def test_haversine_matches_a_known_distance():
    # One degree of latitude is about 111.2 km everywhere.
    assert abs(place_views.haversine_m(28.0, 120.0, 29.0, 120.0) - 111_195) < 50


def test_an_out_of_range_position_is_ignored(client, world):
    response = _as(client, world, "east_officer").get("/places/", {"lat": "999", "lon": "1"})
    assert response.status_code == 200
    assert response.context["position"] is None


# ---------------------------------------------------------------- a place's page


def test_the_place_page_shows_party_hazards_and_inspection_buttons(client, world):
    place = world.places["baita_rental"]
    item = next(i for i in world.checklist_for(place).items.all() if i.severity == "general")
    open_hazard = services.register_hazard(actor=world.users["baita_grid_worker"], place=place,
                                           item=item, description="", evidence=[before_photo()])
    closed = services.register_hazard(actor=world.users["baita_grid_worker"], place=place,
                                      item=item, description="", rectified_on_spot=True,
                                      evidence=[after_photo()])
    response = _as(client, world, "baita_grid_worker").get(f"/places/{place.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "楼先生" in html and "138****0001" in html and "13800000001" not in html
    assert [h.pk for h, _overdue in response.context["open_hazards"]] == [open_hazard.pk]
    assert [h.pk for h, _overdue in response.context["closed_hazards"]] == [closed.pk]
    assert reverse("hazards:detail", args=[open_hazard.pk]) in html
    assert reverse("places:qr", args=[place.pk]) in html
    for name in ("inspections:start", "inspections:quick_hazard"):
        try:
            url = reverse(name, args=[place.pk])
        except NoReverseMatch:
            continue
        assert url in html


@pytest.mark.parametrize("persona", ["west_officer", "shopkeeper", "citizen", "audit_admin"])
def test_a_place_out_of_scope_is_404(client, world, persona):
    place = world.places["baita_rental"]
    c = _as(client, world, persona)
    assert c.get(f"/places/{place.pk}/").status_code == 404
    assert c.get(f"/places/{place.pk}/qr/").status_code == 404


# ---------------------------------------------------------------- the QR plate


def test_the_qr_plate_encodes_the_places_token_url(client, world):
    place = world.places["baita_rental"]
    response = _as(client, world, "east_officer").get(f"/places/{place.pk}/qr/")
    html = response.content.decode()
    assert response.status_code == 200
    target = f"http://testserver/places/q/{place.qr_token}/"
    assert response.context["target"] == target
    assert "<svg" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>")[0]


def test_the_token_takes_an_official_to_the_place_page(client, world):
    place = world.places["baita_rental"]
    response = _as(client, world, "baita_grid_worker").get(f"/places/q/{place.qr_token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/places/{place.pk}/"


def test_the_token_of_another_towns_place_is_404_for_an_official(client, world):
    place = world.places["baita_rental"]
    response = _as(client, world, "west_officer").get(f"/places/q/{place.qr_token}/")
    assert response.status_code == 404


def test_an_anonymous_scan_asks_for_a_login_and_comes_back(client, world):
    place = world.places["baita_rental"]
    response = client.get(f"/places/q/{place.qr_token}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert f"next=/places/q/{place.qr_token}/" in response["Location"]


def test_the_party_scanning_its_plate_goes_to_the_portal(client, world):
    place = world.places["baita_rental"]
    response = _as(client, world, "landlord").get(f"/places/q/{place.qr_token}/")
    assert response.status_code == 302
    try:
        expected = reverse("portal:place", args=[place.pk])
    except NoReverseMatch:
        expected = reverse("home")
    assert response["Location"] == expected


def test_an_unknown_token_is_404(client, world):
    response = _as(client, world, "landlord").get("/places/q/no-such-token/")
    assert response.status_code == 404
