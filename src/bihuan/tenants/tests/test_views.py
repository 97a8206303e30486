from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from bihuan.tenants import services
from bihuan.tenants.models import Tenant
from bihuan.tenants.tests.helpers import id_number

pytestmark = pytest.mark.django_db


def fill(world, room: str, people: int, start: int = 1) -> None:
    for serial in range(start, start + people):
        services.register_tenant(actor=world.users["baita_grid_worker"],
                                 place_pk=world.places["baita_rental"].pk, name=f"租客{serial}",
                                 id_number=id_number(serial), phone="", room=room,
                                 moved_in_on=dt.date(2026, 9, 1))


def test_the_rental_place_page_shows_tenants_and_flags_an_overcrowded_room(client, world,
                                                                           settings):
    settings.BIHUAN_TENANTS_MAX_PER_ROOM = 2
    fill(world, "101", 3)
    fill(world, "102", 1, start=10)
    client.force_login(world.users["baita_grid_worker"])
    page = client.get(reverse("places:detail", args=[world.places["baita_rental"].pk]),
                      HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode()
    assert 'id="place-tenants"' in content and 'id="overcrowding"' in content
    assert "<strong>101</strong> (3)" in content and "<strong>102</strong>" not in content
    assert reverse("tenants:place", args=[world.places["baita_rental"].pk]) in content
    shop = client.get(reverse("places:detail", args=[world.places["baita_shop"].pk]))
    assert b'id="place-tenants"' not in shop.content


def test_no_overcrowding_flag_within_the_limit(client, world, settings):
    settings.BIHUAN_TENANTS_MAX_PER_ROOM = 3
    fill(world, "101", 3)
    client.force_login(world.users["baita_grid_worker"])
    page = client.get(reverse("tenants:place", args=[world.places["baita_rental"].pk]))
    assert b'id="overcrowding"' not in page.content
    assert page.content.count(b"\xe7\xa7\x9f\xe5\xae\xa2") >= 3  # 租客 × 3


def test_register_page_for_the_landlord_and_not_for_a_shop(client, world):
    client.force_login(world.users["landlord"])
    assert client.get(reverse("tenants:register",
                              args=[world.places["baita_rental"].pk])).status_code == 200
    client.force_login(world.users["shopkeeper"])
    assert client.get(reverse("tenants:register",
                              args=[world.places["baita_rental"].pk])).status_code == 404
    client.force_login(world.users["baita_grid_worker"])
    assert client.get(reverse("tenants:register",
                              args=[world.places["baita_shop"].pk])).status_code == 404


def test_moving_out_from_the_page(client, world):
    fill(world, "101", 1)
    tenant = Tenant.objects.get()
    client.force_login(world.users["loutang_grid_worker"])
    assert client.post(reverse("tenants:move_out", args=[tenant.pk]),
                       {"moved_out_on": "2026-09-10"}).status_code == 404
    client.force_login(world.users["baita_cadre"])
    response = client.post(reverse("tenants:move_out", args=[tenant.pk]),
                           {"moved_out_on": "2026-09-10"})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.moved_out_on == dt.date(2026, 9, 10)
    later = client.get(reverse("tenants:place", args=[tenant.place_id]))
    assert b'id="moved-out-tenants"' in later.content


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    for url in (reverse("tenants:place", args=[world.places["baita_rental"].pk]),
                reverse("tenants:lookup")):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
