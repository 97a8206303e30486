"""The hazard loop through the services, step by step, as the brief draws it."""

from __future__ import annotations

import datetime as dt

import pytest

from bihuan.audit.models import AuditEntry
from bihuan.core import clock
from bihuan.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationFailed,
)
from bihuan.hazards import services
from bihuan.hazards.choices import HazardState, Severity
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.testing import after_photo, before_photo, future

pytestmark = pytest.mark.django_db


def _register(world, *, place="baita_rental", actor="baita_grid_worker", code=None, **kwargs):
    place_obj = world.places[place]
    checklist = world.checklist_for(place_obj)
    items = list(checklist.items.all())
    item = next(i for i in items if i.code == code) if code else next(
        i for i in items if i.severity == "general"
    )
    return services.register_hazard(actor=world.users[actor], place=place_obj, item=item,
                                     description="", evidence=[before_photo()], **kwargs)


def _counts(hazard):
    return (HazardEvent.objects.filter(hazard=hazard).count(),
            AuditEntry.objects.filter(object_type="hazards.hazard",
                                      object_id=str(hazard.pk)).count())


def test_the_whole_loop_closes_with_one_event_and_one_audit_entry_per_step(world):
    u = world.users
    hazard = _register(world)
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.deadline > clock.today()
    hazard = services.submit_rectification(hazard, actor=u["landlord"],
                                           evidence=[after_photo(1)])
    assert hazard.state == HazardState.PENDING_VERIFICATION
    hazard = services.pass_verification(hazard, actor=u["east_officer"])
    assert hazard.state == HazardState.CLOSED
    hazard = services.fail_look_back(hazard, actor=u["east_officer_2"], reason="又发现充电",
                                     deadline=future(5))
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.recurrence_count == 1
    assert _counts(hazard) == (4, 4)
    assert list(hazard.events.values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_it_refuses_the_submitter_verifying_their_own_rectification(world):
    hazard = _register(world, actor="baita_cadre")
    services.submit_rectification(hazard, actor=world.users["baita_cadre"],
                                  evidence=[after_photo()])
    # A village cadre may not verify at all; a town officer who submitted may not either.
    with pytest.raises(PermissionDenied):
        services.pass_verification(hazard, actor=world.users["baita_cadre"])
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.PENDING_VERIFICATION


def test_it_answers_not_found_for_another_towns_hazard(world):
    hazard = _register(world)
    with pytest.raises(NotFound):
        services.void_hazard(hazard, actor=world.users["west_officer"], reason="x")


def test_an_invalid_transition_is_refused_and_writes_nothing(world):
    hazard = _register(world)
    before = _counts(hazard)
    with pytest.raises(TransitionNotAllowed):
        services.pass_verification(hazard, actor=world.users["east_officer"])
    assert _counts(hazard) == before


def test_a_missing_reason_is_refused(world):
    hazard = _register(world)
    with pytest.raises(ValidationFailed) as excinfo:
        services.void_hazard(hazard, actor=world.users["east_officer"], reason="  ")
    assert excinfo.value.field == "reason"
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.RECTIFYING


def test_a_deadline_in_the_past_is_refused(world):
    with pytest.raises(ValidationFailed) as excinfo:
        _register(world, deadline=clock.today() - dt.timedelta(days=1))
    assert excinfo.value.field == "deadline"
    assert not Hazard.objects.exists()


def test_a_stale_version_is_a_conflict(world):
    hazard = _register(world)
    with pytest.raises(Conflict):
        services.void_hazard(hazard, actor=world.users["east_officer"], reason="重复登记",
                             expected_version=hazard.version + 1)


def test_rectified_on_the_spot_needs_an_after_photo_and_is_born_closed(world):
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="on_the_spot").first()
    with pytest.raises(ValidationFailed):
        services.register_hazard(actor=world.users["baita_grid_worker"], place=place, item=item,
                                 description="", rectified_on_spot=True)
    hazard = services.register_hazard(actor=world.users["baita_grid_worker"], place=place,
                                      item=item, description="", rectified_on_spot=True,
                                      evidence=[before_photo(), after_photo()])
    assert hazard.state == HazardState.CLOSED
    assert hazard.severity == Severity.ON_THE_SPOT
    assert hazard.evidence.count() == 2


def test_extension_pauses_the_clock_and_approval_moves_the_deadline(world):
    hazard = _register(world)
    wanted = hazard.deadline + dt.timedelta(days=60)
    services.request_extension(hazard, actor=world.users["landlord"], reason="材料未到",
                               requested_deadline=wanted)
    clock.advance(dt.timedelta(days=200))
    hazard.refresh_from_db()
    assert not hazard.is_overdue()
    assert not Hazard.objects.overdue().exists()
    services.decide_extension(hazard, actor=world.users["east_officer"], approve=True)
    hazard.refresh_from_db()
    assert hazard.deadline == wanted
    assert hazard.is_overdue()
