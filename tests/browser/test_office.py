"""Office work on a desktop: the inbox, the hazard list, a hazard, an extension decided.

A town officer approves the landlord's extension request and sees the new
deadline on the hazard's history; an officer of another town opening the same
hazard gets the "not found" page. The key screens are shot at 360 and 1280 px.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)


def _world():
    from bihuan.hazards import services
    from bihuan.testing import after_photo, before_photo, build_world

    world = build_world()
    u, p = world.users, world.places

    def register(place: str, actor: str, index: int = 0):
        items = [i for i in world.checklist_for(p[place]).items.all() if i.severity == "general"]
        return services.register_hazard(actor=u[actor], place=p[place], item=items[index],
                                        description="", evidence=[before_photo(index)])

    asked = register("baita_rental", "baita_grid_worker")
    wanted = asked.deadline + dt.timedelta(days=21)
    services.request_extension(asked, actor=u["landlord"], reason="防火门定制，需等三周到货",
                               requested_deadline=wanted)
    market = register("wujin_market", "east_officer", 1)
    pending = register("baita_shop", "baita_grid_worker", 2)
    services.submit_rectification(pending, actor=u["shopkeeper"], evidence=[after_photo(7)])
    register("loutang_hotel", "loutang_grid_worker")
    return world, asked, wanted, market, pending


def test_a_town_officer_approves_an_extension_from_the_inbox(session_factory):
    world, asked, wanted, market, pending = _world()
    password = set_password(world.users["east_officer"])
    set_password(world.users["west_officer"], password)

    s = session_factory(DESKTOP)
    s.login("east_officer", password)
    s.go("/")
    assert s.page.locator("#inbox-extensions [data-count]").get_attribute("data-count") == "1"
    assert s.page.locator("#inbox-verify [data-count]").get_attribute("data-count") == "1"
    s.shot("office-inbox")

    # The list, narrowed to 白塔村: the market in 五金城社区 drops out.
    s.go("/hazards/")
    s.page.select_option("#id_area", world.villages["baita"].code)
    s.tap("#hazard-filters button[type=submit]")
    s.page.wait_for_load_state()
    rows = s.page.locator("#hazard-list tbody tr")
    assert rows.count() == 2
    assert asked.number in s.page.content() and market.number not in s.page.content()
    s.shot("office-list")

    s.tap(f"#hazard-list a[href='/hazards/{asked.pk}/']")
    s.page.wait_for_load_state()
    assert s.page.locator("#pending-extension").is_visible()
    s.shot("office-detail")

    # The button loads the form in place (htmx); approving sends back to the hazard.
    s.tap("#actions [data-action=approve_extension]")
    s.page.wait_for_selector("#action-panel form")
    s.page.fill("#action-panel textarea[name=reason]", "同意延期")
    s.tap("#action-panel button[type=submit]")
    s.page.wait_for_url(f"**/hazards/{asked.pk}/")
    assert s.page.locator("#pending-extension").count() == 0
    assert s.page.locator("#hazard-deadline").inner_text().startswith(wanted.isoformat())
    last = s.page.locator("#timeline .timeline > li").last
    assert wanted.isoformat() in last.inner_text()
    assert "同意延期" in last.inner_text()
    s.shot("office-detail-approved")

    # The same screens on a phone.
    phone = session_factory(PHONE)
    phone.login("east_officer", password)
    place = world.places["baita_rental"].pk
    for name, path in (("office-inbox", "/"), ("office-list", "/hazards/"),
                       ("office-detail", f"/hazards/{asked.pk}/"),
                       ("office-places", "/places/?q=baita"), ("office-place", f"/places/{place}/"),
                       ("office-qr", f"/places/{place}/qr/"),
                       ("office-list-filtered", "/hazards/?state=rectifying&place_kind=shop"),
                       ("office-verify-fail", f"/hazards/{pending.pk}/do/verify_fail/")):
        phone.go(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways at 360 px ({width} px)"
        phone.shot(name)

    # Another town's officer: the hazard does not exist for them.
    west = session_factory(DESKTOP)
    west.login("west_officer", password)
    response = west.go(f"/hazards/{asked.pk}/")
    assert response.status == 404
    with translation.override("zh-hans"):
        not_found = translation.gettext("Not found")
    assert west.page.locator("#not-found h1").inner_text() == not_found
    west.shot("office-not-found")
    # Chromium reports the 404 document itself as a failed resource; nothing else may.
    west.console_errors[:] = [e for e in west.console_errors if "404" not in e]
