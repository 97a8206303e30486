"""Submitting inspections: findings, carried-forward hazards, retries."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError

from bihuan.checklists.choices import ChecklistStatus
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.hazards.choices import HazardState
from bihuan.hazards.models import Hazard
from bihuan.inspections.choices import FollowUpOutcome, InspectionKind
from bihuan.inspections.models import Inspection
from bihuan.inspections.services import Finding, outstanding_hazards, submit_inspection

pytestmark = pytest.mark.django_db


def _patrol(world, *, actor="baita_grid_worker", place="baita_rental", **kwargs):
    place_obj = world.places[place]
    checklist = world.checklist_for(place_obj)
    kwargs.setdefault("results", {})
    return submit_inspection(actor=world.users[actor], place=place_obj,
                             kind=kwargs.pop("kind", InspectionKind.GRID_PATROL),
                             checklist=checklist, **kwargs)


def _general_codes(world, place="baita_rental", n=2):
    checklist = world.checklist_for(world.places[place])
    return list(checklist.items.filter(severity="general").values_list("code", flat=True)[:n])


def test_findings_become_hazards_with_rule_deadlines(world):
    codes = _general_codes(world)
    inspection = _patrol(world, results={codes[0]: "fail", codes[1]: "pass"},
                         findings=[Finding(item_code=codes[0])])
    hazard = Hazard.objects.get(inspection=inspection)
    assert hazard.state == HazardState.RECTIFYING
    assert hazard.code == codes[0]
    assert inspection.results.count() == 2


def test_the_next_visit_carries_the_open_hazards_forward(world):
    codes = _general_codes(world)
    _patrol(world, findings=[Finding(item_code=codes[0]), Finding(item_code=codes[1])])
    open_ids = {h.pk for h in outstanding_hazards(world.places["baita_rental"])}
    assert len(open_ids) == 2
    first = min(open_ids)
    follow_up = _patrol(world, actor="baita_cadre",
                        carried={first: FollowUpOutcome.STILL_PRESENT})
    carried = {c.hazard_id: c.outcome for c in follow_up.carried.all()}
    assert set(carried) == open_ids
    assert carried[first] == FollowUpOutcome.STILL_PRESENT


def test_a_retried_submission_returns_the_first_inspection(world):
    key = uuid.uuid4()
    codes = _general_codes(world, n=1)
    first = _patrol(world, client_key=key, findings=[Finding(item_code=codes[0])])
    again = _patrol(world, client_key=key, findings=[Finding(item_code=codes[0])])
    assert again.pk == first.pk
    assert Inspection.objects.count() == 1
    assert Hazard.objects.count() == 1


def test_a_retry_is_answered_with_the_first_inspection_after_its_checklist_retired(world):
    key = uuid.uuid4()
    codes = _general_codes(world, n=1)
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    first = _patrol(world, client_key=key, findings=[Finding(item_code=codes[0])])
    checklist.status = ChecklistStatus.RETIRED
    checklist.save(update_fields=["status"])

    def visit(client_key: uuid.UUID) -> Inspection:
        return submit_inspection(actor=world.users["baita_grid_worker"], place=place,
                                 kind=InspectionKind.GRID_PATROL, checklist=checklist,
                                 results={}, findings=[Finding(item_code=codes[0])],
                                 client_key=client_key)

    # The same visit would be refused now; a retry of it still finds what it made.
    assert visit(key).pk == first.pk
    with pytest.raises(ValidationFailed):
        visit(uuid.uuid4())
    assert Inspection.objects.count() == 1


def test_a_key_taken_by_an_inspection_out_of_sight_is_refused(world):
    key = uuid.uuid4()
    _patrol(world, client_key=key)
    # Another town's grid worker cannot see that inspection: the key's owner is not told.
    with pytest.raises(IntegrityError):
        _patrol(world, actor="loutang_grid_worker", place="loutang_rental", client_key=key)
    assert Inspection.objects.count() == 1


def test_what_the_caller_already_read_is_used_and_a_mismatch_is_read_again(world):
    from bihuan.hazards.services import field_access

    user = world.users["baita_grid_worker"]
    place = world.places["baita_rental"]
    codes = _general_codes(world, n=1)
    carried = _patrol(world, findings=[Finding(item_code=codes[0])]).hazards.get()
    checklist = world.checklist_for(place)
    items = list(checklist.items.select_related("deadline_rule"))
    inspection = submit_inspection(
        actor=user, place=place, kind=InspectionKind.GRID_PATROL, checklist=checklist,
        results={codes[0]: "pass"}, carried={carried.pk: FollowUpOutcome.RECTIFIED},
        access=field_access(user, place), items=items, open_hazards=[carried],
    )
    assert dict(inspection.carried.values_list("hazard_id", "outcome")) == {
        carried.pk: FollowUpOutcome.RECTIFIED}
    assert inspection.results.get().item == items[[i.code for i in items].index(codes[0])]
    # Another place's access and another checklist's items are not taken for these.
    other = world.places["baita_shop"]
    shop_items = list(world.checklist_for(other).items.all())
    inspection = submit_inspection(
        actor=user, place=place, kind=InspectionKind.GRID_PATROL, checklist=checklist,
        results={codes[0]: "fail"}, access=field_access(user, other), items=shop_items,
    )
    assert inspection.place == place
    assert inspection.results.get().item.checklist_id == checklist.pk


def test_another_grids_place_is_not_found(world):
    with pytest.raises(NotFound):
        _patrol(world, place="loutang_rental")
    assert not Inspection.objects.exists()


def test_a_party_may_only_self_check(world):
    with pytest.raises(PermissionDenied):
        _patrol(world, actor="landlord")
    inspection = _patrol(world, actor="landlord", kind=InspectionKind.SELF_CHECK,
                         findings=[Finding(item_code=_general_codes(world, n=1)[0])])
    assert Hazard.objects.get(inspection=inspection).state == HazardState.REPORTED


def test_a_finding_on_a_passed_item_is_refused_and_nothing_is_written(world):
    code = _general_codes(world, n=1)[0]
    with pytest.raises(ValidationFailed):
        _patrol(world, results={code: "pass"}, findings=[Finding(item_code=code)])
    assert not Inspection.objects.exists()
    assert not Hazard.objects.exists()


def test_a_checklist_for_another_place_kind_is_refused(world):
    shop_checklist = world.checklist_for(world.places["baita_shop"])
    with pytest.raises(ValidationFailed):
        submit_inspection(actor=world.users["baita_grid_worker"],
                          place=world.places["baita_rental"], kind=InspectionKind.GRID_PATROL,
                          checklist=shop_checklist, results={})
