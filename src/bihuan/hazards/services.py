"""The hazard loop: every change of a hazard goes through one function here.

Each function validates, takes the hazard's row lock, checks scope, role,
state and separation of duties, writes the hazard, appends exactly one
``HazardEvent`` and one audit entry, all in one transaction, and enqueues
the notification task in the same transaction (the worker sees it only after
the commit). Nothing else writes a hazard's state.

On PostgreSQL a transition costs four round trips: BEGIN, the row lock with what the
transition reads (:func:`_lock`), its writes as one batch of statements
(:mod:`bihuan.hazards.statements`), COMMIT.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import BigIntegerField, F, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from bihuan.accounts.choices import Role
from bihuan.accounts.scopes import RoleGrant, scope_of
from bihuan.audit import services as audit
from bihuan.checklists.choices import ItemSeverity
from bihuan.checklists.models import ChecklistItem, DeadlineRule
from bihuan.core import clock, workdays
from bihuan.core.compiled import Compiled
from bihuan.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    StorageFull,
    TransitionNotAllowed,
    ValidationFailed,
)
from bihuan.hazards.choices import (
    EvidenceKind,
    ExtensionStatus,
    HazardAction,
    HazardSource,
    HazardState,
    Severity,
    SupervisionLevel,
)
from bihuan.hazards.models import (
    Evidence,
    ExtensionRequest,
    Hazard,
    HazardEvent,
    MajorHazardDecision,
    Supervision,
)
from bihuan.hazards.rules import FIELD, TOWN_OR_ABOVE, Transition, transition_for
from bihuan.hazards.statements import Batch, select
from bihuan.places.models import Place

A = HazardAction
S = HazardState

# The grant used when a user holds several roles over the hazard: the most senior.
ROLE_PRECEDENCE = [
    Role.COMMAND_STAFF,
    Role.TOWN_OFFICER,
    Role.DEPT_INSPECTOR,
    Role.VILLAGE_CADRE,
    Role.GRID_WORKER,
    Role.PARTY,
    Role.CITIZEN,
]

# Forms check the upload size early with this; core.images enforces it on the bytes.
MAX_EVIDENCE_BYTES: int = getattr(settings, "BIHUAN_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)


@dataclass(frozen=True)
class EvidenceFile:
    """An uploaded photo, already read; its metadata as the phone reported it."""

    content: bytes
    kind: str = EvidenceKind.AFTER
    name: str = "photo.jpg"
    taken_at: dt.datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class _Step:
    hazard: Hazard
    transition: Transition
    grant: RoleGrant
    actor: Any
    reason: str
    client_ip: str | None
    from_state: str
    reads: _Reads
    data: dict[str, Any] = field(default_factory=dict)
    fields: set[str] = field(default_factory=set)


# ---------------------------------------------------------------- helpers


def _validate_evidence(files: Sequence[EvidenceFile]) -> list[tuple[EvidenceFile, str]]:
    """Decode every photo before anything is written; fill in what its EXIF says
    (when and where it was taken) where the phone did not send it."""

    from bihuan.core import images

    checked = []
    for item in files:
        if item.kind not in EvidenceKind.values:
            raise ValidationFailed(_("Unknown kind of evidence."), field="evidence")
        info = images.validate_image(item.content)
        if item.taken_at is None and info.taken_at is not None:
            item = replace(item, taken_at=info.taken_at)
        if (item.latitude is None or item.longitude is None) and info.latitude is not None:
            item = replace(item, latitude=info.latitude, longitude=info.longitude)
        checked.append((item, info.content_type))
    return checked


def _store_evidence(
    hazard: Hazard, event: HazardEvent, files: Sequence[tuple[EvidenceFile, str]], actor: Any,
    batch: Batch,
) -> list[str]:
    """Write the files and queue their rows in ``batch``; the names of the files written."""
    # The original bytes are kept, EXIF and all: the digest is of what was uploaded.
    written: list[str] = []
    for item, content_type in files:
        digest = hashlib.sha256(item.content).hexdigest()
        evidence = Evidence(
            hazard=hazard, event=event, kind=item.kind, sha256=digest,
            content_type=content_type, taken_at=item.taken_at, latitude=item.latitude,
            longitude=item.longitude, uploaded_by=actor, uploaded_at=clock.now(),
        )
        try:
            evidence.file.save(digest, ContentFile(item.content), save=False)
        except OSError as error:
            # A full disk refuses the whole request (the transaction rolls back); the
            # half-written file and this call's earlier ones must not stay behind.
            storage = evidence.file.storage
            written.append(str(evidence.file.field.generate_filename(evidence, digest)))
            for name in written:
                with contextlib.suppress(OSError):
                    storage.delete(name)
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from error
            raise
        written.append(str(evidence.file.name))
        batch.add_insert(evidence)
    return written


def _run(batch: Batch, written: list[str]) -> None:
    """Run the transition's writes; if they fail, its evidence files go too."""
    try:
        batch.run()
    except BaseException:
        storage = Evidence._meta.get_field("file").storage
        for name in written:
            with contextlib.suppress(OSError):
                storage.delete(name)
        raise


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("A reason is required for this action."), field="reason")
    return reason


def _require_future_deadline(deadline: dt.date | None, *, required: bool = True) -> dt.date | None:
    if deadline is None:
        if required:
            raise ValidationFailed(_("A new deadline is required."), field="deadline")
        return None
    if deadline < clock.today():
        raise ValidationFailed(_("The deadline must not be in the past."), field="deadline")
    return deadline


def default_deadline(rule: DeadlineRule | None, start: dt.date | None = None) -> dt.date | None:
    """The deadline a rule gives, counted in working days from ``start`` (today)."""
    if rule is None:
        return None
    return workdays.add_working_days(start or clock.today(), rule.working_days)


def _pick_grant(grants: list[RoleGrant], allowed: frozenset[str]) -> RoleGrant | None:
    usable = [g for g in grants if g.role in allowed]
    if not usable:
        return None
    return min(usable, key=lambda g: ROLE_PRECEDENCE.index(Role(g.role)))


def grants_over(user: Any, area_path: str, place_kind: str, party_user_id: int | None,
                reported_by_id: int | None = None) -> list[RoleGrant]:
    """The role grants through which ``user`` reaches an object of this place."""
    scope = scope_of(user)
    grants = scope.grants_for(area_path, place_kind)
    if scope.is_party and party_user_id is not None and party_user_id == user.pk:
        grants.append(RoleGrant(Role.PARTY, None))
    if scope.is_citizen and reported_by_id is not None and reported_by_id == user.pk:
        grants.append(RoleGrant(Role.CITIZEN, None))
    return grants


@dataclass(frozen=True)
class FieldAccess:
    """Where ``actor`` works in the field: the place and the grants they work through.

    ``cross`` is the cross-inspection assignment when that is the only way in.
    """

    place: Place
    grants: list[RoleGrant]
    cross: Any | None = None


def field_access(actor: Any, place_id: Place | int | str) -> FieldAccess:
    """The place ``actor`` may inspect or register hazards at, and through which grants.

    Normally the actor's own scope. A member of a cross-inspection team (交叉互查)
    also works at the places a running draw assigned to the team, in another town
    their scope does not cover: there they act in the official role they hold, over
    that one place only, and see nothing else of the town. ``NotFound`` otherwise.
    """
    if isinstance(place_id, Place):
        place_id = place_id.pk
    place_obj: Place | None
    grants: list[RoleGrant] = []
    try:
        place_obj = Place.objects.visible_to(actor).select_related("area", "party").get(
            pk=place_id
        )
    except (Place.DoesNotExist, ValueError, TypeError):
        place_obj = None
    if place_obj is not None:
        grants = grants_over(actor, place_obj.area.path, place_obj.kind,
                             place_obj.party.user_id if place_obj.party else None)
        if _pick_grant(grants, FIELD) is not None:
            return FieldAccess(place_obj, grants)
    from bihuan.campaigns.services import cross_assignment_for

    official = [g for g in scope_of(actor).grants if g.role in FIELD]
    assignment = None
    if official:
        try:
            assignment = cross_assignment_for(actor, int(place_id))
        except (ValueError, TypeError):
            assignment = None
    if assignment is None:
        if place_obj is None:
            raise NotFound()
        return FieldAccess(place_obj, grants)
    if place_obj is None:
        place_obj = Place.objects.select_related("area", "party").get(pk=assignment.place_id)
    role = official[0].role
    granted = RoleGrant(role, place_obj.area.path, frozenset({place_obj.kind}),
                        place_obj.area.level)
    return FieldAccess(place_obj, [granted], assignment)


# Stand for the hazard's id and the acting user's id in the compiled queries below;
# no hazard or user has a negative id.
_ANY_HAZARD = -7_340_912_658_113
_ANY_USER = -7_340_912_658_127


@functools.lru_cache(maxsize=512)
def _lock_query(visible: Q) -> Compiled:
    """The hazard's row lock, within ``visible`` (the ``visible_to`` condition of the
    actor's scope, with ``_ANY_USER`` for the actor's id: the cache key, so actors of
    one scope, and all parties, share the compiled query). On PostgreSQL it
    also reserves the id of the transition's event, so that every write of the
    transition can go to the database in one batch."""
    reads: dict[str, Any] = {
        # The party's login is all the role check needs: one value, not two model rows.
        "area_path": F("area__path"), "party_user_id": F("place__party__user_id"),
    }
    if connection.vendor == "postgresql":
        reads["event_id"] = RawSQL("nextval(pg_get_serial_sequence(%s, %s))",
                                   (HazardEvent._meta.db_table, "id"),
                                   output_field=BigIntegerField())
    # The row lock serialises transitions of one hazard: two verifiers closing it
    # at once queue here, and the second sees the first one's state and version.
    # NO KEY: a transition changes no key, so rows referring to the hazard (their
    # foreign-key checks take FOR KEY SHARE) are not held up by it; under FOR UPDATE
    # the summaries' rebuild, checking its rows at commit, deadlocked with a
    # transition waiting for the summary tables.
    return Compiled.of(
        Hazard.objects.filter(visible, pk=_ANY_HAZARD)
        .select_for_update(of=("self",), no_key=True).annotate(**reads).order_by(),
        required=("hazard",), hazard=_ANY_HAZARD, user=_ANY_USER,
    )


@dataclass(frozen=True)
class _Reads:
    """What a transition reads along with its row lock (see :func:`_lock`)."""

    state: Any  # the dashboard's stored contribution of the hazard (None: no row yet)
    audit_head: tuple[int, str]
    event_id: int | None  # reserved on PostgreSQL


def _lock(hazard: Hazard | int, actor: Any) -> tuple[Hazard, _Reads]:
    """The hazard, row-locked, and what its transition reads: its dashboard state row
    (for the summary hook) and its audit chain's head.

    All in one round trip: the reads are statements of their own after the lock, so
    they start once it is granted and see what its previous holder committed.
    """
    from bihuan.dashboard.summaries import state_from, state_statement

    hazard_id = hazard.pk if isinstance(hazard, Hazard) else hazard
    try:
        pk = Hazard._meta.pk.get_prep_value(hazard_id)
    except (ValueError, TypeError):
        raise NotFound() from None
    scope = scope_of(actor)
    visible = Hazard.objects.scope_condition(replace(scope, user_id=_ANY_USER))
    if visible is None or pk is None or not 0 < pk < 2**63:
        raise NotFound()
    lock = _lock_query(visible)
    stream = f"{Hazard._meta.label_lower}:{pk}"  # audit.stream_for of the hazard
    locked_rows, state_rows, head_rows = select([
        lock.statement(hazard=pk, user=scope.user_id), state_statement(pk),
        audit.head_statement(stream),
    ])
    row = lock.row(locked_rows)
    if row is None:
        raise NotFound()
    locked = Hazard.from_db(connection.alias, lock.fields, row[:len(lock.fields)])
    for name, at in lock.annotations.items():
        setattr(locked, name, row[at])
    return locked, _Reads(state=state_from(state_rows), audit_head=audit.head_from(head_rows),
                          event_id=getattr(locked, "event_id", None))


def allowed_actions(hazard: Hazard, user: Any) -> list[HazardAction]:
    """The actions ``user`` may try on ``hazard`` now (state and role; for the UI)."""
    grants = grants_over(user, hazard.area.path, hazard.place_kind,
                         hazard.place.party.user_id if hazard.place.party else None)
    result: list[HazardAction] = []
    for action in HazardAction:
        if action in (A.REGISTER, A.REPORT, A.RECTIFY_ON_SPOT):
            continue
        step = transition_for(action)
        if hazard.state in step.sources and _pick_grant(grants, step.roles):
            result.append(action)
    return result


def _begin(
    hazard: Hazard | int,
    action: HazardAction,
    *,
    actor: Any,
    reason: str = "",
    expected_version: int | None = None,
    client_ip: str | None = None,
) -> _Step:
    locked, reads = _lock(hazard, actor)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict()
    step = transition_for(action)
    if locked.state not in step.sources:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the hazard is “%(state)s”.")
            % {"action": action.label, "state": S(locked.state).label}
        )
    grants = grants_over(actor, locked.area_path,  # type: ignore[attr-defined]
                         locked.place_kind, locked.party_user_id)  # type: ignore[attr-defined]
    grant = _pick_grant(grants, step.roles)
    if grant is None:
        raise PermissionDenied()
    if step.needs_reason:
        reason = _require_reason(reason)
    return _Step(hazard=locked, transition=step, grant=grant, actor=actor,
                 reason=(reason or "").strip(), client_ip=client_ip,
                 from_state=locked.state, reads=reads)


def _append_event(
    hazard: Hazard, *, action: HazardAction, from_state: str, actor: Any, role: str,
    reason: str, data: dict[str, Any], client_ip: str | None, batch: Batch,
    reads: _Reads | None = None,
) -> HazardEvent:
    """Queue in ``batch`` the event, its summary bookings, its audit entry and its
    notification. What :func:`_lock` read (``reads``) is used, not read again.
    """
    from bihuan.dashboard.summaries import record_hazard_event

    event = HazardEvent(
        pk=reads.event_id if reads else None, hazard=hazard, seq=hazard.version,
        action=action, from_state=from_state, to_state=hazard.state, actor=actor,
        actor_role=role, at=clock.now(), reason=reason, data=data, client_ip=client_ip,
    )
    if event.pk is None:  # no id reserved: the notification's task row needs it now
        batch.insert_now(event)
    else:
        batch.add_insert(event)
    # The dashboard's summary rows change in the same transaction as the hazard.
    if reads is not None:
        record_hazard_event(hazard, event, old=reads.state, batch=batch)
    else:
        record_hazard_event(hazard, event, batch=batch)
    stream = audit.stream_for(hazard)
    # The hazard's row lock (or, at registration, its new row) makes this
    # transaction the stream's only writer: the head read stays the head.
    head = reads.audit_head if reads is not None else audit.stream_head(stream)
    batch.add_insert(audit.new_entry(
        f"hazard.{action}", actor=actor, head=head, obj=hazard, stream=stream,
        client_ip=client_ip,
        data={"event": event.seq, "from": from_state, "to": hazard.state,
              "role": role, "reason": reason, **data},
    ))
    if getattr(settings, "BIHUAN_NOTIFY", True):
        from bihuan.hazards.tasks import notify_hazard_event
        from bihuan.notifications.outbox import enqueue_in

        # A transactional outbox: the task row commits (or rolls back) with the
        # transition, so the worker acts only after commit and a crash between
        # commit and enqueue cannot lose a notice. It also saves a second commit.
        enqueue_in(batch, notify_hazard_event, event.pk)
    return event


def _finish(step: _Step, evidence: Sequence[tuple[EvidenceFile, str]] = ()
            ) -> tuple[Hazard, HazardEvent]:
    hazard = step.hazard
    if step.transition.target is not None:
        hazard.state = step.transition.target
        step.fields.add("state")
    hazard.version += 1
    step.fields.add("version")
    batch = Batch()
    batch.add_update(hazard, sorted(step.fields))
    event = _append_event(
        hazard, action=step.transition.action, from_state=step.from_state, actor=step.actor,
        role=step.grant.role, reason=step.reason, data=step.data, client_ip=step.client_ip,
        batch=batch, reads=step.reads,
    )
    _run(batch, _store_evidence(hazard, event, evidence, step.actor, batch))
    return hazard, event


def _set(step: _Step, **values: Any) -> None:
    for name, value in values.items():
        setattr(step.hazard, name, value)
        step.fields.add(name)


# ---------------------------------------------------------------- registration


@transaction.atomic
def register_hazard(
    *,
    actor: Any,
    place: Place | int,
    description: str,
    item: ChecklistItem | None = None,
    inspection: Any | None = None,
    requirement: str = "",
    deadline: dt.date | None = None,
    rectified_on_spot: bool = False,
    evidence: Sequence[EvidenceFile] = (),
    campaign: Any | None = None,
    source: str | None = None,
    client_ip: str | None = None,
    access: FieldAccess | None = None,
) -> Hazard:
    """Register a hazard found at ``place``.

    An official's finding starts rectifying with a deadline from the item's rule
    (or an explicit one, never in the past); a party's self-check or a reported
    case starts as reported; a finding fixed on the spot is created closed with
    its after-photo. A candidate major hazard stays general until a collective
    decision (:func:`decide_major`) makes it major.

    ``access`` is ``field_access(actor, place)`` when the caller (an inspection's
    submission, registering each of its findings) has it already.
    """
    place_pk = place.pk if isinstance(place, Place) else place
    if access is None or str(access.place.pk) != str(place_pk):
        access = field_access(actor, place)
    place_obj = access.place
    description = (description or "").strip()
    if item is None and not description:
        raise ValidationFailed(_("Describe the hazard."), field="description")
    grant = _pick_grant(access.grants, FIELD | {Role.PARTY})
    if grant is None:
        raise PermissionDenied()
    if inspection is not None:
        if inspection.place_id != place_obj.pk:
            raise ValidationFailed(_("The inspection is of another place."))
        if item is not None and item.checklist_id != inspection.checklist_id:
            raise ValidationFailed(
                _("Hazard code %(code)s is not in the checklist version this inspection uses.")
                % {"code": item.code},
                field="item",
            )
    checked = _validate_evidence(evidence)
    rule = item.deadline_rule if item is not None else None
    severity = Severity.GENERAL
    candidate = False
    if item is not None:
        if item.severity == ItemSeverity.ON_THE_SPOT:
            severity = Severity.ON_THE_SPOT
        candidate = item.severity == ItemSeverity.MAJOR_CANDIDATE
    if source is None:
        source = HazardSource.SELF_CHECK if grant.role == Role.PARTY else HazardSource.INSPECTION
    now = clock.now()
    hazard = Hazard(
        place=place_obj, area=place_obj.area, place_kind=place_obj.kind, inspection=inspection,
        campaign=campaign or (inspection.campaign if inspection is not None else None),
        checklist_item=item, code=item.code if item is not None else "", source=source,
        description=description or (item.text if item is not None else ""),
        requirement=(requirement or "").strip() or (item.requirement if item else ""),
        severity=severity, major_candidate=candidate, deadline_rule=rule,
        reported_by=actor, registered_at=now, version=1,
    )
    if rectified_on_spot:
        if candidate:
            raise ValidationFailed(
                _("A candidate major hazard cannot be closed on the spot."), field="item"
            )
        if not any(f.kind == EvidenceKind.AFTER for f, _ct in checked):
            raise ValidationFailed(
                _("A hazard rectified on the spot needs a photo after the fix."),
                field="evidence",
            )
        if grant.role == Role.PARTY:
            raise PermissionDenied()
        action = A.RECTIFY_ON_SPOT
        hazard.state = S.CLOSED
        hazard.closed_at = now
        hazard.closed_by = actor
    elif grant.role == Role.PARTY or source in (HazardSource.CITIZEN_REPORT,):
        action = A.REPORT
        hazard.state = S.REPORTED
        _require_future_deadline(deadline, required=False)
    else:
        action = A.REGISTER
        hazard.state = S.RECTIFYING
        hazard.deadline = _require_future_deadline(deadline, required=False) or default_deadline(
            rule
        )
        if hazard.deadline is None:
            raise ValidationFailed(_("A deadline is required."), field="deadline")
        if not hazard.requirement:
            raise ValidationFailed(_("State the rectification requirement."),
                                   field="requirement")
    hazard.save(force_insert=True)
    batch = Batch()
    event = _append_event(
        hazard, action=action, from_state="", actor=actor, role=grant.role, reason="",
        data={"deadline": hazard.deadline.isoformat() if hazard.deadline else None,
              "code": hazard.code, "severity": hazard.severity,
              "major_candidate": candidate},
        client_ip=client_ip, batch=batch,
    )
    _run(batch, _store_evidence(hazard, event, checked, actor, batch))
    return hazard


# ---------------------------------------------------------------- the loop


@transaction.atomic
def confirm_report(
    hazard: Hazard | int, *, actor: Any, requirement: str = "", deadline: dt.date | None = None,
    expected_version: int | None = None, client_ip: str | None = None,
) -> Hazard:
    step = _begin(hazard, A.CONFIRM, actor=actor, expected_version=expected_version,
                  client_ip=client_ip)
    h = step.hazard
    requirement = (requirement or "").strip() or h.requirement
    if not requirement:
        raise ValidationFailed(_("State the rectification requirement."), field="requirement")
    new_deadline = _require_future_deadline(deadline, required=False) or default_deadline(
        h.deadline_rule
    )
    if new_deadline is None:
        raise ValidationFailed(_("A deadline is required."), field="deadline")
    _set(step, requirement=requirement, deadline=new_deadline)
    step.data = {"deadline": new_deadline.isoformat()}
    return _finish(step)[0]


@transaction.atomic
def dismiss_report(
    hazard: Hazard | int, *, actor: Any, reason: str, expected_version: int | None = None,
    client_ip: str | None = None,
) -> Hazard:
    step = _begin(hazard, A.DISMISS, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    return _finish(step)[0]


@transaction.atomic
def submit_rectification(
    hazard: Hazard | int, *, actor: Any, evidence: Sequence[EvidenceFile], note: str = "",
    expected_version: int | None = None, client_ip: str | None = None,
) -> Hazard:
    """The party (or an official on its behalf) shows the fix: at least one after-photo."""
    step = _begin(hazard, A.SUBMIT_RECTIFICATION, actor=actor, reason=note,
                  expected_version=expected_version, client_ip=client_ip)
    checked = _validate_evidence(evidence)
    if not any(f.kind == EvidenceKind.AFTER for f, _ct in checked):
        raise ValidationFailed(_("Attach at least one photo taken after the fix."),
                               field="evidence")
    if step.hazard.clock_paused_since is not None:
        raise TransitionNotAllowed(
            _("An extension request is pending; wait for the decision first.")
        )
    _set(step, rectification_submitted_by=actor)
    return _finish(step, evidence=checked)[0]


@transaction.atomic
def pass_verification(
    hazard: Hazard | int, *, actor: Any, note: str = "", expected_version: int | None = None,
    client_ip: str | None = None,
) -> Hazard:
    """验收销号: close the hazard. Never by whoever submitted the rectification."""
    step = _begin(hazard, A.VERIFY_PASS, actor=actor, reason=note,
                  expected_version=expected_version, client_ip=client_ip)
    _check_verifier(step)
    _set(step, closed_at=clock.now(), closed_by=actor)
    return _finish(step)[0]


@transaction.atomic
def fail_verification(
    hazard: Hazard | int, *, actor: Any, reason: str, deadline: dt.date | None,
    expected_version: int | None = None, client_ip: str | None = None,
) -> Hazard:
    step = _begin(hazard, A.VERIFY_FAIL, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    _check_verifier(step)
    new_deadline = _require_future_deadline(deadline)
    assert new_deadline is not None
    step.data = {"old_deadline": _iso(step.hazard.deadline), "deadline": new_deadline.isoformat()}
    _set(step, deadline=new_deadline, rectification_submitted_by=None)
    return _finish(step)[0]


def _check_verifier(step: _Step) -> None:
    h = step.hazard
    if h.rectification_submitted_by_id == step.actor.pk:
        raise PermissionDenied(
            _("You submitted this rectification; someone else must verify it.")
        )
    if h.severity == Severity.MAJOR and step.grant.role not in TOWN_OR_ABOVE:
        raise PermissionDenied(_("A major hazard is verified at town level or above."))


@transaction.atomic
def hand_over_to_enforcement(
    hazard: Hazard | int, *, actor: Any, reason: str, department: str = "",
    expected_version: int | None = None, client_ip: str | None = None,
) -> Hazard:
    step = _begin(hazard, A.HAND_OVER, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    if step.hazard.clock_paused_since is not None:
        _resolve_pending_extension(step, ExtensionStatus.REFUSED,
                                   _("Handed over to enforcement."))
    step.data["department"] = department
    return _finish(step)[0]


@transaction.atomic
def record_enforcement_result(
    hazard: Hazard | int, *, actor: Any, reason: str, deadline: dt.date | None,
    expected_version: int | None = None, client_ip: str | None = None,
) -> Hazard:
    """The enforcing department's result (fine, sealing, ...); rectification resumes."""
    step = _begin(hazard, A.ENFORCEMENT_RESULT, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    new_deadline = _require_future_deadline(deadline)
    step.data = {"old_deadline": _iso(step.hazard.deadline), "deadline": _iso(new_deadline)}
    _set(step, deadline=new_deadline)
    return _finish(step)[0]


@transaction.atomic
def pass_look_back(
    hazard: Hazard | int, *, actor: Any, note: str = "", expected_version: int | None = None,
    client_ip: str | None = None,
) -> Hazard:
    step = _begin(hazard, A.LOOK_BACK_PASS, actor=actor, reason=note,
                  expected_version=expected_version, client_ip=client_ip)
    _check_look_back(step)
    _set(step, look_back_count=step.hazard.look_back_count + 1)
    return _finish(step)[0]


@transaction.atomic
def fail_look_back(
    hazard: Hazard | int, *, actor: Any, reason: str, deadline: dt.date | None,
    expected_version: int | None = None, client_ip: str | None = None,
) -> Hazard:
    """回头看 found the hazard again: reopen it and count a recurrence."""
    step = _begin(hazard, A.LOOK_BACK_FAIL, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    _check_look_back(step)
    new_deadline = _require_future_deadline(deadline)
    h = step.hazard
    step.data = {"deadline": _iso(new_deadline), "recurrence": h.recurrence_count + 1}
    _set(step, look_back_count=h.look_back_count + 1, recurrence_count=h.recurrence_count + 1,
         deadline=new_deadline, closed_at=None, closed_by=None,
         rectification_submitted_by=None)
    return _finish(step)[0]


def _check_look_back(step: _Step) -> None:
    if step.hazard.closed_by_id == step.actor.pk:
        raise PermissionDenied(_("A look-back is done by someone who did not close the hazard."))


@transaction.atomic
def void_hazard(
    hazard: Hazard | int, *, actor: Any, reason: str, expected_version: int | None = None,
    client_ip: str | None = None,
) -> Hazard:
    step = _begin(hazard, A.VOID, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    if step.hazard.clock_paused_since is not None:
        _resolve_pending_extension(step, ExtensionStatus.REFUSED, _("The hazard was voided."))
    return _finish(step)[0]


# ---------------------------------------------------------------- extensions


@transaction.atomic
def request_extension(
    hazard: Hazard | int, *, actor: Any, reason: str, requested_deadline: dt.date | None,
    expected_version: int | None = None, client_ip: str | None = None,
) -> ExtensionRequest:
    """延期申请: the hazard's clock pauses until an official decides."""
    step = _begin(hazard, A.REQUEST_EXTENSION, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    h = step.hazard
    wanted = _require_future_deadline(requested_deadline)
    assert wanted is not None
    if h.deadline is not None and wanted <= h.deadline:
        raise ValidationFailed(_("The requested deadline must be later than the current one."),
                               field="requested_deadline")
    if h.clock_paused_since is not None:
        raise TransitionNotAllowed(_("An extension request is already pending."))
    request = ExtensionRequest.objects.create(
        hazard=h, requested_by=actor, requested_at=clock.now(), reason=step.reason,
        requested_deadline=wanted,
    )
    _set(step, clock_paused_since=clock.today())
    step.data = {"extension": request.pk, "requested_deadline": wanted.isoformat()}
    _finish(step)
    return request


def _pending_extension(h: Hazard) -> ExtensionRequest:
    request = h.extensions.filter(status=ExtensionStatus.PENDING).first()
    if request is None:
        raise TransitionNotAllowed(_("There is no pending extension request."))
    return request


def _resolve_pending_extension(step: _Step, status: str, reason: str) -> ExtensionRequest:
    h = step.hazard
    old_deadline = h.deadline
    request = _pending_extension(h)
    request.status = status
    request.decided_by = step.actor
    request.decided_at = clock.now()
    request.decision_reason = reason
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    if status == ExtensionStatus.APPROVED:
        _set(step, deadline=request.requested_deadline, clock_paused_since=None)
    else:
        # The clock stood still while the request was pending: give those days back.
        paused = h.clock_paused_since or clock.today()
        lost = max(0, workdays.working_days_between(paused, clock.today()))
        new_deadline = h.deadline
        if h.deadline is not None and lost:
            new_deadline = workdays.add_working_days(h.deadline, lost)
        _set(step, deadline=new_deadline, clock_paused_since=None)
    step.data.update({"extension": request.pk, "old_deadline": _iso(old_deadline),
                      "decision": status})
    return request


@transaction.atomic
def decide_extension(
    hazard: Hazard | int, *, actor: Any, approve: bool, reason: str = "",
    expected_version: int | None = None, client_ip: str | None = None,
) -> ExtensionRequest:
    action = A.APPROVE_EXTENSION if approve else A.REFUSE_EXTENSION
    step = _begin(hazard, action, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    pending = _pending_extension(step.hazard)
    if pending.requested_by_id == actor.pk:
        raise PermissionDenied(_("You cannot decide on your own extension request."))
    if approve and pending.requested_deadline < clock.today():
        raise ValidationFailed(
            _("The requested date has already passed: refuse the request or agree a new date."),
            field="reason",
        )
    request = _resolve_pending_extension(
        step, ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED, step.reason
    )
    step.data["deadline"] = _iso(step.hazard.deadline)
    _finish(step)
    return request


# ---------------------------------------------------------------- major hazards, supervision


@transaction.atomic
def decide_major(
    hazard: Hazard | int, *, actor: Any, confirmed: bool, participants: Sequence[str],
    minutes: str, decided_on: dt.date | None = None, expert_panel: bool = False,
    expected_version: int | None = None, client_ip: str | None = None,
) -> MajorHazardDecision:
    """Record the collective decision (GB 35181) on a hazard; the system never decides."""
    action = A.DECIDE_MAJOR if confirmed else A.REJECT_MAJOR
    step = _begin(hazard, action, actor=actor, reason=minutes,
                  expected_version=expected_version, client_ip=client_ip)
    names = [p.strip() for p in participants if p and p.strip()]
    needed = 7 if expert_panel else 3
    if len(set(names)) < needed:
        raise ValidationFailed(
            _("A collective decision needs at least %(n)d participants.") % {"n": needed},
            field="participants",
        )
    if not (minutes or "").strip():
        raise ValidationFailed(_("Record the minutes of the decision."), field="minutes")
    h = step.hazard
    if h.severity == Severity.MAJOR:
        # Confirming twice means nothing; "rejecting" a major hazard would leave a record
        # that contradicts its severity. A downgrade is a new decision, not modelled yet.
        raise TransitionNotAllowed(_("The hazard is already major."))
    if h.severity == Severity.ON_THE_SPOT:
        raise TransitionNotAllowed(_("A hazard fixed on the spot is never major."))
    decision = MajorHazardDecision.objects.create(
        hazard=h, confirmed=confirmed, participants=names, expert_panel=expert_panel,
        minutes=minutes.strip(), recorded_by=actor, decided_on=decided_on or clock.today(),
        recorded_at=clock.now(),
    )
    if confirmed:
        # Major hazards start under city supervision.
        _set(step, severity=Severity.MAJOR, major_candidate=False,
             supervision_level=SupervisionLevel.CITY)
    else:
        _set(step, major_candidate=False)
    step.data = {"decision": decision.pk, "participants": names}
    _finish(step)
    return decision


_LEVEL_RANK = {SupervisionLevel.NONE: 0, SupervisionLevel.TOWN: 1, SupervisionLevel.CITY: 2}


@transaction.atomic
def list_supervision(
    hazard: Hazard | int, *, actor: Any, level: str, document_number: str,
    responsible_person: str, deadline: dt.date | None, delivered_by: str = "",
    signed_for_by: str = "", expected_version: int | None = None, client_ip: str | None = None,
) -> Supervision:
    """挂牌督办: a document with its number, at town or city level."""
    step = _begin(hazard, A.LIST_SUPERVISION, actor=actor,
                  expected_version=expected_version, client_ip=client_ip)
    if level not in (SupervisionLevel.TOWN, SupervisionLevel.CITY):
        raise ValidationFailed(_("Choose town or city supervision."), field="level")
    if level == SupervisionLevel.CITY and step.grant.role != Role.COMMAND_STAFF:
        raise PermissionDenied(_("City supervision is listed by the command headquarters."))
    document_number = (document_number or "").strip()
    if not document_number:
        raise ValidationFailed(_("The document number is required."), field="document_number")
    if Supervision.objects.filter(document_number=document_number).exists():
        raise ValidationFailed(_("This document number is already used."),
                               field="document_number")
    if not (responsible_person or "").strip():
        raise ValidationFailed(_("Name the responsible person."), field="responsible_person")
    new_deadline = _require_future_deadline(deadline)
    assert new_deadline is not None
    h = step.hazard
    if h.supervisions.filter(delisted_at__isnull=True,
                             level__in=_levels_at_least(level)).exists():
        raise TransitionNotAllowed(_("The hazard is already listed at this level or above."))
    supervision = Supervision.objects.create(
        hazard=h, level=level, document_number=document_number,
        responsible_person=responsible_person.strip(), deadline=new_deadline, listed_by=actor,
        listed_at=clock.now(), delivered_by=delivered_by, signed_for_by=signed_for_by,
    )
    if _LEVEL_RANK[SupervisionLevel(level)] > _LEVEL_RANK[SupervisionLevel(h.supervision_level)]:
        _set(step, supervision_level=level)
    step.data = {"supervision": supervision.pk, "level": level,
                 "document_number": document_number}
    _finish(step)
    return supervision


def _levels_at_least(level: str) -> list[str]:
    rank = _LEVEL_RANK[SupervisionLevel(level)]
    return [str(lv) for lv, r in _LEVEL_RANK.items() if r >= rank and r > 0]


@transaction.atomic
def delist_supervision(
    hazard: Hazard | int, *, actor: Any, reason: str = "", expected_version: int | None = None,
    client_ip: str | None = None,
) -> Hazard:
    """摘牌: after verification, end every active listing of the hazard."""
    step = _begin(hazard, A.DELIST_SUPERVISION, actor=actor, reason=reason,
                  expected_version=expected_version, client_ip=client_ip)
    active = list(step.hazard.supervisions.filter(delisted_at__isnull=True))
    if not active and step.hazard.supervision_level == SupervisionLevel.NONE:
        raise TransitionNotAllowed(_("The hazard is not under supervision."))
    if step.hazard.supervision_level == SupervisionLevel.CITY and (
        step.grant.role != Role.COMMAND_STAFF
    ):
        raise PermissionDenied(_("City supervision is de-listed by the command headquarters."))
    for supervision in active:
        supervision.delisted_at = clock.now()
        supervision.delisted_by = actor
        supervision.save(update_fields=["delisted_at", "delisted_by"])
    _set(step, supervision_level=SupervisionLevel.NONE)
    step.data = {"supervisions": [s.pk for s in active]}
    return _finish(step)[0]


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
