"""The demo city: complete, lawful, reproducible.

The city is generated once per module (600 places, twice: the second run must
match the first) inside a transaction that is rolled back at the end, so the
tests read the same data without paying for the simulation each time.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.test.utils import override_settings

from bihuan.accounts.choices import ADMIN_ROLES, Role
from bihuan.accounts.models import Membership, User
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.audit.models import AuditEntry
from bihuan.campaigns.models import Campaign
from bihuan.demo.generator import fingerprint, generate
from bihuan.hazards.choices import HazardAction, HazardState
from bihuan.hazards.models import Hazard, HazardEvent, MajorHazardDecision
from bihuan.inspections.models import Inspection
from bihuan.places.models import Place

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 9, 14)
PLACES = 600
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    media = tmp_path_factory.mktemp("demo-media")
    with (django_db_blocker.unblock(),
          override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=FAST_HASHERS),
          transaction.atomic()):
        first_run = transaction.savepoint()
        generate(seed=7, places=PLACES, today=TODAY)
        first = fingerprint()
        transaction.savepoint_rollback(first_run)
        out = io.StringIO()
        logins = generate(seed=7, places=PLACES, stdout=out, today=TODAY)
        yield {"first": first, "second": fingerprint(), "logins": logins,
               "output": out.getvalue()}
        transaction.set_rollback(True)


def test_the_same_seed_on_the_same_day_gives_the_same_city(demo):
    assert demo["first"] == demo["second"]
    assert demo["first"]["counts"]["hazards.Hazard"] > 50


def test_every_hazard_state_is_present(demo):
    present = set(Hazard.objects.values_list("state", flat=True))
    assert present == set(HazardState.values)


def test_some_rectifying_hazards_are_overdue_today(demo):
    assert Hazard.objects.overdue(TODAY).exists()


def test_there_is_one_usable_login_per_role(demo, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    logins = demo["logins"]
    assert sorted(role for role, _u, _p in logins) == sorted(Role.values)
    for role, username, password in logins:
        user = authenticate(username=username, password=password)
        assert user is not None, username
        assert Membership.objects.filter(user=user, role=role, active=True).exists()
    usable = sorted(u.username for u in User.objects.all() if u.has_usable_password())
    assert usable == sorted(username for _r, username, _p in logins)


def test_the_demo_logins_are_where_the_brief_puts_them(demo):
    users = {role: User.objects.get(username=username) for role, username, _p in demo["logins"]}
    town = Membership.objects.get(user=users[Role.TOWN_OFFICER], role=Role.TOWN_OFFICER)
    assert town.area.name == "东城街道"
    cadre = Membership.objects.get(user=users[Role.VILLAGE_CADRE], role=Role.VILLAGE_CADRE)
    assert cadre.area.short_name == "白塔村"
    grid = Membership.objects.get(user=users[Role.GRID_WORKER], role=Role.GRID_WORKER)
    assert grid.area.parent == cadre.area
    inspector = Membership.objects.get(user=users[Role.DEPT_INSPECTOR])
    assert inspector.org_unit.name == "永康市消防救援大队"
    landlord_hazards = Hazard.objects.filter(place__party__user=users[Role.PARTY])
    assert landlord_hazards.exists()
    assert all(h.area.parent == cadre.area for h in landlord_hazards)


def test_the_three_administrators_hold_one_role_each(demo):
    for role in ADMIN_ROLES:
        holders = Membership.objects.filter(role=role)
        assert holders.count() == 1
        assert Membership.objects.filter(user=holders.get().user).count() == 1


def test_the_areas_are_yongkangs_with_grids_under_every_village(demo):
    assert Area.objects.filter(level=AreaLevel.TOWN).count() == 14
    assert Area.objects.filter(level=AreaLevel.VILLAGE).count() == 452
    assert not Area.objects.filter(level=AreaLevel.TOWN, latitude__isnull=True).exists()
    grids = Counter(Area.objects.filter(level=AreaLevel.GRID).values_list("parent", flat=True))
    assert len(grids) == 452
    assert set(grids.values()) <= {1, 2, 3, 4}
    baita = Area.objects.get(code="330784001229")
    assert baita.children.first().name == "白塔村第1网格"
    assert not Place.objects.exclude(area__level=AreaLevel.GRID).exists()
    assert Place.objects.count() == PLACES
    assert Place.objects.filter(name="五金城金都市场", area__parent__code="330784001007").exists()


def test_every_hazard_has_events_and_each_event_one_audit_entry(demo):
    assert not Hazard.objects.filter(events__isnull=True).exists()
    events = Counter(str(pk) for pk in HazardEvent.objects.values_list("hazard_id", flat=True))
    audits = Counter(AuditEntry.objects.filter(object_type="hazards.hazard")
                     .values_list("object_id", flat=True))
    assert events == audits


def test_nobody_verifies_their_own_rectification_or_looks_back_on_their_own_closure(demo):
    submitter: dict[int, int] = {}
    closer: dict[int, int] = {}
    verifications = look_backs = 0
    for e in HazardEvent.objects.order_by("hazard_id", "seq"):
        if e.action == HazardAction.SUBMIT_RECTIFICATION:
            submitter[e.hazard_id] = e.actor_id
        elif e.action in (HazardAction.VERIFY_PASS, HazardAction.VERIFY_FAIL):
            verifications += 1
            assert e.actor_role != Role.GRID_WORKER
            assert e.actor_id != submitter.get(e.hazard_id)
        elif e.action in (HazardAction.LOOK_BACK_PASS, HazardAction.LOOK_BACK_FAIL):
            look_backs += 1
            assert e.actor_id != closer[e.hazard_id]
        if e.to_state == HazardState.CLOSED and e.from_state != HazardState.CLOSED:
            closer[e.hazard_id] = e.actor_id
    assert verifications and look_backs


def test_the_campaign_is_in_progress_and_the_data_within_it(demo):
    campaign = Campaign.objects.get()
    assert campaign.starts_on == TODAY - dt.timedelta(days=35)
    assert (campaign.ends_on - campaign.starts_on).days == 59
    first = Inspection.objects.order_by("submitted_at").first()
    last = Inspection.objects.order_by("submitted_at").last()
    assert first.submitted_at.date() >= campaign.starts_on
    assert last.submitted_at.date() < TODAY
    inspected = Inspection.objects.values("place").distinct().count()
    assert 0.28 <= inspected / Place.objects.filter(active=True).count() <= 0.42
    assert not Inspection.objects.filter(place__active=False).exists()


def test_major_hazards_come_only_from_collective_decisions(demo):
    for decision in MajorHazardDecision.objects.all():
        assert len(decision.participants) >= 3
    assert not Hazard.objects.filter(severity="major").exclude(
        major_decisions__confirmed=True).exists()


def test_progress_is_printed(demo):
    output = demo["output"]
    assert "week 1" in output
    for state in HazardState.values:
        assert state in output


def test_citizen_reports_go_through_triage_into_the_loop(demo):
    from bihuan.reports.models import CitizenReport

    accepted = CitizenReport.objects.filter(status="accepted")
    assert accepted.exists()
    assert all(r.hazard.source == "citizen_report" for r in accepted)
    assert Hazard.objects.filter(source="citizen_report").count() == accepted.count()


def test_the_summaries_built_at_the_end_equal_the_raw_records(demo):
    # `bihuan demo` defers the dashboard's hooks to one rebuild: the result must be
    # what `bihuan metrics verify` recomputes from the raw records.
    from bihuan.dashboard.models import AreaStats
    from bihuan.dashboard.verify import verify

    assert AreaStats.objects.exists()
    differences = verify()
    assert differences == [], "\n".join(str(d) for d in differences[:20])
