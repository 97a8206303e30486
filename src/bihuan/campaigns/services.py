"""Campaigns: every change here validates, writes and records an audit entry in one
transaction. Refusals raise a ``DomainError`` before anything is written.

Who may do what: campaigns, targets, tasks, the responsibility list and the
draws are managed by the command HQ (within its area) and by town officers
(within their town); a task's owners report progress; a look-back or a duty
check is recorded by the person it was assigned to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from bihuan.accounts.choices import AREA_ROLES, Role
from bihuan.accounts.models import Membership, OrgUnit, Team
from bihuan.accounts.scopes import scope_of
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.audit import services as audit
from bihuan.campaigns import draws as algo
from bihuan.campaigns.choices import (
    PERCENT_METRICS,
    CheckResult,
    DrawKind,
    DrawStatus,
    Duty,
    DutyResult,
    Metric,
    TaskStatus,
)
from bihuan.campaigns.models import (
    Campaign,
    CrossAssignment,
    CrossPairing,
    Draw,
    DutyCheckItem,
    DutyFinding,
    LookBackItem,
    Responsibility,
    Target,
    Task,
    TaskEvidence,
    TaskReport,
)
from bihuan.core import clock, images
from bihuan.core.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from bihuan.dashboard import metrics, summaries
from bihuan.places.choices import PlaceKind

MANAGER_ROLES = frozenset({Role.COMMAND_STAFF, Role.TOWN_OFFICER})
# A place "recently passed as clean": a local patrol found nothing within this many days.
RECENT_DAYS = 30
MAX_SAMPLE = 500
MAX_EVIDENCE_FILES = 5


# ---------------------------------------------------------------- who may


def can_manage(user: Any, area: Area) -> bool:
    """Command HQ within its area, a town officer within its town."""
    return any(
        g.role in MANAGER_ROLES and g.area_path and area.path.startswith(g.area_path)
        for g in scope_of(user).grants
    )


def _require_manager(user: Any, area: Area) -> None:
    if not can_manage(user, area):
        raise PermissionDenied()


def _visible_campaign(campaign: Campaign | int, actor: Any, *, lock: bool = False) -> Campaign:
    pk = campaign.pk if isinstance(campaign, Campaign) else campaign
    queryset = Campaign.objects.visible_to(actor).select_related("area")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def can_report(user: Any, task: Task) -> bool:
    """The task's owners: the department's members, officials of the area, managers."""
    area = task.area or task.campaign.area
    if can_manage(user, area):
        return True
    if task.org_unit_id and Membership.objects.filter(
        user=user, org_unit_id=task.org_unit_id, active=True
    ).exists():
        return True
    if task.area is None:
        return False
    return any(
        g.role in AREA_ROLES and g.area_path
        and (task.area.path.startswith(g.area_path) or g.area_path.startswith(task.area.path))
        for g in scope_of(user).grants
    )


# ---------------------------------------------------------------- campaigns and targets


def _clean_kinds(kinds: Sequence[str]) -> list[str]:
    kinds = sorted(set(kinds or []))
    for kind in kinds:
        if kind not in PlaceKind.values:
            raise ValidationFailed(_("Unknown place kind."), field="place_kinds")
    return kinds


@transaction.atomic
def create_campaign(
    *, actor: Any, code: str, name: str, area: Area, starts_on: dt.date, ends_on: dt.date,
    place_kinds: Sequence[str] = (), checklists: Sequence[Any] = (), description: str = "",
    client_ip: str | None = None,
) -> Campaign:
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not name:
        raise ValidationFailed(_("A campaign needs a code and a name."), field="name")
    if ends_on < starts_on:
        raise ValidationFailed(_("The campaign must end on or after its start."),
                               field="ends_on")
    _require_manager(actor, area)
    if Campaign.objects.filter(code=code).exists():
        raise ValidationFailed(_("Another campaign already has this code."), field="code")
    campaign = Campaign.objects.create(
        code=code, name=name, area=area, starts_on=starts_on, ends_on=ends_on,
        place_kinds=_clean_kinds(place_kinds), description=description.strip(),
        created_by=actor, created_at=clock.now(),
    )
    campaign.checklists.set(checklists)
    audit.record("campaign.create", actor=actor, obj=campaign, client_ip=client_ip,
                 data={"code": code, "name": name, "area": area.code,
                       "starts_on": starts_on, "ends_on": ends_on,
                       "place_kinds": campaign.place_kinds,
                       "checklists": sorted(c.pk for c in checklists)})
    return campaign


def _target_value(metric: str, value: Any) -> Decimal:
    if metric not in Metric.values:
        raise ValidationFailed(_("Unknown metric."), field="metric")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("The target must be a number."), field="value") from None
    if not number.is_finite() or number < 0:
        raise ValidationFailed(_("The target must not be negative."), field="value")
    if metric in PERCENT_METRICS and number > 100:
        raise ValidationFailed(_("A percentage target cannot be above 100 %."), field="value")
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def set_target(*, actor: Any, campaign: Campaign | int, metric: str, value: Any,
               client_ip: str | None = None) -> Target:
    """Set (or change) the campaign's target for ``metric``."""
    number = _target_value(metric, value)
    locked = _visible_campaign(campaign, actor, lock=True)
    _require_manager(actor, locked.area)
    target, created = Target.objects.get_or_create(campaign=locked, metric=metric,
                                                   defaults={"value": number})
    old = None if created else str(target.value)
    if not created:
        target.value = number
        target.save(update_fields=["value"])
    audit.record("campaign.target", actor=actor, obj=locked, client_ip=client_ip,
                 data={"metric": metric, "value": str(number), "old": old})
    return target


# ---------------------------------------------------------------- tasks


@transaction.atomic
def create_task(
    *, actor: Any, campaign: Campaign | int, title: str, due_on: dt.date | None,
    org_unit: OrgUnit | None = None, area: Area | None = None, place_kind: str = "",
    description: str = "", client_ip: str | None = None,
) -> Task:
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("A task needs a title."), field="title")
    if org_unit is None and area is None:
        raise ValidationFailed(
            _("A task needs an owner: a department, an area or both."), field="org_unit"
        )
    if due_on is None:
        raise ValidationFailed(_("A task needs a due date."), field="due_on")
    if place_kind and place_kind not in PlaceKind.values:
        raise ValidationFailed(_("Unknown place kind."), field="place_kind")
    locked = _visible_campaign(campaign, actor, lock=True)
    if not locked.starts_on <= due_on <= locked.ends_on:
        raise ValidationFailed(_("The due date must fall within the campaign."),
                               field="due_on")
    if area is not None and not area.path.startswith(locked.area.path):
        raise ValidationFailed(_("The area is outside the campaign."), field="area")
    _require_manager(actor, area or locked.area)
    task = Task.objects.create(
        campaign=locked, title=title, description=(description or "").strip(),
        org_unit=org_unit, area=area, place_kind=place_kind, due_on=due_on,
        created_by=actor, created_at=clock.now(),
    )
    audit.record("campaign.task.create", actor=actor, obj=task, client_ip=client_ip,
                 data={"campaign": locked.pk, "title": title, "due_on": due_on,
                       "org_unit": org_unit.pk if org_unit else None,
                       "area": area.code if area else None, "place_kind": place_kind})
    return task


@dataclass(frozen=True)
class EvidenceUpload:
    content: bytes
    name: str = "photo.jpg"


@transaction.atomic
def report_task_progress(
    *, actor: Any, task: Task | int, note: str, progress: int,
    evidence: Sequence[EvidenceUpload] = (), client_ip: str | None = None,
) -> TaskReport:
    """A progress report with evidence; 100 % marks the task done."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Say what was done."), field="note")
    if not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationFailed(_("Progress is a percentage from 0 to 100."), field="progress")
    if len(evidence) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(_("At most %(n)d files per report.") % {"n": MAX_EVIDENCE_FILES},
                               field="evidence")
    # Every photo is decoded before anything is written (the same rules as hazard evidence).
    checked = [(item, images.validate_image(item.content)) for item in evidence]
    pk = task.pk if isinstance(task, Task) else task
    try:
        locked = (Task.objects.visible_to(actor).select_for_update(of=("self",))
                  .select_related("campaign__area", "area").get(pk=pk))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if not can_report(actor, locked):
        raise PermissionDenied()
    if locked.status == TaskStatus.DONE:
        raise TransitionNotAllowed(_("This task is already done."))
    now = clock.now()
    report = TaskReport.objects.create(task=locked, reported_by=actor, at=now, note=note,
                                       progress=progress)
    for item, info in checked:
        digest = hashlib.sha256(item.content).hexdigest()
        stored = TaskEvidence(report=report, sha256=digest, content_type=info.content_type)
        stored.file.save(digest, ContentFile(item.content), save=False)
        stored.save()
    locked.progress = progress
    fields = ["progress"]
    if progress == 100:
        locked.status, locked.completed_at = TaskStatus.DONE, now
        fields += ["status", "completed_at"]
    locked.save(update_fields=fields)
    audit.record("campaign.task.report", actor=actor, obj=locked, client_ip=client_ip,
                 data={"report": report.pk, "progress": progress, "note": note,
                       "evidence": [hashlib.sha256(i.content).hexdigest() for i, _x in checked]})
    return report


# ---------------------------------------------------------------- responsibility list


@transaction.atomic
def add_responsibility(
    *, actor: Any, campaign: Campaign | int, area: Area, duty: str, person_name: str,
    place_kind: str = "", user: Any | None = None, org_unit: OrgUnit | None = None,
    client_ip: str | None = None,
) -> Responsibility:
    person_name = (person_name or "").strip()
    if not person_name:
        raise ValidationFailed(_("Name the person who answers for it."), field="person_name")
    if duty not in Duty.values:
        raise ValidationFailed(_("Unknown duty."), field="duty")
    if duty == Duty.DEPARTMENTAL and org_unit is None:
        raise ValidationFailed(_("A departmental duty names its department."),
                               field="org_unit")
    if place_kind and place_kind not in PlaceKind.values:
        raise ValidationFailed(_("Unknown place kind."), field="place_kind")
    locked = _visible_campaign(campaign, actor, lock=True)
    if not area.path.startswith(locked.area.path):
        raise ValidationFailed(_("The area is outside the campaign."), field="area")
    _require_manager(actor, area)
    row = Responsibility.objects.create(
        campaign=locked, area=area, place_kind=place_kind, duty=duty, person_name=person_name,
        user=user, org_unit=org_unit, created_by=actor, created_at=clock.now(),
    )
    audit.record("campaign.responsibility.add", actor=actor, obj=locked, client_ip=client_ip,
                 data={"responsibility": row.pk, "area": area.code, "duty": duty,
                       "person": person_name, "place_kind": place_kind,
                       "org_unit": org_unit.pk if org_unit else None})
    return row


def links_for_hazard(hazard: Any, user: Any) -> tuple[list[Task], list[Responsibility]]:
    """The tasks and the responsible people a hazard falls under (problem → task → person)."""
    path, kind = hazard.area.path, hazard.place_kind
    ancestors = _paths_up(path)
    campaigns: list[Campaign] = [
        c for c in Campaign.objects.visible_to(user).filter(
            area__path__in=ancestors, starts_on__lte=clock_date(hazard.registered_at))
        if not c.place_kinds or kind in c.place_kinds
    ]
    if hazard.campaign_id and all(c.pk != hazard.campaign_id for c in campaigns):
        campaigns += list(Campaign.objects.visible_to(user).filter(pk=hazard.campaign_id))
    tasks = [
        t for t in Task.objects.visible_to(user).filter(campaign__in=campaigns)
        .select_related("org_unit", "area", "campaign")
        if (t.area is None or path.startswith(t.area.path))
        and (not t.place_kind or t.place_kind == kind)
        and (t.org_unit is None or not t.org_unit.place_kinds or kind in t.org_unit.place_kinds)
    ]
    people = list(
        Responsibility.objects.visible_to(user)
        .filter(campaign__in=campaigns, area__path__in=ancestors)
        .filter(place_kind__in=["", kind]).select_related("area", "org_unit")
    )
    return tasks, people


def _paths_up(path: str) -> list[str]:
    codes = [c for c in path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


def clock_date(moment: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(moment).date()


# ---------------------------------------------------------------- draws: shared


def _announce(
    *, actor: Any, campaign: Campaign, kind: str, area: Area, public_seed: str,
    params: dict[str, Any], inputs: dict[str, Any], client_ip: str | None,
    nonce: str | None = None,
) -> Draw:
    # The nonce comes from the system, never from the form; only the demo generator and
    # simulations pass one, to be reproducible themselves.
    nonce = nonce or secrets.token_hex(8)
    public_seed = (public_seed or "").strip()[:100]
    draw = Draw.objects.create(
        campaign=campaign, kind=kind, area=area, public_seed=public_seed, nonce=nonce,
        seed=algo.effective_seed(public_seed, nonce), params=params, inputs=inputs,
        inputs_hash=algo.digest(inputs), announced_by=actor, announced_at=clock.now(),
    )
    # The commitment: seed and inputs are on the audit chain before any result exists.
    audit.record(f"campaign.draw.{kind}.announce", actor=actor, obj=draw, client_ip=client_ip,
                 data={"campaign": campaign.pk, "area": area.code, "public_seed": public_seed,
                       "nonce": nonce, "seed": draw.seed, "params": params,
                       "inputs_hash": draw.inputs_hash})
    return draw


def _draw_scope(actor: Any, campaign: Campaign | int, area: Area | None) -> tuple[Campaign, Area]:
    locked = _visible_campaign(campaign, actor, lock=True)
    area = area or locked.area
    if not area.path.startswith(locked.area.path):
        raise ValidationFailed(_("The area is outside the campaign."), field="area")
    _require_manager(actor, area)
    if clock.today() > locked.ends_on:
        raise ValidationFailed(_("The campaign has ended."))
    return locked, area


def _towns_under(area: Area, codes: Sequence[str] | None) -> list[Area]:
    if area.level == AreaLevel.TOWN:
        towns = [area]
    else:
        towns = list(Area.objects.filter(path__startswith=area.path, level=AreaLevel.TOWN)
                     .order_by("path"))
    if codes:
        wanted = set(codes)
        unknown = wanted - {t.code for t in towns}
        if unknown:
            raise ValidationFailed(_("A chosen town is outside the draw's area."),
                                   field="towns")
        towns = [t for t in towns if t.code in wanted]
    if not towns:
        raise ValidationFailed(_("There is no town in the draw's area."), field="towns")
    return towns


def _town_code(path: str) -> str | None:
    codes = [c for c in path.split("/") if c]
    return codes[1] if len(codes) > 1 else None


@transaction.atomic
def perform_draw(draw: Draw | int, *, actor: Any, client_ip: str | None = None) -> Draw:
    """Draw from the announced seed and inputs, and write the assignments."""
    pk = draw.pk if isinstance(draw, Draw) else draw
    try:
        locked = (Draw.objects.visible_to(actor).select_for_update(of=("self",))
                  .select_related("campaign", "area").get(pk=pk))
    except (Draw.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    _require_manager(actor, locked.area)
    if locked.status != DrawStatus.ANNOUNCED:
        raise TransitionNotAllowed(_("This draw has already been made."))
    if algo.digest(locked.inputs) != locked.inputs_hash:
        raise ValidationFailed(_("The recorded inputs do not match their hash."))
    result = algo.ALGORITHMS[locked.kind](locked.seed, locked.params, locked.inputs)
    writers = {DrawKind.CROSS: _write_cross, DrawKind.LOOK_BACK: _write_look_back,
               DrawKind.DUTY: _write_duty}
    writers[DrawKind(locked.kind)](locked, result)
    locked.status = DrawStatus.DRAWN
    locked.result_hash = algo.digest(result)
    locked.drawn_by, locked.drawn_at = actor, clock.now()
    locked.save(update_fields=["status", "result_hash", "drawn_by", "drawn_at"])
    audit.record(f"campaign.draw.{locked.kind}.draw", actor=actor, obj=locked,
                 client_ip=client_ip,
                 data={"seed": locked.seed, "inputs_hash": locked.inputs_hash,
                       "result_hash": locked.result_hash})
    return locked


def verify_draw(draw: Draw) -> bool:
    """Re-run the draw from its record: same inputs hash, same result hash."""
    if algo.digest(draw.inputs) != draw.inputs_hash:
        return False
    if draw.status != DrawStatus.DRAWN:
        return True
    result = algo.ALGORITHMS[draw.kind](draw.seed, draw.params, draw.inputs)
    return algo.digest(result) == draw.result_hash


# ---------------------------------------------------------------- cross-inspection


def recently_clean_places(place_ids: Sequence[int] | None = None, *,
                          area: Area | None = None) -> set[int]:
    """Places whose last local patrol within ``RECENT_DAYS`` found nothing."""
    from bihuan.inspections.choices import InspectionKind, InspectionStatus
    from bihuan.inspections.models import Inspection

    since = clock.now() - dt.timedelta(days=RECENT_DAYS)
    patrols = Inspection.objects.filter(kind=InspectionKind.GRID_PATROL,
                                        status=InspectionStatus.SUBMITTED,
                                        started_at__gte=since)
    if area is not None:
        patrols = patrols.filter(place__area__path__startswith=area.path)
    if place_ids is not None:
        patrols = patrols.filter(place_id__in=place_ids)
    latest: dict[int, tuple[dt.datetime, int, int]] = {}
    for place_id, started_at, pk, found in patrols.annotate(found=Count("hazards")).values_list(
        "place_id", "started_at", "pk", "found"
    ):
        if place_id not in latest or (started_at, pk) > latest[place_id][:2]:
            latest[place_id] = (started_at, pk, found)
    return {place_id for place_id, (_s, _p, found) in latest.items() if found == 0}


@transaction.atomic
def announce_cross_draw(
    *, actor: Any, campaign: Campaign | int, per_town: int, public_seed: str = "",
    towns: Sequence[str] | None = None, clean_share: float = 0.3, area: Area | None = None,
    client_ip: str | None = None,
    nonce: str | None = None,
) -> Draw:
    """交叉互查: record the seed and a snapshot of the inputs (towns, their eligible
    places, the teams) before anyone sees a result; :func:`perform_draw` then draws."""
    from bihuan.places.models import Place

    if not isinstance(per_town, int) or not 1 <= per_town <= MAX_SAMPLE:
        raise ValidationFailed(_("Places per town: from 1 to %(max)d.") % {"max": MAX_SAMPLE},
                               field="per_town")
    if not 0 <= clean_share <= 1:
        raise ValidationFailed(_("The share of recently clean places is from 0 to 100 %."),
                               field="clean_share")
    locked, area = _draw_scope(actor, campaign, area)
    town_areas = _towns_under(area, towns)
    clean = recently_clean_places(area=area)
    town_inputs = []
    for town in town_areas:
        places = Place.objects.filter(active=True, area__path__startswith=town.path)
        if locked.place_kinds:
            places = places.filter(kind__in=locked.place_kinds)
        rows = [[pk, kind, pk in clean] for pk, kind in places.order_by("pk")
                .values_list("pk", "kind")]
        if not rows:
            raise ValidationFailed(
                _("%(town)s has no eligible places for this draw.") % {"town": town.name},
                field="towns",
            )
        town_inputs.append({"code": town.code, "name": town.name, "places": rows})
    teams: list[tuple[int, str]] = [
        (team_id, _town_code(home_path) or "")
        for team_id, home_path in Team.objects.filter(
            home_area__path__startswith=locked.area.path
        ).order_by("pk").values_list("pk", "home_area__path")
    ]
    # Refuse now, not at the draw, when no pairing can exist (whatever the seed).
    algo.pair_teams("check", [town.code for town in town_areas], teams)
    inputs = {"towns": town_inputs, "teams": [list(t) for t in teams]}
    params = {"per_town": per_town, "clean_share": clean_share, "recent_days": RECENT_DAYS}
    return _announce(actor=actor, campaign=locked, kind=DrawKind.CROSS, area=area,
                     public_seed=public_seed, params=params, inputs=inputs,
                     client_ip=client_ip, nonce=nonce)


def _write_cross(draw: Draw, result: dict[str, Any]) -> None:
    towns = {a.code: a for a in Area.objects.filter(code__in=result["pairings"])}
    CrossPairing.objects.bulk_create(
        [CrossPairing(draw=draw, team_id=team, town=towns[code])
         for code, team in result["pairings"].items()]
    )
    CrossAssignment.objects.bulk_create(
        [CrossAssignment(draw=draw, team_id=team, town=towns[code], place_id=place,
                         place_kind=kind, recently_clean=bool(clean))
         for code, team, place, kind, clean in result["assignments"]]
    )


def cross_assignment_for(user: Any, place_id: int) -> CrossAssignment | None:
    """The running cross-inspection assignment of ``place_id`` to a team ``user`` is in.

    For the inspection pages: a visit of an assigned place by a team member is a
    cross-inspection (kind ``cross``, with its team and campaign).
    """
    today = clock.today()
    return (
        CrossAssignment.objects.filter(
            place_id=place_id, team__members=user, draw__status=DrawStatus.DRAWN,
            draw__campaign__starts_on__lte=today, draw__campaign__ends_on__gte=today,
        ).select_related("team", "draw__campaign").order_by("-draw__drawn_at").first()
    )


@dataclass(frozen=True)
class AssignedWork:
    """What the campaign's draws assigned to one user and is still to be done."""

    look_backs: Any  # QuerySet[LookBackItem]
    duty_checks: Any  # QuerySet[DutyCheckItem]
    cross_places: Any  # QuerySet[CrossAssignment]


def assigned_work(user: Any) -> AssignedWork:
    """For the inbox: look-backs and duty checks assigned to ``user`` and still pending,
    and the places a running cross-inspection assigned to their teams, not yet inspected."""
    from django.db.models import Exists, OuterRef

    from bihuan.inspections.choices import InspectionKind, InspectionStatus
    from bihuan.inspections.models import Inspection

    today = clock.today()
    draws = Draw.objects.visible_to(user)
    look_backs = LookBackItem.objects.filter(
        draw__in=draws, assignee_id=user.pk, result=CheckResult.PENDING,
    ).select_related("hazard__place", "hazard__area")
    duty_checks = DutyCheckItem.objects.filter(
        draw__in=draws, checker_id=user.pk, result=DutyResult.PENDING,
    ).select_related("inspection__place", "grid")
    inspected = Inspection.objects.filter(
        place_id=OuterRef("place_id"), kind=InspectionKind.CROSS,
        status=InspectionStatus.SUBMITTED, started_at__gte=OuterRef("draw__drawn_at"),
    )
    cross_places = (
        CrossAssignment.objects.filter(
            team__members=user, draw__status=DrawStatus.DRAWN,
            draw__campaign__starts_on__lte=today, draw__campaign__ends_on__gte=today,
        )
        .exclude(Exists(inspected))
        .select_related("place", "town", "team")
    )
    return AssignedWork(look_backs=look_backs, duty_checks=duty_checks,
                        cross_places=cross_places)


@dataclass(frozen=True)
class TeamProgress:
    team: Team
    towns: list[Area]
    assigned: int
    done: int
    found: int


def cross_progress(draw: Draw) -> tuple[list[TeamProgress], dict[int, Any]]:
    """Per team: places assigned, inspected (a cross-inspection since the draw), with hazards.

    Also returns, per assigned place, its cross-inspection since the draw (if any).
    """
    from bihuan.inspections.choices import InspectionKind, InspectionStatus
    from bihuan.inspections.models import Inspection

    assignments = list(draw.assignments.select_related("team", "town"))
    done: dict[int, Any] = {}
    if draw.drawn_at is not None:
        for inspection in (
            Inspection.objects.filter(
                kind=InspectionKind.CROSS, status=InspectionStatus.SUBMITTED,
                started_at__gte=draw.drawn_at,
                place_id__in=[a.place_id for a in assignments],
            ).annotate(found=Count("hazards")).order_by("started_at", "pk")
        ):
            done.setdefault(inspection.place_id, inspection)
    by_team: dict[int, list[CrossAssignment]] = defaultdict(list)
    for a in assignments:
        by_team[a.team_id].append(a)
    rows = []
    for rows_of_team in by_team.values():
        team = rows_of_team[0].team
        inspected = [done[a.place_id] for a in rows_of_team if a.place_id in done]
        rows.append(TeamProgress(
            team=team, towns=sorted({a.town for a in rows_of_team}, key=lambda t: t.path),
            assigned=len(rows_of_team), done=len(inspected),
            found=sum(1 for i in inspected if i.found),
        ))
    rows.sort(key=lambda r: r.team.name)
    return rows, done


# ---------------------------------------------------------------- look-back


def _risk_tier(severity: str, recurrences: int) -> int:
    major = severity == "major"
    if major and recurrences:
        return 0
    if major or recurrences:
        return 1
    return 2


def _areas_below(area: Area) -> list[Area]:
    children = list(Area.objects.filter(parent=area).order_by("path"))
    return children or [area]


@transaction.atomic
def announce_look_back_draw(
    *, actor: Any, campaign: Campaign | int, share: int, public_seed: str = "",
    area: Area | None = None, client_ip: str | None = None,
    nonce: str | None = None,
) -> Draw:
    """回头看: ``share`` % of the closed hazards of each area below ``area``, risk first."""
    from bihuan.hazards.choices import HazardState
    from bihuan.hazards.models import Hazard

    if not isinstance(share, int) or not 1 <= share <= 100:
        raise ValidationFailed(_("The share is a percentage from 1 to 100."), field="share")
    locked, area = _draw_scope(actor, campaign, area)
    already = LookBackItem.objects.filter(draw__campaign=locked).values("hazard_id")
    hazards = (Hazard.objects.filter(area__path__startswith=area.path, state=HazardState.CLOSED,
                                     closed_at__date__gte=locked.starts_on)
               .exclude(pk__in=already).order_by("pk"))
    if locked.place_kinds:
        hazards = hazards.filter(place_kind__in=locked.place_kinds)
    rows = list(hazards.values_list("pk", "area__path", "severity", "recurrence_count",
                                    "closed_by_id", "rectification_submitted_by_id"))
    # Who may look back: area officials over the hazard's area (the hazard rules' FIELD
    # roles by area), never whoever closed it.
    officials = list(
        Membership.objects.filter(
            active=True, role__in=[Role.TOWN_OFFICER, Role.VILLAGE_CADRE, Role.GRID_WORKER],
            area__path__startswith=_city_path(area),
        ).values_list("user_id", "area__path").order_by("user_id")
    )
    by_area: dict[str, list[list[Any]]] = defaultdict(list)
    below = _areas_below(area)
    for pk, path, severity, recurrences, closed_by, submitted_by in rows:
        candidates = sorted({u for u, p in officials if path.startswith(p)
                             and u not in (closed_by, submitted_by)})
        if not candidates:
            continue
        owner = next((a for a in below if path.startswith(a.path)), None)
        if owner is not None:
            by_area[owner.code].append([pk, _risk_tier(severity, recurrences), candidates])
    if not by_area:
        raise ValidationFailed(_("There are no closed hazards to look back at in this area."),
                               field="area")
    inputs = {"areas": [{"code": a.code, "hazards": by_area[a.code]}
                        for a in below if by_area.get(a.code)]}
    return _announce(actor=actor, campaign=locked, kind=DrawKind.LOOK_BACK, area=area,
                     public_seed=public_seed, params={"share": share}, inputs=inputs,
                     client_ip=client_ip, nonce=nonce)


def _city_path(area: Area) -> str:
    """Officials over a hazard may sit above the draw's area (a town officer for a village)."""
    return _paths_up(area.path)[0]


def _write_look_back(draw: Draw, result: dict[str, Any]) -> None:
    LookBackItem.objects.bulk_create(
        [LookBackItem(draw=draw, hazard_id=hazard, tier=tier, assignee_id=assignee)
         for _code, hazard, tier, assignee in result["items"]]
    )


@transaction.atomic
def record_look_back(
    item: LookBackItem | int, *, actor: Any, passed: bool, reason: str = "",
    deadline: dt.date | None = None, client_ip: str | None = None,
) -> LookBackItem:
    """The look-back's result, through the hazard loop: a fail reopens the hazard."""
    from bihuan.hazards import services as hazards

    pk = item.pk if isinstance(item, LookBackItem) else item
    try:
        locked = (LookBackItem.objects.select_for_update(of=("self",))
                  .filter(draw__in=Draw.objects.visible_to(actor)).get(pk=pk))
    except (LookBackItem.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if locked.assignee_id != actor.pk:
        raise PermissionDenied(_("This look-back is assigned to someone else."))
    if locked.result != CheckResult.PENDING:
        raise TransitionNotAllowed(_("This look-back has already been recorded."))
    if passed:
        hazards.pass_look_back(locked.hazard_id, actor=actor, note=reason, client_ip=client_ip)
    else:
        hazards.fail_look_back(locked.hazard_id, actor=actor, reason=reason, deadline=deadline,
                               client_ip=client_ip)
    locked.result = CheckResult.PASSED if passed else CheckResult.FAILED
    locked.done_at = clock.now()
    locked.save(update_fields=["result", "done_at"])
    audit.record("campaign.look_back.record", actor=actor, obj=locked.draw, client_ip=client_ip,
                 data={"item": locked.pk, "hazard": locked.hazard_id, "result": locked.result})
    return locked


# ---------------------------------------------------------------- duty spot checks


@transaction.atomic
def announce_duty_draw(
    *, actor: Any, campaign: Campaign | int, grids: int, per_grid: int, public_seed: str = "",
    days: int = RECENT_DAYS, area: Area | None = None, client_ip: str | None = None,
    nonce: str | None = None,
) -> Draw:
    """抽查履职: random grids and a sample of the inspections recorded there."""
    from bihuan.inspections.choices import InspectionKind, InspectionStatus
    from bihuan.inspections.models import Inspection

    for name, value in (("grids", grids), ("per_grid", per_grid), ("days", days)):
        if not isinstance(value, int) or not 1 <= value <= MAX_SAMPLE:
            raise ValidationFailed(_("Enter a number from 1 to %(max)d.") % {"max": MAX_SAMPLE},
                                   field=name)
    locked, area = _draw_scope(actor, campaign, area)
    since = clock.now() - dt.timedelta(days=days)
    recorded = (
        Inspection.objects.filter(place__area__path__startswith=area.path,
                                  place__area__level=AreaLevel.GRID,
                                  kind=InspectionKind.GRID_PATROL,
                                  status=InspectionStatus.SUBMITTED, started_at__gte=since)
        .order_by("pk").values_list("pk", "inspector_id", "place__area__code",
                                    "place__area__path")
    )
    by_grid: dict[str, dict[str, Any]] = {}
    for pk, inspector, code, path in recorded:
        grid = by_grid.setdefault(code, {"code": code, "path": path, "inspections": []})
        grid["inspections"].append([pk, inspector])
    checkers = list(Membership.objects.filter(
        active=True, role__in=[Role.TOWN_OFFICER, Role.COMMAND_STAFF],
    ).values_list("user_id", "area__path"))
    grids_in: list[dict[str, Any]] = []
    for code in sorted(by_grid):
        grid = by_grid[code]
        people = sorted({u for u, p in checkers if p and grid["path"].startswith(p)}
                        | {actor.pk})
        # An inspection its only possible checker made cannot be checked independently.
        grid["inspections"] = [i for i in grid["inspections"]
                               if any(u != i[1] for u in people)]
        if grid["inspections"]:
            grids_in.append({"code": code, "inspections": grid["inspections"],
                             "checkers": people})
    if not grids_in:
        raise ValidationFailed(_("No grid in this area has recorded inspections to check."),
                               field="area")
    params = {"grids": grids, "per_grid": per_grid, "days": days}
    return _announce(actor=actor, campaign=locked, kind=DrawKind.DUTY, area=area,
                     public_seed=public_seed, params=params, inputs={"grids": grids_in},
                     client_ip=client_ip, nonce=nonce)


def _write_duty(draw: Draw, result: dict[str, Any]) -> None:
    grids = {a.code: a for a in Area.objects.filter(code__in={i[0] for i in result["items"]})}
    DutyCheckItem.objects.bulk_create(
        [DutyCheckItem(draw=draw, grid=grids[code], inspection_id=inspection,
                       checker_id=checker)
         for code, inspection, checker in result["items"]]
    )


@transaction.atomic
def record_duty_check(
    item: DutyCheckItem | int, *, actor: Any, confirmed: bool, note: str = "",
    client_ip: str | None = None,
) -> DutyCheckItem:
    """The checker confirms the visit happened as recorded, or refutes it (a finding)."""
    pk = item.pk if isinstance(item, DutyCheckItem) else item
    try:
        locked = (DutyCheckItem.objects.select_for_update(of=("self",))
                  .filter(draw__in=Draw.objects.visible_to(actor))
                  .select_related("inspection", "grid").get(pk=pk))
    except (DutyCheckItem.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if locked.checker_id != actor.pk:
        raise PermissionDenied(_("This check is assigned to someone else."))
    if locked.result != DutyResult.PENDING:
        raise TransitionNotAllowed(_("This check has already been recorded."))
    note = (note or "").strip()
    if not confirmed and not note:
        raise ValidationFailed(_("Say what was found that the record does not show."),
                               field="note")
    now = clock.now()
    locked.result = DutyResult.CONFIRMED if confirmed else DutyResult.REFUTED
    locked.note, locked.done_at = note, now
    locked.save(update_fields=["result", "note", "done_at"])
    finding = None
    if not confirmed:
        finding = DutyFinding.objects.create(duty_check=locked, grid=locked.grid,
                                             description=note, recorded_by=actor,
                                             recorded_at=now)
        officials = set(Membership.objects.filter(
            active=True, area=locked.grid, role=Role.GRID_WORKER
        ).values_list("user_id", flat=True)) | {locked.inspection.inspector_id}
        finding.officials.set(sorted(officials))
    audit.record("campaign.duty_check.record", actor=actor, obj=locked.draw, client_ip=client_ip,
                 data={"item": locked.pk, "inspection": locked.inspection_id,
                       "result": locked.result, "note": note,
                       "finding": finding.pk if finding else None})
    return locked


# ---------------------------------------------------------------- missed detection
#
# 漏检率 has one definition, the dashboard's (docs/dashboard.md, "missed detection"):
# the summary rows keep its counters per campaign, so the campaign page reads them
# as the dashboard and the briefing do and shows the same figures for the same
# area, campaign and day. Nothing here scans hazards or inspections.


@dataclass(frozen=True)
class MissedDetection:
    """Of the hazards found by cross-inspections and look-back inspections (``cross_found``,
    not since dismissed or voided), those at a place a local team had passed as clean in
    the days before (``missed``); ``rate`` is the dashboard's share in 0..1 (or None)."""

    cross_found: int
    missed: int
    rate: float | None

    @classmethod
    def of(cls, figures: metrics.AreaFigures) -> MissedDetection:
        return cls(figures.cross_found, figures.missed, figures.missed_detection_rate)


def missed_detection_days() -> int:
    """How recent a local team's clean visit must be for a later finding to count as
    missed (``BIHUAN_MISSED_DETECTION_DAYS``)."""
    return summaries.missed_window_days()


def missed_detection(area: Area, campaign: Campaign, day: dt.date | None = None
                     ) -> MissedDetection:
    """漏检率 for ``area`` within ``campaign`` at the end of ``day`` (today by default):
    ``metrics.figures(area, day, campaign)``'s."""
    return MissedDetection.of(metrics.figures(area, day or clock.today(), campaign))


def missed_detection_by_area(campaign: Campaign, day: dt.date | None = None
                             ) -> list[tuple[Area, MissedDetection]]:
    """Per area below the campaign's area (``metrics.child_figures``), or the area itself
    when it has none."""
    day = day or clock.today()
    rows = metrics.child_figures(campaign.area, day, campaign)
    if not rows:
        return [(campaign.area, missed_detection(campaign.area, campaign, day))]
    return [(f.area, MissedDetection.of(f)) for f in rows]


def _team_area_path(team: Team, campaign: Campaign) -> str:
    """The area a local team answers for within the campaign: its home town (its home
    area if that is above the towns), narrowed to the campaign's area."""
    path = team.home_area.town_path
    return campaign.area.path if campaign.area.path.startswith(path) else path


def missed_detection_by_team(campaign: Campaign, day: dt.date | None = None
                             ) -> list[tuple[Team, MissedDetection]]:
    """Per local team based within the campaign's area: the figures of its home town.

    The towns below the campaign's area come from one ``metrics.child_figures``; a
    team's area that is not among them (the campaign's own area) is read once."""
    day = day or clock.today()
    teams = list(Team.objects.filter(home_area__path__startswith=campaign.area.path)
                 .select_related("home_area"))
    if not teams:
        return []
    paths = {team.pk: _team_area_path(team, campaign) for team in teams}
    known = {f.area.path: MissedDetection.of(f)
             for f in metrics.child_figures(campaign.area, day, campaign)}
    for area in Area.objects.filter(path__in=set(paths.values()) - known.keys()):
        known[area.path] = missed_detection(area, campaign, day)
    return [(team, known[paths[team.pk]]) for team in teams]


__all__ = [
    "MissedDetection", "add_responsibility", "announce_cross_draw", "announce_duty_draw",
    "announce_look_back_draw", "can_manage", "create_campaign", "create_task",
    "missed_detection", "missed_detection_by_area", "missed_detection_by_team",
    "missed_detection_days", "perform_draw", "record_duty_check", "record_look_back",
    "report_task_progress", "set_target", "verify_draw",
]
