"""Field reality: a phone at 360 px, few taps, small pages.

A grid worker goes from a place's page to a registered hazard with one photo,
walks a full inspection with the party's signature drawn on the screen and
reaches the printable notice, and registers a missing place with the phone's
position. Each field screen's first load (cold cache: HTML, scripts, styles)
stays within the byte budget; screenshots of each are written at 360 and 1280.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)

TAP_BUDGET = 6
BYTE_BUDGET = 300 * 1024
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
MEASURED: dict[str, int] = {}


def _cold(session: Any) -> None:
    """Every load below is a first load: the browser cache is off."""
    cdp = session.page.context.new_cdp_session(session.page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})


def _settle(session: Any) -> None:
    session.page.wait_for_load_state("networkidle")


def _record(session: Any, name: str, value: int) -> None:
    """Written beside the screenshots, for whoever reviews the field budget."""
    MEASURED[f"{name}@{session.page.viewport_size['width']}"] = value
    out = session.screenshot_dir / "field-budget.json"
    out.write_text(json.dumps(MEASURED, indent=2, sort_keys=True))


def _measure(session: Any, name: str, start: int) -> int:
    """Bytes transferred since ``start`` (a navigation and everything it loaded)."""
    _settle(session)
    size = session.bytes_since(start)
    _record(session, f"bytes:{name}", size)
    assert size <= BYTE_BUDGET, f"{name} transferred {size / 1024:.0f} KB on first load"
    return size


def _jpeg(tmp_path: Path, name: str, seed: int = 0) -> Path:
    """A real photo-like JPEG, written by Pillow."""
    from PIL import Image, ImageDraw

    image = Image.effect_noise((800, 600), 40 + seed).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 150, 600, 450), outline=(200, 30, 30), width=12)
    path = tmp_path / name
    image.save(path, "JPEG", quality=80)
    return path


def _login(session_factory: Any, viewport: dict[str, int], persona: str, world: Any) -> Any:
    password = set_password(world.users[persona])
    s = session_factory(viewport)
    s.login(persona, password)
    _cold(s)
    return s


def _place_page(place_pk: int) -> str | None:
    try:
        return reverse("places:detail", args=[place_pk])
    except NoReverseMatch:
        return None


@VIEWPORTS
def test_a_grid_worker_registers_a_hazard_with_one_photo_in_few_taps(
    session_factory, viewport, tmp_path
):
    from bihuan.hazards.choices import EvidenceKind, HazardState
    from bihuan.hazards.models import Hazard
    from bihuan.testing import build_world

    world = build_world()
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.get(code="RH-10")  # a locked or blocked exit
    s = _login(session_factory, viewport, "baita_grid_worker", world)
    quick_url = reverse("inspections:quick_hazard", args=[place.pk])
    place_url = _place_page(place.pk)

    s.taps = 0
    if place_url is not None:
        s.go(place_url)
        _settle(s)
        start = len(s.transferred)
        s.tap(f'a[href="{quick_url}"]')  # "register hazard" on the place's page
    else:  # the place page is not there yet: start where its button would lead
        start = len(s.transferred)
        s.go(quick_url)
    s.page.wait_for_url(f"**{quick_url}")
    _measure(s, "quick_hazard", start)
    s.shot("field-quick")

    s.tap(f'label[for="item-{item.pk}"]')  # what is wrong
    s.taps += 1  # the camera: one tap, one photo
    s.page.set_input_files("#id_photo", str(_jpeg(tmp_path, "exit.jpg")))
    s.tap(".submit-bar button[type=submit]")
    s.page.wait_for_url("**/notice/")
    _settle(s)

    _record(s, "taps:place_to_hazard" if place_url else "taps:quick_to_hazard", s.taps)
    assert s.taps <= TAP_BUDGET, f"{s.taps} taps from the place page to a registered hazard"
    hazard = Hazard.objects.get()
    assert hazard.code == "RH-10"
    assert hazard.state == HazardState.RECTIFYING
    assert list(hazard.evidence.values_list("kind", flat=True)) == [EvidenceKind.BEFORE]
    assert hazard.number in s.page.content()
    s.shot("field-quick-notice")


@VIEWPORTS
def test_a_full_inspection_with_a_drawn_signature_reaches_the_notice(
    session_factory, viewport, tmp_path
):
    from bihuan.hazards.models import Hazard
    from bihuan.hazards.services import register_hazard
    from bihuan.inspections.choices import FollowUpOutcome
    from bihuan.inspections.models import Inspection
    from bihuan.testing import build_world

    world = build_world()
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    carried = register_hazard(actor=world.users["baita_cadre"], place=place,
                              item=checklist.items.get(code="RH-14"), description="")
    s = _login(session_factory, viewport, "baita_grid_worker", world)

    start = len(s.transferred)
    s.go(reverse("inspections:start", args=[place.pk]))
    _measure(s, "start", start)
    assert carried.number in s.page.content()
    s.shot("field-start")

    s.taps = 0
    start = len(s.transferred)
    s.tap(f'a[href="{reverse("inspections:walk", args=[place.pk, checklist.pk])}"]')
    s.page.wait_for_url("**/walk/**")
    _measure(s, "walk", start)

    # The carried hazard: still there.
    s.tap(f'label[for="c-{carried.pk}-still"]')
    # A hazard with a deadline, described and photographed.
    s.tap('label[for="r-RH-05-fail"]')
    s.page.fill("#detail-RH-05", "三楼储藏室住人")
    s.taps += 1
    s.page.set_input_files("#before-RH-05", str(_jpeg(tmp_path, "storeroom.jpg", 1)))
    # A blocked corridor, cleared while we watched: rectified on the spot, with the after-photo.
    s.tap('label[for="r-RH-09-fail"]')
    s.tap('label[for="spot-RH-09"]')
    s.taps += 1
    s.page.set_input_files("#after-RH-09", str(_jpeg(tmp_path, "cleared.jpg", 2)))
    # Not applicable: no balcony.
    s.tap('label[for="r-RH-12-na"]')
    assert s.page.inner_text("[data-hazard-count]").strip().endswith("2")
    s.shot("field-walk")

    # The party signs with a finger (here: a mouse drag across the pad).
    pad = s.page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    s.page.mouse.move(x + w * 0.1, y + h * 0.6)
    s.page.mouse.down()
    for i in range(1, 21):
        s.page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.3 * ((i % 4) / 3)),
                          steps=2)
    s.page.mouse.up()
    value = s.page.input_value("input[name=signature]")
    assert value.startswith("data:image/png;base64,")
    assert s.page.input_value("#id_signed_by_name") == world.parties["landlord"].name
    s.shot("field-walk-signed")

    s.tap("button.submit-final")
    _record(s, "taps:full_walk", s.taps)
    s.page.wait_for_url("**/notice/")
    _settle(s)

    inspection = Inspection.objects.get()
    assert inspection.party_signature
    assert inspection.notice_number in s.page.content()
    assert Hazard.objects.filter(inspection=inspection).count() == 2
    assert inspection.carried.get().outcome == FollowUpOutcome.STILL_PRESENT
    assert s.page.evaluate("document.querySelector('.sig-img').naturalWidth") > 0

    start = len(s.transferred)
    s.go(reverse("inspections:notice", args=[inspection.pk]))
    _measure(s, "notice", start)
    s.shot("field-notice")
    s.page.emulate_media(media="print")
    s.shot("field-notice-print")


def test_a_missing_place_is_registered_with_the_phones_position(session_factory, tmp_path):
    from bihuan.places.models import Place
    from bihuan.testing import build_world

    world = build_world()
    s = _login(session_factory, PHONE, "baita_grid_worker", world)
    s.page.context.grant_permissions(["geolocation"], origin=s.base_url)
    s.page.context.set_geolocation({"latitude": 28.912345, "longitude": 120.051234,
                                    "accuracy": 8})

    start = len(s.transferred)
    s.go(reverse("inspections:new_place"))
    _measure(s, "new_place", start)
    s.page.fill("#id_name", "白塔村88号")
    s.tap('label[for="kind-rental_house"]')
    s.page.fill("#id_address", "白塔村88号")
    s.tap("[data-geolocate]")
    s.page.wait_for_function("document.querySelector('#id_latitude').value !== ''")
    s.page.fill("#id_party_name", "周先生")
    s.page.fill("#id_party_phone", "13812345678")
    s.shot("field-new-place")
    s.tap("form.new-place button[type=submit]")
    s.page.wait_for_url("**/start/")

    place = Place.objects.get(name="白塔村88号")
    assert place.area == world.grids["baita-1"]  # the worker's own grid, not chosen
    assert float(place.latitude) == pytest.approx(28.912345)
    assert place.party.name == "周先生"
    assert "白塔村88号" in s.page.content()
