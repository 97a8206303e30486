"""A commander creates a campaign, sets a target, publishes a cross-inspection draw
and sees the assignments: no team in its own town. Screens kept at 1280 and 360 px."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_commander_creates_a_campaign_and_publishes_a_cross_inspection_draw(session_factory):
    from bihuan.accounts.models import Team
    from bihuan.campaigns.models import Campaign, Draw
    from bihuan.testing import build_world

    world = build_world()
    east = Team.objects.create(name="东城交叉检查组", home_area=world.towns["east"])
    west = Team.objects.create(name="西城交叉检查组", home_area=world.towns["west"])
    password = set_password(world.users["commander"])

    s = session_factory(DESKTOP)
    s.login("commander", password)
    s.go("/")
    s.tap("nav a[href='/campaigns/']")
    s.page.wait_for_load_state()
    s.tap("#new-campaign")
    s.page.wait_for_load_state()
    s.page.fill("#id_name", "消防安全双月攻坚行动")
    s.page.fill("#id_code", "SYGJ-2026")
    s.page.select_option("#id_area", world.city.code)
    s.page.fill("#id_starts_on", "2026-09-14")
    s.page.fill("#id_ends_on", "2026-11-12")
    s.shot("campaign-new")
    s.tap("#campaign-form button[type=submit]")
    s.page.wait_for_load_state()
    campaign = Campaign.objects.get(code="SYGJ-2026")
    assert s.page.url.endswith(f"/campaigns/{campaign.pk}/")

    # A target over 100 % is refused on the page; 95 % is kept.
    s.page.select_option("#id_metric", "coverage")
    s.page.fill("#id_value", "120")
    s.tap("#target-form button[type=submit]")
    s.page.wait_for_load_state()
    assert s.page.locator(".errorlist, .error-box").count() >= 1
    assert not campaign.targets.exists()
    s.page.fill("#id_value", "95")
    s.tap("#target-form button[type=submit]")
    s.page.wait_for_load_state()
    assert s.page.locator("#targets tr[data-metric=coverage]").count() == 1

    # Publish the seed: recorded before anything is drawn.
    s.tap("#draws a[data-kind=cross]")
    s.page.wait_for_load_state()
    s.page.fill("#id_public_seed", "2026-09-14 福彩3D 258")
    s.page.fill("#id_per_town", "2")
    s.tap("#campaign-form button[type=submit]")
    s.page.wait_for_load_state()
    draw = Draw.objects.get()
    assert s.page.locator("#draw-seed").inner_text() == draw.seed
    assert not draw.assignments.exists()
    s.shot("campaign-draw-published")

    s.tap("#perform-draw button[type=submit]")
    s.page.wait_for_load_state()
    assert s.page.locator("#draw-verified").count() == 1
    rows = s.page.locator("#assignments tbody tr")
    assert rows.count() == draw.assignments.count() == 4
    for i in range(rows.count()):
        row = rows.nth(i)
        town = row.get_attribute("data-town")
        team = int(row.get_attribute("data-team"))
        home = {east.pk: world.towns["east"].code, west.pk: world.towns["west"].code}[team]
        assert town != home
    s.shot("campaign-draw-assignments")

    phone = session_factory(PHONE)
    phone.login("commander", password)
    for name, path in (("campaign-detail", f"/campaigns/{campaign.pk}/"),
                       ("campaign-draw", f"/campaigns/draws/{draw.pk}/")):
        phone.go(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways at 360 px ({width} px)"
        phone.shot(name)
