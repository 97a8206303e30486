"""Who sees what: every persona × every kind of object, through the ORM and the API.

The table ``MATRIX`` is written from the brief's "Who uses it" table, not from
the scoping code: for each persona, the places (by key in ``bihuan.testing``)
it may see and the root of the area subtree it may see. Every expected set
(areas, places, parties, inspections, hazards, hazard events) is derived from
that table with plain Python over the data, never with ``visible_to``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import transaction
from django.db.models import Model
from django.test import Client
from django.test.utils import override_settings

from bihuan.accounts.models import User
from bihuan.api_urls import router
from bihuan.areas.models import Area
from bihuan.audit.models import AuditEntry
from bihuan.campaigns import draws as campaign_draws
from bihuan.campaigns import services as campaign_services
from bihuan.campaigns.models import (
    Campaign,
    Draw,
    DutyCheckItem,
    DutyFinding,
    Responsibility,
    Task,
)
from bihuan.core import clock
from bihuan.core.permissions_table import sample_tenant
from bihuan.core.scoping import ScopedQuerySet
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import HazardSource, HazardState, Severity
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.imports.models import ImportJob
from bihuan.inspections import services as inspection_services
from bihuan.inspections.choices import InspectionKind, ItemOutcome
from bihuan.inspections.models import Inspection
from bihuan.places.models import Party, Place
from bihuan.portal.models import PortalToken
from bihuan.reports.models import CitizenReport
from bihuan.tenants.models import Tenant
from bihuan.testing import PERSONAS, World, after_photo, before_photo, build_world, future

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the table

ALL_PLACES = frozenset({"baita_rental", "baita_shop", "baita2_workshop", "wujin_market",
                        "loutang_rental", "loutang_hotel"})
EAST_TOWN = frozenset({"baita_rental", "baita_shop", "baita2_workshop", "wujin_market"})
WEST_TOWN = frozenset({"loutang_rental", "loutang_hotel"})
NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Row:
    # The root of the area subtree the persona sees (area key), None: no areas.
    areas: str | None
    # The places it sees, by key.
    places: frozenset[str]
    # A responsible party also sees its own party record.
    own_party: str | None = None
    # A citizen sees the hazards it reported (and nothing else).
    own_reports: bool = False


MATRIX: dict[str, Row] = {
    # command HQ: everything in the city
    "commander": Row("city", ALL_PLACES),
    # town officers: their town's subtree
    "east_officer": Row("east", EAST_TOWN),
    "east_officer_2": Row("east", EAST_TOWN),
    "west_officer": Row("west", WEST_TOWN),
    # village cadre: the village; grid workers: the grid
    "baita_cadre": Row("baita", frozenset({"baita_rental", "baita_shop", "baita2_workshop"})),
    "baita_grid_worker": Row("baita-1", frozenset({"baita_rental", "baita_shop"})),
    "loutang_grid_worker": Row("loutang-1", frozenset({"loutang_rental", "loutang_hotel"})),
    # department inspectors: the kinds in their jurisdiction, city-wide (areas: the city)
    "fire_inspector": Row("city", ALL_PLACES),
    "market_inspector": Row("city", frozenset({"baita_shop", "wujin_market"})),
    # responsible parties: their own places only (楼先生, 胡女士)
    "landlord": Row(None, frozenset({"baita_rental", "loutang_rental"}), own_party="landlord"),
    "shopkeeper": Row(None, frozenset({"baita_shop", "wujin_market"}), own_party="shopkeeper"),
    # the citizen: its own reports only
    "citizen": Row(None, NOTHING, own_reports=True),
    # 三员分立: the administrators see no case data
    "system_admin": Row(None, NOTHING),
    "security_admin": Row(None, NOTHING),
    "audit_admin": Row(None, NOTHING),
    "nobody": Row(None, NOTHING),
}

# The object kinds of the matrix: name → model.
KINDS: dict[str, type[Model]] = {
    "area": Area,
    "place": Place,
    "party": Party,
    "inspection": Inspection,
    "hazard": Hazard,
    "hazard_event": HazardEvent,
    "tenant": Tenant,
    "campaign": Campaign,
    "task": Task,
    "responsibility": Responsibility,
    "draw": Draw,
    "duty_finding": DutyFinding,
}

# Every endpoint of the API router: prefix → (object kind, extra actions the matrix covers).
# "events" is checked per hazard below; "transition" by the out-of-scope transition test;
# every other hazard action (each transition, evidence, extensions) answers 404 out of
# scope in core/tests/test_api.py (test_out_of_scope_objects_are_404_on_every_endpoint),
# which walks the viewset's actions so a new one cannot be missed.
HAZARD_ACTIONS_TESTED_IN_TEST_API = frozenset({
    "evidence", "extensions", "confirm", "dismiss", "submit_rectification", "verify_pass",
    "verify_fail", "hand_over", "enforcement_result", "look_back_pass", "look_back_fail",
    "void", "request_extension", "approve_extension", "refuse_extension", "decide_major",
    "reject_major", "list_supervision", "delist_supervision",
})
ENDPOINTS: dict[str, tuple[str, frozenset[str]]] = {
    "areas": ("area", frozenset()),
    "places": ("place", frozenset()),
    "parties": ("party", frozenset()),
    "inspections": ("inspection", frozenset()),
    "hazards": ("hazard", frozenset({"events", "transition"})
                | HAZARD_ACTIONS_TESTED_IN_TEST_API),
    "campaigns": ("campaign", frozenset()),
    "campaign-tasks": ("task", frozenset()),
}
# Router endpoints whose scoping is tested elsewhere (their model is not a matrix kind).
ENDPOINTS_ELSEWHERE: dict[str, str] = {
    "reports": "citizen reports: reports/tests (test_who_sees_which_report) for the rule, "
    "core/tests/test_api.py for the API's 404s",
}

PERSONA_PARAMS = [pytest.param(name, id=name) for name in MATRIX]

# ---------------------------------------------------------------- the data set


def _general_item(world: World, place_key: str) -> Any:
    checklist = world.checklist_for(world.places[place_key])
    return next(i for i in checklist.items.order_by("order") if i.severity == "general")


def _inspect(world: World, actor: str, place_key: str, kind: str, *, finding: bool = True,
             org_unit: str | None = None) -> Inspection:
    place = world.places[place_key]
    checklist = world.checklist_for(place)
    item = _general_item(world, place_key)
    findings = [inspection_services.Finding(item_code=item.code, deadline=future(10),
                                            evidence=[before_photo()])] if finding else []
    results = {} if finding else {item.code: ItemOutcome.PASS}
    return inspection_services.submit_inspection(
        actor=world.users[actor], place=place, kind=kind, checklist=checklist,
        results=results, findings=findings,
        org_unit=world.org_units[org_unit] if org_unit else None,
    )


@dataclass
class Data:
    world: World
    pending: Hazard  # baita_rental, pending verification (east town, landlord's place)
    citizen_report: Hazard


def _build_data(world: World) -> Data:
    u = world.users
    # baita_rental: a grid worker's patrol finds a hazard; the landlord rectifies it.
    _inspect(world, "baita_grid_worker", "baita_rental", InspectionKind.GRID_PATROL)
    pending = Hazard.objects.get(place=world.places["baita_rental"])
    pending = hazard_services.submit_rectification(pending, actor=u["landlord"],
                                                   evidence=[after_photo(1)])
    # baita_shop: the shopkeeper's own self-check finds a hazard (reported, to be confirmed).
    _inspect(world, "shopkeeper", "baita_shop", InspectionKind.SELF_CHECK)
    # baita2_workshop: the village cadre registers, rectifies on behalf, the town closes it.
    _inspect(world, "baita_cadre", "baita2_workshop", InspectionKind.GRID_PATROL)
    workshop = Hazard.objects.get(place=world.places["baita2_workshop"])
    hazard_services.submit_rectification(workshop, actor=u["baita_cadre"],
                                         evidence=[after_photo(2)])
    hazard_services.pass_verification(workshop, actor=u["east_officer"])
    # wujin_market: the market regulator's department inspection.
    _inspect(world, "market_inspector", "wujin_market", InspectionKind.DEPARTMENT,
             org_unit="market")
    # loutang_rental: a grid patrol, and the landlord's own self-check report.
    _inspect(world, "loutang_grid_worker", "loutang_rental", InspectionKind.GRID_PATROL)
    hazard_services.register_hazard(actor=u["landlord"], place=world.places["loutang_rental"],
                                    description="楼道堆放杂物")
    # loutang_hotel: a clean fire-brigade inspection; the town officer registers a hazard.
    _inspect(world, "fire_inspector", "loutang_hotel", InspectionKind.DEPARTMENT,
             finding=False, org_unit="fire")
    hazard_services.register_hazard(
        actor=u["west_officer"], place=world.places["loutang_hotel"],
        description="安全出口上锁", requirement="保持安全出口畅通", deadline=future(5),
    )
    # loutang_hotel: a citizen's report. Citizens cannot report through the services yet
    # (citizen reports come in a later issue), so this one row is written directly, as the
    # reporting service will write it; the town then confirms it through the services.
    hotel = world.places["loutang_hotel"]
    citizen_report = Hazard.objects.create(
        place=hotel, area=hotel.area, place_kind=hotel.kind, source=HazardSource.CITIZEN_REPORT,
        description="酒店后门电动车充电", severity=Severity.GENERAL, state=HazardState.REPORTED,
        reported_by=u["citizen"], registered_at=clock.now() - dt.timedelta(hours=1), version=1,
    )
    citizen_report = hazard_services.confirm_report(
        citizen_report, actor=u["west_officer"], requirement="禁止室内充电", deadline=future(3),
    )
    _build_campaigns(world)
    # Tenants of both rental houses (one per town).
    for key in ("baita_rental", "loutang_rental"):
        sample_tenant(world.places[key], name=key)
    # The data set must make every expected set meaningful: each place has an inspection
    # and a hazard with history.
    for key, place in world.places.items():
        assert Inspection.objects.filter(place=place).exists(), key
        assert HazardEvent.objects.filter(hazard__place=place).exists(), key
    return Data(world=world, pending=pending, citizen_report=citizen_report)


def _build_campaigns(world: World) -> None:
    """Campaigns at the city, a town and a village, each with tasks, responsibilities,
    draws and a duty finding in areas above, inside and beside each persona's scope.
    Campaigns, tasks and responsibilities through the services; the draws and the
    finding are written directly (announcing needs closed hazards and patrols to draw
    from; campaigns/tests cover that)."""
    u = world.users
    today = clock.today()
    areas = {"city": world.city, **world.towns, **world.villages, **world.grids}
    plan = {  # campaign area → the areas of its tasks / responsibilities / draws
        "city": ["east", "loutang-1", "wujin-1"],
        "east": ["baita-1", "baita-2"],
        "west": ["loutang"],
        "baita": ["baita-1"],
    }
    inspection = Inspection.objects.order_by("pk")[0]
    for key, below in plan.items():
        campaign = campaign_services.create_campaign(
            actor=u["commander"], code=f"persona-{key}", name=key, area=areas[key],
            starts_on=today, ends_on=today + dt.timedelta(days=60))
        campaign_services.create_task(actor=u["commander"], campaign=campaign,
                                      title="department", due_on=future(20),
                                      org_unit=world.org_units["fire"])
        for area_key in below:
            area = areas[area_key]
            campaign_services.create_task(actor=u["commander"], campaign=campaign,
                                          title=area_key, due_on=future(20), area=area)
            campaign_services.add_responsibility(actor=u["commander"], campaign=campaign,
                                                 area=area, duty="territorial",
                                                 person_name=area_key)
            inputs: dict[str, Any] = {"grids": []}
            draw = Draw.objects.create(
                campaign=campaign, kind="duty", area=area, nonce="0" * 16,
                seed=campaign_draws.effective_seed("", "0" * 16),
                params={"grids": 1, "per_grid": 1, "days": 30}, inputs=inputs,
                inputs_hash=campaign_draws.digest(inputs), announced_by=u["commander"],
                announced_at=clock.now())
            check = DutyCheckItem.objects.create(draw=draw, grid=area, inspection=inspection,
                                                 checker=u["commander"], result="refuted")
            DutyFinding.objects.create(duty_check=check, grid=area, description=area_key,
                                       recorded_by=u["commander"], recorded_at=clock.now())


# The instant the project's conftest freezes every test at.
FROZEN_AT = dt.datetime(2026, 9, 14, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="module")
def _module_data(django_db_setup: None, django_db_blocker: Any,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    """Built once for the module inside a transaction rolled back at its end; each test
    runs in its own savepoint within it (the ``db`` fixture), so writes do not leak."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("matrix-media")))
    with django_db_blocker.unblock():
        media.enable()
        clock.freeze(FROZEN_AT)
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = _build_data(build_world())
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
        finally:
            clock.reset()
            media.disable()
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def data(_module_data: Data, db: None) -> Data:
    return _module_data


# ---------------------------------------------------------------- expected sets


def _in_subtree(area: Area, root: Area) -> bool:
    """Walk the parent links (not the materialised path the scoping code uses)."""
    node: Area | None = area
    while node is not None:
        if node.pk == root.pk:
            return True
        node = node.parent
    return False


def _area_by_key(world: World, key: str) -> Area:
    every = {"city": world.city, **world.towns, **world.villages, **world.grids}
    return every[key]


def expected_ids(world: World, persona: str) -> dict[str, set[int]]:
    row = MATRIX[persona]
    user = world.users[persona]
    areas: set[int] = set()
    if row.areas is not None:
        root = _area_by_key(world, row.areas)
        areas = {a.pk for a in Area.objects.select_related("parent") if _in_subtree(a, root)}
    places = {world.places[key].pk for key in row.places}
    parties = {p.party_id for p in Place.objects.filter(pk__in=places) if p.party_id}
    if row.own_party:
        parties.add(world.parties[row.own_party].pk)
    inspections = set(Inspection.objects.filter(place_id__in=places).values_list("pk",
                                                                                flat=True))
    hazards = set(Hazard.objects.filter(place_id__in=places).values_list("pk", flat=True))
    if row.own_reports:
        hazards |= set(Hazard.objects.filter(reported_by=user).values_list("pk", flat=True))
    events = set(HazardEvent.objects.filter(hazard_id__in=hazards).values_list("pk", flat=True))
    tenants = set(Tenant.objects.filter(place_id__in=places).values_list("pk", flat=True))
    # Campaign work is seen by whoever sees any part of its area: its area is inside the
    # persona's subtree or above it (a town officer sees the city's campaign).
    scope_root = _area_by_key(world, row.areas) if row.areas is not None else None

    def reach(area: Area | None) -> bool:
        return scope_root is not None and area is not None and (
            _in_subtree(area, scope_root) or _in_subtree(scope_root, area))

    campaigns = {c.pk for c in Campaign.objects.select_related("area") if reach(c.area)}
    tasks = {t.pk for t in Task.objects.select_related("area")
             if t.campaign_id in campaigns and (t.area is None or reach(t.area))}
    responsibilities = {r.pk for r in Responsibility.objects.select_related("area")
                        if r.campaign_id in campaigns and reach(r.area)}
    draws = {d.pk for d in Draw.objects.select_related("area")
             if d.campaign_id in campaigns and reach(d.area)}
    findings = {f.pk for f in DutyFinding.objects.select_related("grid", "duty_check__draw")
                if f.duty_check.draw.campaign_id in campaigns and reach(f.grid)}
    return {"area": areas, "place": places, "party": parties, "inspection": inspections,
            "hazard": hazards, "hazard_event": events, "tenant": tenants,
            "campaign": campaigns, "task": tasks, "responsibility": responsibilities,
            "draw": draws, "duty_finding": findings}


def _describe(kind: str, got: set[int], want: set[int]) -> str:
    return f"{kind}: missing {sorted(want - got)}, unexpected {sorted(got - want)}"


def _fresh_user(world: World, persona: str) -> User:
    # A fresh instance: the scope is cached on the user object.
    return User.objects.get(pk=world.users[persona].pk)


# ---------------------------------------------------------------- the table itself


def test_the_matrix_names_every_persona_and_every_place() -> None:
    assert set(MATRIX) == set(PERSONAS)
    for persona, row in MATRIX.items():
        assert row.places <= ALL_PLACES, persona


# Models with ``visible_to`` that the matrix leaves out, and why.
NOT_IN_MATRIX: dict[type[Model], str] = {
    ImportJob: "not area-scoped: a job is its uploader's alone (their file, their "
    "decisions); imports/tests and the permission matrix (imports:*) cover it",
    CitizenReport: "who sees which report is reports/tests (test_who_sees_which_report); "
    "its API endpoint is ENDPOINTS_ELSEWHERE",
    PortalToken: "officials' view of party links; covered by portal/tests "
    "(test_officials_see_the_links_of_parties_in_their_scope_only)",
}


def test_every_scoped_model_is_a_kind_of_the_matrix() -> None:
    scoped = {m for m in apps.get_models()
              if isinstance(m._default_manager.all(), ScopedQuerySet)
              or hasattr(m._default_manager.all(), "visible_to")}
    missing = scoped - set(KINDS.values()) - set(NOT_IN_MATRIX)
    assert not missing, f"add to the persona matrix: {sorted(m.__name__ for m in missing)}"


def test_every_router_endpoint_is_in_the_matrix() -> None:
    registered = {prefix: viewset for prefix, viewset, _basename in router.registry}
    assert set(registered) == set(ENDPOINTS) | set(ENDPOINTS_ELSEWHERE), (
        "an API endpoint was added or removed: add it to ENDPOINTS and the persona matrix"
    )
    for prefix, viewset in registered.items():
        if prefix in ENDPOINTS_ELSEWHERE:
            continue
        kind, covered = ENDPOINTS[prefix]
        assert viewset.queryset.model is KINDS[kind], prefix  # type: ignore[attr-defined]
        actions = {a.__name__ for a in viewset.get_extra_actions()}
        assert actions == covered, f"{prefix}: extra actions {sorted(actions)} not in the matrix"


# ---------------------------------------------------------------- the ORM


@pytest.mark.parametrize("persona", PERSONA_PARAMS)
def test_visible_to_is_exactly_the_matrix(data: Data, persona: str) -> None:
    world = data.world
    want = expected_ids(world, persona)
    user = _fresh_user(world, persona)
    problems = []
    for kind, model in KINDS.items():
        got = set(model.objects.visible_to(user).values_list("pk", flat=True))  # type: ignore[attr-defined]
        if got != want[kind]:
            problems.append(_describe(kind, got, want[kind]))
    assert not problems, f"{persona}: " + "; ".join(problems)


def test_the_expected_sets_are_not_trivial(data: Data) -> None:
    """Guard the matrix against a data set in which everyone sees the same thing."""
    world = data.world
    seen = {p: expected_ids(world, p) for p in MATRIX}
    for kind in KINDS:
        distinct = {frozenset(ids[kind]) for ids in seen.values()}
        assert len(distinct) >= 3, kind
    assert seen["citizen"]["hazard"] == {data.citizen_report.pk}
    assert seen["citizen"]["hazard_event"]


# ---------------------------------------------------------------- the API


# One request handler for every client: a new one loads the middleware again (and
# WhiteNoise scans every static file when it does).
_HANDLER: list[Any] = []


def _client(world: World, persona: str) -> Client:
    client = Client()
    if _HANDLER:
        client.handler = _HANDLER[0]
    else:
        _HANDLER.append(client.handler)
    client.force_login(world.users[persona])
    return client


def _list_ids(client: Client, url: str) -> list[int]:
    ids: list[int] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.json()
        ids.extend(item["id"] for item in body["results"])
        nxt = body.get("next")
        url = ""
        if nxt:
            parts = urlsplit(nxt)
            url = f"{parts.path}?{parts.query}"
        pages += 1
        assert pages < 100, "pagination does not end"
    return ids


@pytest.mark.parametrize("persona", PERSONA_PARAMS)
def test_api_lists_are_exactly_the_matrix(data: Data, persona: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    world = data.world
    # Small pages, so the cursor is followed across several pages (the paginator reads
    # PAGE_SIZE once, at import: set it on each endpoint's pagination class).
    for _prefix, viewset, _basename in router.registry:
        paginator = getattr(viewset, "pagination_class", None)
        if paginator is not None:
            monkeypatch.setattr(paginator, "page_size", 2)
    want = expected_ids(world, persona)
    client = _client(world, persona)
    problems = []
    for prefix, (kind, _actions) in ENDPOINTS.items():
        ids = _list_ids(client, f"/api/{prefix}/")
        if len(ids) != len(set(ids)):
            problems.append(f"{kind}: duplicates in the list")
        if set(ids) != want[kind]:
            problems.append(_describe(kind, set(ids), want[kind]))
    assert not problems, f"{persona}: " + "; ".join(problems)


@pytest.mark.parametrize("persona", PERSONA_PARAMS)
def test_api_details_answer_200_in_scope_and_404_outside(data: Data, persona: str) -> None:
    world = data.world
    want = expected_ids(world, persona)
    client = _client(world, persona)
    problems = []
    for prefix, (kind, _actions) in ENDPOINTS.items():
        for pk in KINDS[kind]._default_manager.values_list("pk", flat=True):
            response = client.get(f"/api/{prefix}/{pk}/")
            expected = 200 if pk in want[kind] else 404
            if response.status_code != expected:
                problems.append(f"{kind} {pk}: {response.status_code}, expected {expected}")
            elif expected == 200 and response.json()["id"] != pk:
                problems.append(f"{kind} {pk}: answered with another object")
    for hazard in Hazard.objects.all():
        response = client.get(f"/api/hazards/{hazard.pk}/events/")
        if hazard.pk not in want["hazard"]:
            if response.status_code != 404:
                problems.append(f"hazard_event of {hazard.pk}: {response.status_code}, "
                                f"expected 404")
            continue
        if response.status_code != 200:
            problems.append(f"hazard_event of {hazard.pk}: {response.status_code}")
            continue
        got = [e["seq"] for e in response.json()]
        seqs = list(HazardEvent.objects.filter(pk__in=want["hazard_event"], hazard=hazard)
                    .order_by("seq").values_list("seq", flat=True))
        if got != seqs:
            problems.append(f"hazard_event of {hazard.pk}: {got}, expected {seqs}")
    assert not problems, f"{persona}: " + "; ".join(problems)


def test_anonymous_users_are_refused(data: Data) -> None:
    client = Client()
    hazard = data.pending
    for prefix in ENDPOINTS:
        assert client.get(f"/api/{prefix}/").status_code in (401, 403), prefix
    assert client.get(f"/api/hazards/{hazard.pk}/").status_code in (401, 403)
    assert client.get(f"/api/hazards/{hazard.pk}/events/").status_code in (401, 403)
    response = client.post(f"/api/hazards/{hazard.pk}/transition/",
                           {"action": "verify_pass"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.PENDING_VERIFICATION


# ---------------------------------------------------------------- a write out of scope


def _footprint(hazard: Hazard) -> tuple[Any, ...]:
    fresh = Hazard.objects.get(pk=hazard.pk)
    return (fresh.state, fresh.version, fresh.closed_at, fresh.closed_by_id,
            HazardEvent.objects.count(), AuditEntry.objects.count())


OUT_OF_SCOPE_OF_BAITA_RENTAL = [pytest.param(name, id=name) for name, row in MATRIX.items()
                                if "baita_rental" not in row.places]


@pytest.mark.parametrize("persona", OUT_OF_SCOPE_OF_BAITA_RENTAL)
def test_a_transition_out_of_scope_is_404_and_writes_nothing(data: Data, persona: str) -> None:
    hazard = data.pending
    # Signed in first: the footprint is the transition's alone (a sign-in over HTTP writes
    # an audit entry of its own; force_login writes none, but the order must not matter).
    client = _client(data.world, persona)
    before = _footprint(hazard)
    response = client.post(
        f"/api/hazards/{hazard.pk}/transition/",
        {"action": "verify_pass", "reason": "", "expected_version": hazard.version},
        content_type="application/json",
    )
    assert response.status_code == 404, response.content
    assert _footprint(hazard) == before


def test_the_same_transition_in_scope_succeeds(data: Data) -> None:
    """The control for the test above: the request itself is well-formed."""
    hazard = data.pending
    response = _client(data.world, "east_officer").post(
        f"/api/hazards/{hazard.pk}/transition/",
        {"action": "verify_pass", "expected_version": hazard.version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == HazardState.CLOSED
    assert response.json()["version"] == hazard.version + 1
