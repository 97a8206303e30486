"""The hazard loop as data: which action moves which state, and who may take it.

This table is the single statement of the brief's state diagram; services,
the UI's buttons and the tests all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bihuan.accounts.choices import Role
from bihuan.hazards.choices import OPEN_STATES, HazardAction, HazardState

A = HazardAction
S = HazardState

# Officials who may work on hazards in their scope.
FIELD = frozenset({Role.GRID_WORKER, Role.VILLAGE_CADRE, Role.TOWN_OFFICER,
                   Role.DEPT_INSPECTOR, Role.COMMAND_STAFF})
SUPERVISORS = frozenset({Role.TOWN_OFFICER, Role.DEPT_INSPECTOR, Role.COMMAND_STAFF})
# Town level or above: the only roles that may verify a major hazard or void one.
TOWN_OR_ABOVE = frozenset({Role.TOWN_OFFICER, Role.COMMAND_STAFF})


@dataclass(frozen=True)
class Transition:
    action: HazardAction
    sources: frozenset[HazardState]
    # None: the state does not change (the event is still recorded).
    target: HazardState | None
    roles: frozenset[str]
    needs_reason: bool = False
    needs_deadline: bool = False


TRANSITIONS: dict[HazardAction, Transition] = {
    t.action: t
    for t in (
        Transition(A.CONFIRM, frozenset({S.REPORTED}), S.RECTIFYING, FIELD),
        Transition(A.DISMISS, frozenset({S.REPORTED}), S.DISMISSED,
                   FIELD - {Role.GRID_WORKER}, needs_reason=True),
        Transition(A.SUBMIT_RECTIFICATION, frozenset({S.RECTIFYING}), S.PENDING_VERIFICATION,
                   frozenset({Role.PARTY, Role.GRID_WORKER, Role.VILLAGE_CADRE})),
        Transition(A.VERIFY_PASS, frozenset({S.PENDING_VERIFICATION}), S.CLOSED, SUPERVISORS),
        Transition(A.VERIFY_FAIL, frozenset({S.PENDING_VERIFICATION}), S.RECTIFYING,
                   SUPERVISORS, needs_reason=True, needs_deadline=True),
        Transition(A.HAND_OVER, frozenset({S.RECTIFYING}), S.ENFORCEMENT, SUPERVISORS,
                   needs_reason=True),
        Transition(A.ENFORCEMENT_RESULT, frozenset({S.ENFORCEMENT}), S.RECTIFYING,
                   SUPERVISORS, needs_reason=True, needs_deadline=True),
        Transition(A.LOOK_BACK_PASS, frozenset({S.CLOSED}), S.CLOSED, FIELD),
        Transition(A.LOOK_BACK_FAIL, frozenset({S.CLOSED}), S.RECTIFYING, FIELD,
                   needs_reason=True, needs_deadline=True),
        Transition(A.VOID, frozenset(OPEN_STATES), S.VOIDED, TOWN_OR_ABOVE, needs_reason=True),
        Transition(A.REQUEST_EXTENSION, frozenset({S.RECTIFYING}), None,
                   frozenset({Role.PARTY, Role.GRID_WORKER, Role.VILLAGE_CADRE}),
                   needs_reason=True, needs_deadline=True),
        Transition(A.APPROVE_EXTENSION, frozenset({S.RECTIFYING}), None, SUPERVISORS),
        Transition(A.REFUSE_EXTENSION, frozenset({S.RECTIFYING}), None, SUPERVISORS,
                   needs_reason=True),
        Transition(A.DECIDE_MAJOR, frozenset(OPEN_STATES), None, TOWN_OR_ABOVE),
        Transition(A.REJECT_MAJOR, frozenset(OPEN_STATES), None, TOWN_OR_ABOVE),
        Transition(A.LIST_SUPERVISION, frozenset(OPEN_STATES), None, TOWN_OR_ABOVE),
        # A dismissed report may have been listed while it was being checked.
        Transition(A.DELIST_SUPERVISION, frozenset({S.CLOSED, S.DISMISSED, S.VOIDED}), None,
                   TOWN_OR_ABOVE),
    )
}


def transition_for(action: HazardAction) -> Transition:
    return TRANSITIONS[action]


def actions_from(state: HazardState) -> list[HazardAction]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources]
