"""A citizen reports a hazard from a phone and an official triages it; a responsible
party works through its portal by the link it was given."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)

# 白塔村's centre, and a phone standing about 40 m from it (WGS-84).
BAITA_CENTRE = (Decimal("28.905000"), Decimal("120.075000"))
PHONE_AT = {"latitude": 28.9053, "longitude": 120.0752}


def _follow(session, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Tap a link or a submit button and wait for the page it leads to."""
    with session.page.expect_navigation():
        session.tap(selector)


def _images_loaded(session, selector: str) -> list[int]:  # type: ignore[no-untyped-def]
    session.page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )
    return session.page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.naturalWidth)")


def _photo(tmp_path: Path, name: str = "hazard.jpg", colour: tuple[int, int, int] = (190, 60, 40)
           ) -> Path:
    """A real JPEG, as a phone camera would hand it over (with a GPS position in its EXIF)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 120, 440, 360), fill=(240, 240, 240))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (28.0, 54.0, 19.0), 3: "E", 4: (120.0, 4.0, 31.0)}
    path = tmp_path / name
    image.save(path, "JPEG", exif=exif, quality=85)
    return path


def _locate_areas(world) -> None:  # type: ignore[no-untyped-def]
    from bihuan.areas.models import Area

    centres = {
        world.towns["east"].pk: (Decimal("28.900000"), Decimal("120.060000")),
        world.towns["west"].pk: (Decimal("28.880000"), Decimal("119.990000")),
        world.villages["baita"].pk: BAITA_CENTRE,
        world.villages["wujin"].pk: (Decimal("28.915000"), Decimal("120.050000")),
        world.villages["loutang"].pk: (Decimal("28.870000"), Decimal("119.980000")),
    }
    Area.objects.filter(level__in=["city", "grid"]).update(latitude=None, longitude=None)
    for pk, (lat, lon) in centres.items():
        Area.objects.filter(pk=pk).update(latitude=lat, longitude=lon)


def test_a_citizen_reports_from_a_phone_and_an_officer_triages_it(session_factory, tmp_path):
    from bihuan.hazards.choices import HazardSource, HazardState
    from bihuan.reports.models import CitizenReport
    from bihuan.testing import build_world

    world = build_world()
    _locate_areas(world)
    password = set_password(world.users["east_officer"])

    # The citizen, on a phone, without an account.
    citizen = session_factory(PHONE)
    citizen.page.context.grant_permissions(["geolocation"])
    citizen.page.context.set_geolocation(PHONE_AT)
    citizen.go("/accounts/login/")
    _follow(citizen, "a[href='/report/']")
    assert citizen.page.url.endswith("/report/")
    citizen.page.fill("#id_description", "楼道里三辆电动车在充电，堵住了楼梯")
    citizen.page.set_input_files("#id_photo", str(_photo(tmp_path)))
    citizen.tap("[data-locate-button]")
    citizen.page.wait_for_selector(".locate-status.ok")
    assert citizen.page.input_value("input[name=latitude]") == "28.905300"
    citizen.page.fill("#id_place_description", "白塔村东头三层出租房")
    citizen.page.fill("#id_contact", "13812345678")
    citizen.shot("report-form")
    _follow(citizen, "main form button[type=submit]")
    citizen.page.wait_for_selector(".ticket-box")
    ticket = citizen.page.inner_text(".ticket-box .ticket").strip()
    assert re.fullmatch(r"YK-[A-Z2-7]{8}", ticket)
    assert "13812345678" not in citizen.page.content()
    citizen.shot("report-status")
    report = CitizenReport.objects.get(ticket=ticket)
    assert report.area == world.villages["baita"]
    assert report.photo

    # Later, the citizen follows the report by its ticket.
    citizen.go("/report/")
    citizen.page.fill("#id_ticket", ticket.lower())
    _follow(citizen, "form[action='/report/follow/'] button[type=submit]")
    citizen.page.wait_for_url(f"**/report/{ticket}/")
    assert "待核实" not in citizen.page.content()
    # The photo shown is the public copy, and it loads.
    assert _images_loaded(citizen, "img.photo-large") == [640]

    # The town officer, at a desk, triages it into a hazard at the rental house.
    officer = session_factory(DESKTOP)
    officer.login("east_officer", password)
    _follow(officer, "nav a[href='/report/triage/']")
    assert ticket in officer.page.content()
    officer.shot("report-triage")
    _follow(officer, f"a:text('{ticket}')")
    assert "13812345678" in officer.page.content()  # the officials may call back
    officer.page.select_option("#id_place", str(world.places["baita_rental"].pk))
    officer.shot("report-detail")
    _follow(officer, "form:has(input[value=accept]) button[type=submit]")
    officer.page.wait_for_selector(".message")
    report.refresh_from_db()
    assert report.hazard is not None
    assert report.hazard.state == HazardState.REPORTED
    assert report.hazard.source == HazardSource.CITIZEN_REPORT
    assert report.hazard.place == world.places["baita_rental"]

    # The citizen sees the outcome, never the private address.
    citizen.page.reload()
    content = citizen.page.content()
    assert "待核实" in content
    assert world.places["baita_rental"].address not in content
    citizen.shot("report-status-accepted")

    # The same screens at the other width.
    desk = session_factory(DESKTOP)
    desk.go("/report/")
    desk.shot("report-form")
    desk.go(f"/report/{ticket}/")
    desk.shot("report-status")
    phone_officer = session_factory(PHONE)
    phone_officer.login("east_officer", password)
    phone_officer.go("/report/triage/")
    phone_officer.shot("report-triage")
    phone_officer.go(f"/report/triage/{report.pk}/")
    phone_officer.shot("report-detail")


def test_a_party_opens_its_portal_by_link_and_works_through_it(session_factory, tmp_path):
    from bihuan.hazards import services as hazard_services
    from bihuan.hazards.choices import ExtensionStatus, HazardState
    from bihuan.portal import services as portal_services
    from bihuan.testing import before_photo, build_world, future

    world = build_world()
    rental = world.places["baita_rental"]
    items = [i for i in world.checklist_for(rental).items.order_by("order")
             if i.severity == "general"]
    worker = world.users["baita_grid_worker"]
    to_fix, to_extend = (
        hazard_services.register_hazard(actor=worker, place=rental, item=item, description="",
                                        evidence=[before_photo(n)], deadline=future(7))
        for n, item in enumerate(items[:2])
    )
    _token, raw = portal_services.issue_token(actor=world.users["east_officer"],
                                              party=world.parties["landlord"])

    # At a desk first, for the wide screenshots.
    desk = session_factory(DESKTOP)
    desk.go(f"/portal/t/{raw}/")
    desk.page.wait_for_url("**/portal/")
    desk.shot("portal-home")
    desk.go(f"/portal/hazard/{to_fix.pk}/rectify/")
    desk.shot("portal-evidence")

    # The landlord, on a phone, opens the link from the notice.
    party = session_factory(PHONE)
    party.go(f"/portal/t/{raw}/")
    party.page.wait_for_url("**/portal/")
    content = party.page.content()
    assert "楼先生" in content and "baita_rental" in content
    assert "baita_shop" not in content
    party.shot("portal-home")

    _follow(party, f"a[href='/portal/hazard/{to_fix.pk}/']")
    party.shot("portal-hazard")
    _follow(party, f"a[href='/portal/hazard/{to_fix.pk}/rectify/']")
    party.page.set_input_files("#id_photo", str(_photo(tmp_path, "after.jpg", (60, 160, 80))))
    party.page.fill("#id_note", "电动车已移走，楼道已清空")
    party.shot("portal-evidence")
    _follow(party, "form.card button[type=submit]")
    party.page.wait_for_selector(".message")
    to_fix.refresh_from_db()
    assert to_fix.state == HazardState.PENDING_VERIFICATION
    assert to_fix.rectification_submitted_by == world.users["landlord"]
    # Both photos show, as clean copies.
    assert len(_images_loaded(party, ".photos img")) == 2

    party.go("/portal/")
    _follow(party, f"a[href='/portal/hazard/{to_extend.pk}/']")
    _follow(party, f"a[href='/portal/hazard/{to_extend.pk}/extension/']")
    party.page.fill("#id_requested_deadline", future(30).isoformat())
    party.page.fill("#id_reason", "防火门需要定制，厂家交货要三周")
    party.shot("portal-extension")
    _follow(party, "form.card button[type=submit]")
    party.page.wait_for_selector(".message")
    to_extend.refresh_from_db()
    assert to_extend.clock_paused_since is not None
    assert to_extend.extensions.get().status == ExtensionStatus.PENDING
    party.shot("portal-hazard-extension")

    # The notice page, and leaving the portal.
    party.go(f"/portal/place/{rental.pk}/notice/")
    assert to_extend.number in party.page.content()
    party.shot("portal-notice")
    party.go("/portal/")
    _follow(party, ".portal-bar button[type=submit]")
    party.go("/portal/")
    assert "/accounts/login/" in party.page.url
