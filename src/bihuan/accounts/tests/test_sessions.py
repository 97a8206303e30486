"""Sessions read with their user in one query, and still ended as Django ends them:
at logout (a copied cookie is worthless), by a password change, by deactivation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bihuan.accounts.models import User, UserSession

pytestmark = pytest.mark.django_db

PASSWORD = "Fire-Safety-2026"
PAGE = "/accounts/me/"


def _logged_in(user: User) -> Client:
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": PASSWORD})
    assert response.status_code == 302
    return client


def _copy(client: Client) -> Client:
    """Another client holding the same session cookie (a stolen or copied one)."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other


def _authenticated(client: Client) -> bool:
    return client.get(PAGE).status_code == 200


def test_the_session_row_names_its_user_and_one_query_reads_both(world):
    user = world.users["baita_grid_worker"]
    client = _logged_in(user)
    session = UserSession.objects.get(session_key=client.cookies["sessionid"].value)
    assert session.user_id == user.pk
    with CaptureQueriesContext(connection) as queries:
        assert _authenticated(client)
    reads = [q["sql"] for q in queries.captured_queries]
    session_reads = [sql for sql in reads if "accounts_usersession" in sql]
    assert len(session_reads) == 1 and "accounts_user" in session_reads[0].split("FROM")[1]
    user_alone = [sql for sql in reads
                  if sql.startswith("SELECT") and 'FROM "accounts_user" ' in sql
                  and "accounts_usersession" not in sql]
    assert user_alone == []


def test_the_session_cookie_is_http_only(world):
    user = world.users["baita_grid_worker"]
    client = _logged_in(user)
    assert client.cookies["sessionid"]["httponly"]


def test_logout_ends_the_session_for_every_copy_of_the_cookie(world):
    client = _logged_in(world.users["baita_grid_worker"])
    copied = _copy(client)
    assert _authenticated(copied)
    key = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    assert not UserSession.objects.filter(session_key=key).exists()
    assert not _authenticated(copied)


def test_a_password_change_ends_the_other_sessions(world):
    user = world.users["baita_grid_worker"]
    client = _logged_in(user)
    assert _authenticated(client)
    user.set_password("Another-Password-2026")
    user.save()
    assert not _authenticated(client)


def test_a_deactivated_user_is_logged_out(world):
    user = world.users["baita_grid_worker"]
    client = _logged_in(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not _authenticated(client)


def test_a_session_is_only_the_user_its_data_names(world):
    """The user column is a shortcut for reading; the session data decides who it is."""
    user = world.users["baita_grid_worker"]
    other = world.users["east_officer"]
    client = _logged_in(user)
    UserSession.objects.filter(session_key=client.cookies["sessionid"].value).update(
        user=other)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == user.pk
