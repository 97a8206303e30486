"""Account security: lockout, password policy and age, session timeouts, second factor,
the separated administrator roles, no demo accounts in production."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlencode

import pyotp
import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from bihuan.accounts import security
from bihuan.accounts import services as account_services
from bihuan.accounts.checks import no_demo_accounts_in_production
from bihuan.accounts.choices import Role
from bihuan.accounts.models import LoginFailure, TOTPDevice, User
from bihuan.audit.models import AuditEntry
from bihuan.core import clock
from bihuan.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

PASSWORD = "Fire-Safety-2026"


def _with_password(user: User, password: str = PASSWORD) -> User:
    user.set_password(password)
    user.save()
    return user


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> str:
    response = client.post("/accounts/login/", {"username": username, "password": password},
                           REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")
    if response.status_code == 302:
        return "ok"
    return response.context["form"].non_field_errors()[0]


# ---------------------------------------------------------------- lockout


def test_lockout_message_is_the_same_for_a_known_and_an_unknown_user(world, settings):
    settings.BIHUAN_LOCKOUT_FAILURES = 3
    _with_password(world.users["east_officer"])
    client = Client()
    known = [_login(client, "east_officer", "wrong-guess") for _ in range(4)]
    unknown = [_login(client, "no_such_user", "wrong-guess", ip="10.0.0.2")
               for _ in range(4)]
    assert known[0] == unknown[0] == "The user name or password is wrong."
    assert known[2] == unknown[2]
    assert "locked for 15 minutes" in known[2]
    assert known == unknown
    # Locked: even the right password is refused, with the same message.
    assert _login(client, "east_officer", PASSWORD) == known[3]
    assert "_auth_user_id" not in client.session


def test_a_lockout_ends_after_its_window_and_a_login_clears_the_failures(world, settings):
    settings.BIHUAN_LOCKOUT_FAILURES = 2
    _with_password(world.users["east_officer"])
    client = Client()
    for _ in range(2):
        _login(client, "east_officer", "wrong-guess")
    assert "locked" in _login(client, "east_officer", PASSWORD)
    clock.advance(dt.timedelta(minutes=16))
    assert _login(client, "east_officer", PASSWORD) == "ok"
    assert not LoginFailure.objects.filter(username="east_officer").exists()


def test_lockout_per_address_covers_many_usernames(world, settings):
    settings.BIHUAN_LOCKOUT_FAILURES_PER_IP = 4
    _with_password(world.users["west_officer"])
    client = Client()
    for n in range(4):
        _login(client, f"guess{n}", "wrong-guess", ip="10.9.9.9")
    assert "locked" in _login(client, "west_officer", PASSWORD, ip="10.9.9.9")
    assert _login(Client(), "west_officer", PASSWORD, ip="10.1.1.1") == "ok"


def test_the_lockout_also_guards_the_admin_login(world, settings):
    settings.BIHUAN_LOCKOUT_FAILURES = 2
    root = User.objects.create_superuser("root_admin", password=PASSWORD)
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "root_admin", "password": "x"})
    client.post("/admin/login/", {"username": root.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_logins_failures_lockouts_and_logouts_are_audited_without_passwords(world, settings):
    settings.BIHUAN_LOCKOUT_FAILURES = 2
    user = _with_password(world.users["east_officer"])
    client = Client()
    _login(client, "east_officer", "secret-guess-1", ip="10.0.0.7")
    _login(client, "east_officer", "secret-guess-2", ip="10.0.0.7")
    clock.advance(dt.timedelta(minutes=20))
    assert _login(client, "east_officer", PASSWORD, ip="10.0.0.7") == "ok"
    client.post("/accounts/logout/", REMOTE_ADDR="10.0.0.7")
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-5:] == ["auth.login_failed", "auth.login_failed", "auth.lockout",
                            "auth.login", "auth.logout"]
    failed = AuditEntry.objects.filter(action="auth.login_failed").first()
    assert failed.client_ip == "10.0.0.7"
    assert failed.data == {"username": "east_officer"}
    login = AuditEntry.objects.get(action="auth.login")
    assert login.actor_id == user.pk and login.client_ip == "10.0.0.7"
    everything = " ".join(str(e.data) for e in AuditEntry.objects.all())
    assert "secret-guess" not in everything and PASSWORD not in everything


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize("password", ["short1A!", "alllowercaseletters", "abcdefgh12",
                                      "1234567890123", "Password123"])
def test_weak_passwords_are_refused(world, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=world.users["east_officer"])


def test_a_password_like_the_username_is_refused(world):
    user = world.users["east_officer"]
    with pytest.raises(ValidationError):
        validate_password("East_Officer1", user=user)


def test_a_strong_password_is_accepted(world):
    validate_password("Tr1cky-Horse-Lamp", user=world.users["east_officer"])


def test_administrators_must_change_an_old_password(world, settings):
    settings.BIHUAN_ADMIN_PASSWORD_MAX_AGE_DAYS = 90
    admin = _with_password(world.users["security_admin"])
    officer = _with_password(world.users["east_officer"])
    clock.advance(dt.timedelta(days=91))
    client = Client()
    client.force_login(admin)
    response = client.get("/accounts/me/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    new = "Another-Strong-Pass-7"
    response = client.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert client.get("/accounts/me/").status_code == 200
    officer_client = Client()
    officer_client.force_login(officer)
    assert officer_client.get("/accounts/me/").status_code == 200


# ---------------------------------------------------------------- sessions


def test_an_idle_session_expires(world, settings):
    settings.BIHUAN_SESSION_IDLE_MINUTES = 30
    client = Client()
    client.force_login(world.users["east_officer"])
    assert client.get("/accounts/me/").status_code == 200
    clock.advance(dt.timedelta(minutes=29))
    assert client.get("/accounts/me/").status_code == 200
    clock.advance(dt.timedelta(minutes=31))
    response = client.get("/accounts/me/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.session_expired",
                                     data__reason="idle").exists()


def test_a_poll_that_finds_the_session_expired_sends_the_window_to_the_login_and_back(
        world, settings):
    """The bell polls with htmx: when its request is the one that finds the session
    expired, the window goes to the login page with the page the user was on as ``next``
    (an address on another host is never taken from the header)."""
    settings.BIHUAN_SESSION_IDLE_MINUTES = 30
    for current, back in [("http://testserver/hazards/?state=rectifying",
                           "/hazards/?state=rectifying"),
                          ("http://testserver//evil.example/x", "/notifications/bell/")]:
        client = Client()
        client.force_login(world.users["east_officer"])
        assert client.get("/accounts/me/").status_code == 200
        clock.advance(dt.timedelta(minutes=31))
        response = client.get("/notifications/bell/", HTTP_HX_REQUEST="true",
                              HTTP_HX_CURRENT_URL=current, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 204
        assert response["HX-Redirect"] == "/accounts/login/?" + urlencode({"next": back})
        assert "_auth_user_id" not in client.session
        login = client.get(response["HX-Redirect"], HTTP_ACCEPT_LANGUAGE="en")
        assert "Your session has expired." in login.content.decode()


def test_a_busy_session_still_ends_after_the_absolute_limit(world, settings):
    settings.BIHUAN_SESSION_ABSOLUTE_HOURS = 12
    client = Client()
    client.force_login(world.users["east_officer"])
    for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
        assert client.get("/accounts/me/").status_code == 200
        clock.advance(dt.timedelta(minutes=20))
    clock.advance(dt.timedelta(minutes=1))
    assert client.get("/accounts/me/").status_code == 302
    api = Client()
    api.force_login(world.users["east_officer"])
    clock.advance(dt.timedelta(hours=13))
    assert api.get("/api/hazards/").status_code == 401


# ---------------------------------------------------------------- second factor


def _enrol(client: Client) -> str:
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("</main>")[0].split("<main")[-1]
    secret = client.session[security.SESSION_ENROL_SECRET]
    response = client.post("/accounts/two-factor/setup/?next=/accounts/me/",
                           {"code": pyotp.TOTP(secret).at(clock.now())})
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    return secret


@pytest.mark.parametrize("persona", ["commander", "system_admin", "security_admin",
                                     "audit_admin"])
def test_administrators_and_command_staff_need_the_second_factor(world, settings, persona):
    settings.BIHUAN_2FA_REQUIRED = True
    client = Client()
    client.force_login(world.users[persona])
    response = client.get("/accounts/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/")
    # The API answers a session without the second factor with 403, not data.
    assert client.get("/api/areas/").status_code == 403
    _enrol(client)
    assert client.get("/accounts/me/").status_code == 200
    assert client.get("/api/areas/").status_code == 200
    assert TOTPDevice.objects.get(user=world.users[persona]).confirmed_at is not None


def test_other_roles_need_no_second_factor(world, settings):
    settings.BIHUAN_2FA_REQUIRED = True
    client = Client()
    client.force_login(world.users["east_officer"])
    assert client.get("/accounts/me/").status_code == 200


def test_the_second_factor_is_off_unless_required(world, settings):
    settings.BIHUAN_2FA_REQUIRED = False
    client = Client()
    client.force_login(world.users["commander"])
    assert client.get("/accounts/me/").status_code == 200


def test_a_later_login_asks_for_a_code_and_a_code_works_once(world, settings):
    settings.BIHUAN_2FA_REQUIRED = True
    commander = _with_password(world.users["commander"])
    first = Client()
    first.force_login(commander)
    secret = _enrol(first)
    clock.advance(dt.timedelta(minutes=1))
    client = Client()
    assert _login(client, "commander", PASSWORD) == "ok"
    assert client.get("/").status_code == 302
    code = pyotp.TOTP(secret).at(clock.now())
    wrong = client.post("/accounts/two-factor/", {"code": "000000" if code != "000000"
                                                  else "111111"})
    assert wrong.status_code == 200 and "_bihuan_2fa_at" not in client.session
    assert client.post("/accounts/two-factor/", {"code": code}).status_code == 302
    assert client.get("/accounts/me/").status_code == 200
    # The same code cannot be used again (replay), even in another session.
    again = Client()
    again.force_login(commander)
    assert again.post("/accounts/two-factor/", {"code": code}).status_code == 200
    assert AuditEntry.objects.filter(action="auth.2fa_failed").count() == 2


def test_token_authenticated_systems_are_exempt(world, settings):
    settings.BIHUAN_2FA_REQUIRED = True
    from bihuan.core.tokens import create_token

    issued = create_token(user=world.users["commander"], name="sync")
    secret = issued[1] if isinstance(issued, tuple) else issued
    response = Client().get("/api/areas/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200


def test_the_setup_page_is_clean_of_inline_script_and_style(world, settings):
    settings.BIHUAN_2FA_REQUIRED = True
    client = Client()
    client.force_login(world.users["commander"])
    response = client.get("/accounts/two-factor/setup/")
    html = response.content.decode()
    assert 'style="' not in html and "<style" not in html
    assert all('src="' in tag for tag in html.split("<script")[1:])
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy


# ---------------------------------------------------------------- roles, accounts


def test_the_three_administrator_roles_exclude_one_another(world):
    admin = world.users["system_admin"]
    for role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        with translation.override("en"), pytest.raises(ValidationFailed,
                                                       match="mutually exclusive"):
            account_services.grant_role(actor=None, user=admin, role=role)
    assert not admin.memberships.filter(role__in=[Role.SECURITY_ADMIN,
                                                  Role.AUDIT_ADMIN]).exists()


def test_role_changes_are_audited(world):
    membership = account_services.grant_role(actor=world.users["security_admin"],
                                             user=world.users["east_officer_2"],
                                             role=Role.TOWN_OFFICER, area=world.towns["west"])
    account_services.revoke_role(actor=world.users["security_admin"], membership=membership)
    actions = list(AuditEntry.objects.filter(stream="permissions").values_list("action",
                                                                                flat=True))
    assert actions[-2:] == ["membership.grant", "membership.revoke"]


def test_demo_accounts_fail_the_check_in_production(world, settings):
    settings.PRODUCTION = True
    assert no_demo_accounts_in_production() == []
    User.objects.create_user("demo-cmd", password=None)
    errors = no_demo_accounts_in_production()
    assert [e.id for e in errors] == ["bihuan.E001"] and "demo-cmd" in errors[0].msg
    settings.PRODUCTION = False
    assert no_demo_accounts_in_production() == []


def test_a_locked_check_takes_about_as_long_as_a_real_one(world, settings):
    """No timing oracle: locked, unknown and wrong-password answers cost a hash each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    settings.BIHUAN_LOCKOUT_FAILURES = 1
    _with_password(world.users["east_officer"])

    def timed(username: str, ip: str) -> float:
        start = time.perf_counter()
        _login(Client(), username, "wrong-guess", ip=ip)
        return time.perf_counter() - start

    timed("east_officer", "10.3.0.1")  # now locked
    locked = timed("east_officer", "10.3.0.2")
    unknown = timed("nobody_here", "10.3.0.3")
    assert locked > unknown / 3


def test_fragment_requests_of_an_unverified_session_swap_nothing(world, settings):
    settings.BIHUAN_2FA_REQUIRED = True
    client = Client()
    client.force_login(world.users["commander"])
    response = client.get("/accounts/me/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and not response.content
