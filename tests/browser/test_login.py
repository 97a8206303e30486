"""The first screen every user meets, in both languages and both widths."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, set_password

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_a_user_logs_in_and_sees_their_roles(session_factory, viewport):
    from bihuan.testing import build_world

    world = build_world(with_checklists=False)
    password = set_password(world.users["baita_cadre"])
    s = session_factory(viewport)
    s.go("/accounts/login/")
    assert "登录" in s.page.content()
    # No inline styles or scripts (a strict Content Security Policy forbids them).
    assert s.page.locator("style").count() == 0
    assert s.page.locator("script:not([src])").count() == 0
    s.shot("login")
    s.login("baita_cadre", password)
    s.go("/accounts/me/")
    assert "白塔村" in s.page.content()
    assert "联村干部" in s.page.content()
    s.shot("profile")
    # The language switch turns the page into English.
    s.page.click("button[name=language][value=en]")
    s.page.wait_for_load_state()
    assert "Village cadre" in s.page.content()
