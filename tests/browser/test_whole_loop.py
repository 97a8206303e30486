"""The closed loop through the UI by three different people, each in their own browser.

A grid worker registers a hazard with a photo from the place's page (phone), gives
the landlord the portal link; the landlord submits evidence through that link
(phone); a town officer verifies and closes it at a desk. The timeline shows
all three.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)


def _jpeg(tmp_path: Path, name: str, colour: tuple[int, int, int]) -> Path:
    from PIL import Image

    path = tmp_path / name
    Image.new("RGB", (640, 480), colour).save(path, "JPEG", quality=80)
    return path


def test_find_rectify_verify_by_three_people(session_factory, tmp_path):
    from bihuan.hazards.choices import HazardState
    from bihuan.hazards.models import Hazard
    from bihuan.testing import build_world

    world = build_world()
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").order_by("order")[0]

    # 1. The grid worker, on a phone, from the place's page.
    worker = session_factory(PHONE)
    worker.login("baita_grid_worker", set_password(world.users["baita_grid_worker"]))
    worker.go(reverse("places:detail", args=[place.pk]))
    worker.tap(f'a[href="{reverse("inspections:quick_hazard", args=[place.pk])}"]')
    worker.tap(f'label[for="item-{item.pk}"]')
    worker.page.set_input_files("#id_photo", str(_jpeg(tmp_path, "before.jpg", (150, 40, 40))))
    worker.tap(".submit-bar button[type=submit]")
    worker.page.wait_for_url("**/notice/")
    hazard = Hazard.objects.get(place=place)
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.evidence.filter(kind="before").count() == 1
    worker.shot("loop-1-registered")

    # ... and hands the landlord a portal link from the place's page.
    worker.go(reverse("places:detail", args=[place.pk]))
    worker.tap("#party-portal-links")
    worker.tap("main form button[type=submit]")  # "Issue a new link"
    link = worker.page.inner_text(".link-box").strip()
    assert "/portal/t/" in link

    # 2. The landlord opens the link on a phone and shows the fix.
    landlord = session_factory(PHONE)
    landlord.go(link[link.index("/portal/t/"):])
    landlord.page.wait_for_url("**/portal/")
    landlord.go(f"/portal/hazard/{hazard.pk}/rectify/")
    landlord.page.set_input_files("#id_photo", str(_jpeg(tmp_path, "after.jpg", (40, 150, 60))))
    landlord.page.fill("#id_note", "已整改")
    landlord.tap("form.card button[type=submit]")
    landlord.page.wait_for_selector(".message")
    hazard.refresh_from_db()
    assert hazard.state == HazardState.PENDING_VERIFICATION
    landlord.shot("loop-2-rectified")

    # 3. The town officer verifies at a desk.
    officer = session_factory(DESKTOP)
    officer.login("east_officer", set_password(world.users["east_officer"]))
    officer.go(reverse("hazards:detail", args=[hazard.pk]))
    officer.tap("#actions [data-action=verify_pass]")
    officer.tap("#action-panel button[type=submit]")
    officer.page.wait_for_selector(".message")
    hazard.refresh_from_db()
    assert hazard.state == HazardState.CLOSED
    assert hazard.closed_by == world.users["east_officer"]
    timeline = officer.page.inner_text(".timeline")
    for who in ("baita_grid_worker", "east_officer"):
        assert who in timeline
    assert list(hazard.events.values_list("actor__username", flat=True)) == [
        "baita_grid_worker", hazard.rectification_submitted_by.username, "east_officer"]
    officer.shot("loop-3-closed")
