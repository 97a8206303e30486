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
    wanted = hazard.deadline + dt.timedelta(days=300)
    services.request_extension(hazard, actor=world.users["landlord"], reason="材料未到",
                               requested_deadline=wanted)
    clock.advance(dt.timedelta(days=200))  # far past the old deadline, but the clock is paused
    hazard.refresh_from_db()
    assert not hazard.is_overdue()
    assert not Hazard.objects.overdue().exists()
    services.decide_extension(hazard, actor=world.users["east_officer"], approve=True)
    hazard.refresh_from_db()
    assert hazard.deadline == wanted
    assert not hazard.is_overdue()
    clock.advance(dt.timedelta(days=200))
    assert hazard.is_overdue()
    assert Hazard.objects.overdue().filter(pk=hazard.pk).exists()


def _major(world):
    place = world.places["wujin_market"]
    item = world.checklist_for(place).items.filter(severity="major_candidate").first()
    hazard = services.register_hazard(actor=world.users["fire_inspector"], place=place,
                                      item=item, description="")
    assert hazard.major_candidate and hazard.severity == Severity.GENERAL
    return hazard


def test_a_major_hazard_needs_a_collective_decision_of_three(world):
    hazard = _major(world)
    with pytest.raises(ValidationFailed):
        services.decide_major(hazard, actor=world.users["east_officer"], confirmed=True,
                              participants=["甲", "乙"], minutes="研判")
    with pytest.raises(PermissionDenied):
        services.decide_major(hazard, actor=world.users["fire_inspector"], confirmed=True,
                              participants=["甲", "乙", "丙"], minutes="研判")
    services.decide_major(hazard, actor=world.users["east_officer"], confirmed=True,
                          participants=["甲", "乙", "丙"], minutes="集体研判为重大火灾隐患")
    hazard.refresh_from_db()
    assert hazard.severity == Severity.MAJOR
    assert hazard.supervision_level == "city"


def test_a_major_hazard_is_verified_at_town_level_or_above(world):
    hazard = _major(world)
    services.decide_major(hazard, actor=world.users["commander"], confirmed=True,
                          participants=["甲", "乙", "丙"], minutes="集体研判")
    services.submit_rectification(hazard, actor=world.users["shopkeeper"],
                                  evidence=[after_photo()])
    with pytest.raises(PermissionDenied):
        services.pass_verification(hazard, actor=world.users["fire_inspector"])
    hazard = services.pass_verification(hazard, actor=world.users["east_officer"])
    assert hazard.state == HazardState.CLOSED
    services.delist_supervision(hazard, actor=world.users["commander"])
    hazard.refresh_from_db()
    assert hazard.supervision_level == "none"


def test_listed_supervision_is_a_document_with_a_unique_number(world):
    hazard = _register(world)
    services.list_supervision(hazard, actor=world.users["east_officer"], level="town",
                              document_number="东城督〔2026〕1号", responsible_person="楼先生",
                              deadline=future(7), delivered_by="李网格", signed_for_by="楼先生")
    other = _register(world, place="baita_shop")
    with pytest.raises(ValidationFailed):
        services.list_supervision(other, actor=world.users["east_officer"], level="town",
                                  document_number="东城督〔2026〕1号",
                                  responsible_person="胡女士", deadline=future(7))
    with pytest.raises(PermissionDenied):
        services.list_supervision(other, actor=world.users["east_officer"], level="city",
                                  document_number="永消督〔2026〕1号",
                                  responsible_person="胡女士", deadline=future(7))
    hazard.refresh_from_db()
    assert hazard.supervision_level == "town"


def test_hand_over_and_enforcement_result_resume_rectification(world):
    hazard = _register(world)
    hazard = services.hand_over_to_enforcement(hazard, actor=world.users["fire_inspector"],
                                               reason="拒不整改", department="综合行政执法局")
    assert hazard.state == HazardState.ENFORCEMENT
    hazard = services.record_enforcement_result(hazard, actor=world.users["fire_inspector"],
                                                reason="罚款五千元", deadline=future(3))
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.deadline == future(3)


def test_a_refused_extension_gives_back_the_paused_working_days(world):
    hazard = _register(world)
    deadline = hazard.deadline
    services.request_extension(hazard, actor=world.users["landlord"], reason="等配件",
                               requested_deadline=deadline + dt.timedelta(days=30))
    # Mon 14 → Mon 21 Sep 2026: six working days paused (Sun 20 Sep is a 调休 working day).
    clock.advance(dt.timedelta(days=7))
    services.decide_extension(hazard, actor=world.users["east_officer"], approve=False,
                              reason="理由不充分")
    hazard.refresh_from_db()
    from bihuan.core import workdays

    assert hazard.deadline == workdays.add_working_days(deadline, 6)
    assert hazard.clock_paused_since is None


def test_the_closer_cannot_look_back_and_the_party_cannot_verify(world):
    hazard = _register(world)
    services.submit_rectification(hazard, actor=world.users["landlord"],
                                  evidence=[after_photo()])
    with pytest.raises(PermissionDenied):
        services.pass_verification(hazard, actor=world.users["landlord"])
    services.pass_verification(hazard, actor=world.users["east_officer"])
    with pytest.raises(PermissionDenied):
        services.pass_look_back(hazard, actor=world.users["east_officer"])
    hazard = services.pass_look_back(hazard, actor=world.users["baita_cadre"])
    assert hazard.look_back_count == 1 and hazard.state == HazardState.CLOSED


def test_a_self_check_report_is_confirmed_or_dismissed_with_a_reason(world):
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").first()
    reported = services.register_hazard(actor=world.users["landlord"], place=place, item=item,
                                        description="自查发现")
    assert reported.state == HazardState.REPORTED
    with pytest.raises(ValidationFailed):
        services.dismiss_report(reported, actor=world.users["baita_cadre"], reason="")
    confirmed = services.confirm_report(reported, actor=world.users["baita_grid_worker"])
    assert confirmed.state == HazardState.RECTIFYING and confirmed.deadline


def test_errors_are_translated(world, settings):
    from django.utils import translation

    hazard = _register(world)
    with translation.override("zh-hans"), pytest.raises(TransitionNotAllowed) as zh:
        services.pass_verification(hazard, actor=world.users["east_officer"])
    with translation.override("en"), pytest.raises(TransitionNotAllowed) as en:
        services.pass_verification(hazard, actor=world.users["east_officer"])
    assert str(zh.value) != str(en.value)
    assert "not possible" in str(en.value)


def test_an_extension_decision_records_the_previous_deadline(world):
    hazard = _register(world)
    previous = hazard.deadline
    wanted = previous + dt.timedelta(days=30)
    services.request_extension(hazard, actor=world.users["landlord"], reason="等配件",
                               requested_deadline=wanted)
    services.decide_extension(hazard, actor=world.users["east_officer"], approve=True)
    event = HazardEvent.objects.filter(hazard=hazard).order_by("-seq").first()
    assert event.data["old_deadline"] == previous.isoformat()
    assert event.data["deadline"] == wanted.isoformat()


def test_an_extension_whose_date_has_passed_cannot_be_approved(world):
    hazard = _register(world)
    wanted = hazard.deadline + dt.timedelta(days=5)
    services.request_extension(hazard, actor=world.users["landlord"], reason="等配件",
                               requested_deadline=wanted)
    clock.advance(dt.timedelta(days=200))
    with pytest.raises(ValidationFailed):
        services.decide_extension(hazard, actor=world.users["east_officer"], approve=True)
    services.decide_extension(hazard, actor=world.users["east_officer"], approve=False,
                              reason="逾期未决，不予延期")
    hazard.refresh_from_db()
    assert hazard.clock_paused_since is None


def test_a_major_hazard_cannot_be_rejected_as_a_candidate(world):
    hazard = _major(world)
    services.decide_major(hazard, actor=world.users["commander"], confirmed=True,
                          participants=["甲", "乙", "丙"], minutes="集体研判")
    with pytest.raises(TransitionNotAllowed):
        services.decide_major(hazard, actor=world.users["commander"], confirmed=False,
                              participants=["甲", "乙", "丙"], minutes="改判")
