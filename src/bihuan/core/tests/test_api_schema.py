"""schemathesis against /api/schema/, as two roles: no server error, no response that
breaks the schema.

The commander calls with an API token; the grid worker with a browser session (and
its CSRF token). Each operation gets a few generated requests per role, half of them
aimed at objects that exist, so the handlers run past the 404.
``BIHUAN_SCHEMATHESIS_EXAMPLES`` makes it heavier.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bihuan.campaigns import services as campaign_services
from bihuan.core import clock
from bihuan.core.tokens import create_token
from bihuan.hazards import services as hazard_services
from bihuan.reports import services as report_services
from bihuan.testing import after_photo, before_photo, future

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("BIHUAN_SCHEMATHESIS_EXAMPLES", "5"))
CSRF = "schemathesisCsrfToken0123456789ab"


def _data(world) -> dict[str, list[int]]:
    """A few objects of each kind, in several states, for the generated requests to hit."""
    u, p = world.users, world.places
    ids: dict[str, list[int]] = {"hazard": [], "report": [], "campaign": [], "task": []}
    for key, actor in [("baita_rental", "baita_grid_worker"), ("baita_shop", "baita_cadre"),
                       ("loutang_rental", "loutang_grid_worker")]:
        checklist = world.checklist_for(p[key])
        item = next(i for i in checklist.items.order_by("order") if i.severity == "general")
        hazard = hazard_services.register_hazard(actor=u[actor], place=p[key], item=item,
                                                 description="", evidence=[before_photo()])
        ids["hazard"].append(hazard.pk)
    pending = hazard_services.submit_rectification(ids["hazard"][0], actor=u["landlord"],
                                                   evidence=[after_photo(1)])
    ids["hazard"].append(hazard_services.register_hazard(
        actor=u["landlord"], place=p["baita_rental"], description="楼道堆放杂物").pk)
    hazard_services.request_extension(ids["hazard"][1], actor=u["baita_cadre"], reason="等材料",
                                      requested_deadline=future(40))
    ids["report"].append(report_services.file_report(
        description="电动车充电", town=world.towns["east"], client_ip="10.0.0.1").pk)
    today = clock.today()
    for code, area in [("SCHEMA-CITY", world.city), ("SCHEMA-EAST", world.towns["east"])]:
        campaign = campaign_services.create_campaign(
            actor=u["commander"], code=code, name="消防安全专项整治", area=area,
            starts_on=today, ends_on=future(30))
        ids["campaign"].append(campaign.pk)
        ids["task"].append(campaign_services.create_task(
            actor=u["commander"], campaign=campaign, title="出租房全覆盖检查",
            due_on=future(10), area=world.towns["east"]).pk)
    assert pending.state == "pending_verification"
    return ids


def _exercise(operation, known, headers, checks) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy(), pick=st.sampled_from([None, *known]))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def call(case, pick):  # type: ignore[no-untyped-def]
        if pick is not None and case.path_parameters and "id" in case.path_parameters:
            case.path_parameters["id"] = pick
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks)

    call()


@pytest.mark.django_db
def test_the_api_keeps_its_schema_for_two_roles(world):
    from importlib import import_module

    from django.conf import settings
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from bihuan.wsgi import application

    started = time.monotonic()
    ids = _data(world)
    _token, secret = create_token(user=world.users["commander"], name="schemathesis")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    grid_worker = world.users["baita_grid_worker"]
    session.update({"_auth_user_id": str(grid_worker.pk),
                    "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                    "_auth_user_hash": grid_worker.get_session_auth_hash()})
    session.create()
    roles = {
        "commander (token)": {"Authorization": f"Token {secret}"},
        # An empty Authorization header (schemathesis would invent one from the security
        # scheme): the session authenticates, and the CSRF token goes with it.
        "grid worker (session)": {
            "Authorization": "", "X-CSRFToken": CSRF,
            "Cookie": f"sessionid={session.session_key}; csrftoken={CSRF}",
        },
    }
    # The session really logs the grid worker in: their hazards list answers, and
    # without the cookie the same request is refused.
    from django.test import Client

    signed_in = Client().get("/api/hazards/", HTTP_COOKIE=roles["grid worker (session)"]["Cookie"])
    assert signed_in.status_code == 200, signed_in.content[:300]
    assert Client().get("/api/hazards/").status_code in (401, 403)
    # As Django's test client does: the WSGI app must not close the test's connection
    # at the end of each request (PostgreSQL would lose the test transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _run(application, known=sorted({i for kind in ids.values() for i in kind} | {1, 2, 3}),
             roles=roles)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    print(f"schemathesis: 2 roles × {EXAMPLES} examples per operation "
          f"in {time.monotonic() - started:.1f} s")


def _run(application, *, known, roles) -> None:  # type: ignore[no-untyped-def]
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    checks = [not_a_server_error, response_schema_conformance]
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for headers in roles.values():
            _exercise(operation, known, headers, checks)
    assert operations >= 30
