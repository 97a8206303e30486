"""Lockout, the second factor and session expiry, through a real browser.

The live server runs in this process, so the tests move ``core.clock`` (idle timeout,
lockout window) and compute TOTP codes with pyotp at that same clock.
"""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from tests.browser.conftest import DESKTOP, set_password

pytestmark = pytest.mark.django_db(transaction=True)


def _error_after_login(s, username: str, password: str) -> str:
    s.login(username, password)
    return s.page.locator("#login-error").inner_text().strip()


def test_lockout_looks_the_same_for_a_real_and_an_unknown_user(session_factory, settings):
    from bihuan.testing import build_world

    settings.BIHUAN_LOCKOUT_FAILURES = 3
    world = build_world(with_checklists=False)
    password = set_password(world.users["baita_cadre"])
    s = session_factory(DESKTOP, locale="en-US")
    real = [_error_after_login(s, "baita_cadre", "wrong-guess-1") for _ in range(4)]
    ghost = [_error_after_login(s, "no_such_person", "wrong-guess-1") for _ in range(4)]
    assert real == ghost
    assert real[0] != real[3]  # wrong first, locked at the end
    s.shot("login-locked")
    # Locked: the right password gets the same locked message, and no session.
    assert _error_after_login(s, "baita_cadre", password) == real[3]
    s.go("/accounts/me/")
    assert "/accounts/login/" in s.page.url


def test_enrol_and_verify_the_second_factor(session_factory, settings):
    from bihuan.core import clock
    from bihuan.testing import build_world

    settings.BIHUAN_2FA_REQUIRED = True
    world = build_world(with_checklists=False)
    password = set_password(world.users["commander"])
    s = session_factory(DESKTOP)
    s.login("commander", password)
    # Straight to enrolment: nothing else opens before the second factor.
    assert "/accounts/two-factor/setup/" in s.page.url
    api = s.page.request.get(s.base_url + "/api/areas/")
    assert api.status == 403
    assert s.page.locator("#totp-qr svg").count() == 1
    assert s.page.locator("style").count() == 0
    assert s.page.locator("script:not([src])").count() == 0
    s.shot("two-factor-setup")
    secret = s.page.locator("#totp-secret").inner_text().replace(" ", "")
    s.page.fill("#id_code", pyotp.TOTP(secret).at(clock.now()))
    s.page.click("main button[type=submit]")
    s.page.wait_for_load_state()
    assert "/accounts/two-factor" not in s.page.url
    assert s.page.request.get(s.base_url + "/api/areas/").status == 200
    # Log out; the next login asks for a (new) code.
    clock.advance(dt.timedelta(minutes=2))
    s.page.context.clear_cookies()
    s.login("commander", password)
    assert "/accounts/two-factor/" in s.page.url and "setup" not in s.page.url
    s.page.fill("#id_code", "000000" if pyotp.TOTP(secret).at(clock.now()) != "000000"
                else "111111")
    s.page.click("main form button[type=submit] >> nth=0")
    s.page.wait_for_load_state()
    assert s.page.locator("#code-error").count() == 1
    s.shot("two-factor-wrong-code")
    s.page.fill("#id_code", pyotp.TOTP(secret).at(clock.now()))
    s.page.click("main form button[type=submit] >> nth=0")
    s.page.wait_for_load_state()
    assert "/accounts/two-factor" not in s.page.url
    s.go("/accounts/me/")
    assert "/accounts/me/" in s.page.url


def test_an_idle_session_expires(session_factory, settings):
    from bihuan.core import clock
    from bihuan.testing import build_world

    settings.BIHUAN_SESSION_IDLE_MINUTES = 30
    world = build_world(with_checklists=False)
    password = set_password(world.users["east_officer"])
    s = session_factory(DESKTOP, locale="en-US")
    s.login("east_officer", password)
    s.go("/accounts/me/")
    assert "/accounts/me/" in s.page.url
    # The bell loads by itself once the page is up: let it, so that the request finding
    # the session expired is the navigation below (when it is the bell's, the window goes
    # to the same login page: accounts/tests, test_a_poll_that_finds_the_session_...).
    s.page.wait_for_load_state("networkidle")
    clock.advance(dt.timedelta(minutes=31))
    s.go("/accounts/me/")
    assert "/accounts/login/" in s.page.url
    s.shot("session-expired")
    # Logging in again brings the user back where they were going.
    s.page.fill("#id_username", "east_officer")
    s.page.fill("#id_password", password)
    s.page.click("main button[type=submit]")
    s.page.wait_for_load_state()
    assert "/accounts/me/" in s.page.url


def test_the_admin_works_under_its_content_security_policy(session_factory, settings):
    """Django's admin pages run without a CSP violation (the fixture fails on any console
    error, and a blocked script or style is one)."""
    from bihuan.accounts.models import User
    from bihuan.testing import build_world

    world = build_world(with_checklists=False)
    root = User.objects.create_superuser("root_admin", password=None)
    password = set_password(root, "Admin-Pass-2026!")
    s = session_factory(DESKTOP, locale="en-US")
    # The admin's pages name no favicon; the browser's guess is no CSP matter.
    s.page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    s.go("/admin/login/")
    s.page.fill("#id_username", "root_admin")
    s.page.fill("#id_password", password)
    s.page.click("input[type=submit]")
    s.page.wait_for_load_state()
    response = s.go("/admin/accounts/user/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    s.go(f"/admin/accounts/user/{world.users['commander'].pk}/change/")
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator("#user_form").count() == 1
    s.go("/admin/places/place/add/")
    s.page.wait_for_load_state("networkidle")
    s.shot("admin-under-csp")
