"""The URL-level permission matrix, generated from ``bihuan.core.permissions_table``.

Every URL pattern of the resolver (pages, the API router, Django's admin) must be
named by a row of the table; every row is requested as every role, in every
relation that role can have to the row's object, and as an anonymous visitor.
Each request runs in a savepoint that is rolled back, so allowed POSTs leave
nothing behind for the next one. (``test_persona_matrix`` checks which *objects*
each persona sees through the ORM and the API; this one checks the URLs.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from bihuan.core import clock
from bihuan.core import permissions_table as pt
from bihuan.core.tests.test_persona_matrix import FROZEN_AT, Data, _build_data
from bihuan.testing import build_world

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the resolver


def url_patterns(resolver: URLResolver | None = None, prefix: str = "",
                 namespace: str | None = None) -> Iterator[tuple[str, str, URLPattern]]:
    """(key, route, pattern) for every pattern: key is ``namespace:name`` (or the route
    when a pattern has no name)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern, prefix + str(pattern.pattern), inner)
        else:
            route = prefix + str(pattern.pattern)
            name = pattern.name
            key = (f"{namespace}:{name}" if namespace else name) if name else route
            yield key, route, pattern


def test_every_url_pattern_is_in_the_table() -> None:
    missing = sorted({key for key, route, _p in url_patterns() if not pt.row_for(key, route)})
    assert not missing, (
        "URL patterns without a row in bihuan/core/permissions_table.py (add one per URL: "
        f"who may reach it, in which relation): {missing}"
    )


def test_every_row_names_a_url_pattern() -> None:
    keys = {(key, route) for key, route, _p in url_patterns()}
    stale = [row.name for row in pt.TABLE
             if not any(row in pt.row_for(key, route) for key, route in keys)]
    assert not stale, f"rows naming no URL pattern (removed or renamed?): {stale}"


def test_the_table_speaks_of_known_roles_and_relations() -> None:
    relations = {pt.OWN, pt.IN, pt.OUT, pt.NONE}
    for row in pt.TABLE:
        assert set(row.allow) <= set(pt.ROLES), row.name
        for role, rels in row.allow.items():
            assert rels <= relations, row.name
            if row.obj is None:
                assert rels == {pt.NONE}, f"{row.name}: no object, so relation NONE only"
            else:
                assert pt.NONE not in rels, f"{row.name}: names an object"
                # An allowed relation the role's sample cannot have would test nothing.
                assert rels <= set(pt.SAMPLE_PLACE[role]), f"{row.name} {role}"
        assert row.obj is None or row.obj in pt.OBJECTS, row.name
        assert row.anonymous in {pt.LOGIN, pt.OPEN, pt.NOT_FOUND}, row.name
        assert row.method in {"GET", "POST"}, row.name
    assert set(pt.PERSONA) == set(pt.ROLES)


# ---------------------------------------------------------------- the data


@pytest.fixture(scope="module")
def _matrix_data(django_db_setup: None, django_db_blocker: Any,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Data, str, Clients]]:
    """The persona matrix's data set and one signed-in client per role, built once for the
    module inside a transaction rolled back at its end (each test runs in a savepoint
    within it, each request in a savepoint within that)."""
    media = str(tmp_path_factory.mktemp("permission-matrix-media"))
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock():
        clock.freeze(FROZEN_AT)
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = _build_data(build_world())
            clients = Clients(built)
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
        finally:
            clock.reset()
    try:
        yield built, media, clients
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def data(_matrix_data: tuple[Data, str, Clients], db: None, settings: Any) -> Data:
    built, media, _clients = _matrix_data
    settings.MEDIA_ROOT = media  # the evidence files the data set wrote
    return built


@pytest.fixture
def clients(_matrix_data: tuple[Data, str, Clients], data: Data) -> Clients:
    return _matrix_data[2]


class Clients:
    """One test client per role, signed in once (``force_login``: a session row, no login
    request) and sharing one request handler: a new handler loads the middleware again,
    and WhiteNoise scans every static file when it does (two thirds of the matrix's time
    went there). Before each use a client's cookies are reset to its session alone, so a
    row that signs out or switches the language does not leak into the next request."""

    def __init__(self, data: Data) -> None:
        self._handler: Any = None
        self._sessions: dict[str, str | None] = {}
        self._clients: dict[str, Client] = {}
        for role in (*pt.ROLES, pt.ANONYMOUS):
            client = Client()
            if self._handler is None:
                self._handler = client.handler
            client.handler = self._handler
            if role != pt.ANONYMOUS:
                client.force_login(data.world.users[pt.PERSONA[role]])
            cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
            self._sessions[role] = cookie.value if cookie is not None else None
            self._clients[role] = client

    def __call__(self, role: str) -> Client:
        client = self._clients[role]
        client.cookies = SimpleCookie()
        session = self._sessions[role]
        if session is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = session
        return client

# ---------------------------------------------------------------- requests

REACH = "reach"
NOT_FOUND = "not found"
DENIED = "denied"
LOGIN = "login"


def expectation(row: pt.E, role: str, relation: str) -> str:
    if role == pt.ANONYMOUS:
        return {pt.LOGIN: LOGIN, pt.OPEN: REACH, pt.NOT_FOUND: NOT_FOUND}[row.anonymous]
    if relation in row.allow.get(role, frozenset()):
        return REACH
    # Out of scope: "not found", never a hint that it exists. In scope or own but not
    # this role's business: 403 or 404.
    return NOT_FOUND if relation == pt.OUT else DENIED


def _login_paths() -> tuple[str, ...]:
    return (resolve_url(settings.LOGIN_URL), reverse("admin:login"))


def outcome_problem(response: HttpResponse, want: str, path: str,
                    login_redirect_is_reach: bool = False) -> str | None:
    status = response.status_code
    location = response.get("Location", "") or ""
    to_login = status in (301, 302) and location.split("?")[0].endswith(_login_paths())
    if login_redirect_is_reach and want == REACH:
        to_login = False
    is_api = path.startswith("/api/")
    if want == REACH:
        ok = status < 500 and status not in (401, 403, 404, 405) and not to_login
    elif want == NOT_FOUND:
        ok = status == 404
    elif want == DENIED:
        ok = status in (403, 404)
    else:  # LOGIN
        ok = to_login or (is_api and status in (401, 403))
    if ok:
        return None
    return f"want {want}, got {status} {location}".strip()


def _request(client: Client, row: pt.E, path: str) -> Any:
    with transaction.atomic():
        if row.method == "POST":
            response = client.post(path, dict(row.data or {}))
        else:
            response = client.get(path)
        transaction.set_rollback(True)
    return response


def _path_for(row: pt.E, data: Data, role: str, relation: str) -> str | None:
    obj = None
    if row.obj is not None:
        place_key = pt.SAMPLE_PLACE[role].get(relation)
        if place_key is None:
            return None
        obj = pt.OBJECTS[row.obj](data.world.places[place_key], role, relation)
    kwargs = row.kwargs(obj) if row.kwargs else (pt.by_pk(obj) if obj is not None else {})
    path = reverse(row.name, kwargs=kwargs)
    if row.query:
        path += "?" + urlencode(row.query(obj))
    return path


def check_row(row: pt.E, data: Data, clients: Clients) -> list[str]:
    problems = []
    for role in (*pt.ROLES, pt.ANONYMOUS):
        relations = [pt.NONE] if row.obj is None else list(pt.SAMPLE_PLACE[role])
        for relation in relations:
            path = _path_for(row, data, role, relation)
            if path is None:
                continue
            want = expectation(row, role, relation)
            problem = outcome_problem(_request(clients(role), row, path), want, path,
                                      row.login_redirect_is_reach)
            if problem:
                problems.append(f"{row.method} {path} as {role} ({relation}): {problem}")
    return problems


CONCRETE_ROWS = [pytest.param(row, id=f"{row.method} {row.name}")
                 for row in pt.TABLE if not row.name.endswith("*")]


@pytest.mark.parametrize("row", CONCRETE_ROWS)
def test_row(row: pt.E, data: Data, clients: Clients) -> None:
    problems = check_row(row, data, clients)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the admin

def _admin_kwargs(pattern: URLPattern) -> dict[str, str]:
    names = list(pattern.pattern.regex.groupindex)
    return {name: ("accounts" if name == "app_label" else "1") for name in names}


def test_every_admin_url_sends_every_role_to_the_admin_login(data: Data,
                                                            clients: Clients) -> None:
    """No persona is staff: every admin page (and the anonymous visitor) → admin login."""
    admin_login = reverse("admin:login")
    problems = []
    # Staff status, not the role, opens the admin: a few roles stand for all.
    roles = (pt.CMD, pt.SYS, pt.AUD, pt.PARTY, pt.ANONYMOUS)
    checked = 0
    for key, _route, pattern in url_patterns():
        if not key.startswith("admin:") or key in ("admin:login", "admin:logout"):
            continue
        try:
            path = reverse(key, kwargs=_admin_kwargs(pattern))
        except NoReverseMatch:  # a pattern needing other arguments
            continue
        for role in roles:
            response = clients(role).get(path)
            location = response.get("Location", "") or ""
            if response.status_code != 302 or not location.startswith(admin_login):
                problems.append(f"{path} as {role}: {response.status_code} {location}")
        checked += 1
    assert checked > 20
    assert not problems, "\n".join(problems)


def test_staff_reach_the_admin(data: Data) -> None:
    from bihuan.accounts.models import User

    staff = User.objects.create_superuser("matrix_root", password=None)
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_the_matrix_catches_a_forgotten_url() -> None:
    """The coverage test really fails for an unnamed pattern (the guard guards)."""
    assert not pt.row_for("brand_new:endpoint", "brand/new/")
    assert re.match(r"admin", "admin:x") and pt.row_for("admin:anything", "admin/x/")
