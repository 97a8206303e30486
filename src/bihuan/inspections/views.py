"""The field flow, on a phone: start, walk the checklist, sign, print the notice.

Also the two shortcuts a grid worker needs most: a hazard with one photo straight
from a place's page, and a missing place registered with its party on the spot.

Nothing is written until the end: the walk's state lives in its one form, which
is submitted once through ``submit_inspection`` with a client key, so a retried
submission (a stairwell, a spinner, a second tap) finds the first inspection.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bihuan.accounts.choices import AREA_ROLES, Role
from bihuan.accounts.models import Membership, OrgUnit, Team
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.campaigns.models import Campaign
from bihuan.checklists.choices import ChecklistDomain, ChecklistStatus, ItemSeverity
from bihuan.checklists.models import Checklist, ChecklistItem
from bihuan.core import clock
from bihuan.core.errors import DomainError, NotFound
from bihuan.core.forms import add_domain_error
from bihuan.core.views import get_visible_or_404
from bihuan.hazards.choices import HazardAction
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.hazards.services import FieldAccess, default_deadline, field_access
from bihuan.inspections.choices import InspectionKind, ItemOutcome
from bihuan.inspections.forms import NewPlaceForm, QuickHazardForm, WalkForm, localized
from bihuan.inspections.models import Inspection
from bihuan.inspections.services import outstanding_hazards, submit_inspection
from bihuan.places import services as place_services
from bihuan.places.choices import PartyKind, PartyRole, PlaceKind
from bihuan.places.models import Party, Place

# Who usually answers for a place of each kind: nobody has to pick it.
PARTY_ROLE_BY_KIND = {
    PlaceKind.RENTAL_HOUSE: PartyRole.LANDLORD,
    PlaceKind.RESIDENTIAL_COMPOUND: PartyRole.MANAGER,
}
# "Most common first" counts what was found at places of this kind lately.
COMMON_WINDOW = dt.timedelta(days=180)


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@dataclass(frozen=True)
class FieldVisit:
    """What a visit of a place by this user is: kind, department, team, campaign."""

    place: Place
    kind: str
    org_unit: OrgUnit | None
    team: Team | None
    campaign: Campaign | None
    access: FieldAccess


def _visit(request: HttpRequest, place_pk: int) -> FieldVisit:
    """The place and the kind of visit; 404 out of reach, 403 for who may only look."""
    try:
        access = field_access(request.user, place_pk)
    except NotFound:
        raise Http404 from None
    place = access.place
    if access.cross is not None:
        return FieldVisit(place, InspectionKind.CROSS, None, access.cross.team,
                          access.cross.draw.campaign, access)
    kind, unit = _field_role(request.user, access)
    return FieldVisit(place, kind, unit, None, _campaign(request.user, place), access)


def _field_role(user: Any, access: FieldAccess) -> tuple[str, OrgUnit | None]:
    """The kind of inspection ``user`` makes at the place; 403 for who may only look.

    Area roles patrol their grid; a department inspector inspects for the department
    whose jurisdiction covers the place's kind; a cross-inspection team member makes
    the team's cross-inspection.
    """
    if access.cross is not None:
        return InspectionKind.CROSS, None
    roles = {g.role for g in access.grants}
    place = access.place
    if roles & set(AREA_ROLES):
        return InspectionKind.GRID_PATROL, None
    if Role.DEPT_INSPECTOR in roles:
        for membership in Membership.objects.filter(
            user=user, role=Role.DEPT_INSPECTOR, active=True, org_unit__isnull=False
        ).select_related("org_unit"):
            unit = membership.org_unit
            if unit is not None and place.kind in (unit.place_kinds or []):
                return InspectionKind.DEPARTMENT, unit
        return InspectionKind.DEPARTMENT, None
    raise PermissionDenied


def _checklists(place: Place) -> list[Checklist]:
    """The active checklists for the place's kind, fire safety first."""
    # One query: the active checklists are few, and the kind is picked here (as
    # ``for_place_kind`` does, which reads them once more to filter by id).
    found = [c for c in Checklist.objects.active() if place.kind in (c.place_kinds or [])]
    return sorted(found, key=lambda c: (c.domain != ChecklistDomain.FIRE, c.code))


def _path_and_ancestors(path: str) -> list[str]:
    """``a/b/c/`` → ``a/``, ``a/b/``, ``a/b/c/``."""
    codes = [c for c in path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


def _campaign(user: Any, place: Place) -> Campaign | None:
    """The running campaign that covers the place, the most local one first.

    Only campaigns of the place's area or an area above it cover it. Each of those is
    visible to ``user``, whose own scope reaches the place (``_visit`` asks only then):
    the campaign's area and the user's area both lie on the place's path, so one
    contains the other, which is what ``Campaign.objects.visible_to`` asks. Reading
    them by the place's path alone is the same answer in a simpler query.
    """
    today = clock.today()
    running = [
        c for c in Campaign.objects.select_related("area").filter(
            area__path__in=_path_and_ancestors(place.area.path),
            starts_on__lte=today, ends_on__gte=today,
        )
        if place.area.path.startswith(c.area.path)
        and (not c.place_kinds or place.kind in c.place_kinds)
    ]
    running.sort(key=lambda c: len(c.area.path), reverse=True)
    return running[0] if running else None


def _place_url_name() -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("places:detail", args=[0])
    except NoReverseMatch:
        return None
    return "places:detail"


def _already_submitted(request: HttpRequest) -> Inspection | None:
    """A retried submission: the inspection its client key already made, if any."""
    try:
        key = uuid.UUID(str(request.POST.get("client_key", "")))
    except ValueError:
        return None
    found: Inspection | None = (
        Inspection.objects.visible_to(request.user).filter(client_key=key).first()
    )
    return found


# ---------------------------------------------------------------- start


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, place_pk: int) -> HttpResponse:
    """The place, what is still open there, and the checklist(s) to walk."""
    visit = _visit(request, place_pk)
    place, kind = visit.place, visit.kind
    checklists = _checklists(place)
    if request.method == "POST":
        # Starting writes nothing: the whole visit is submitted once, at the end.
        chosen = request.POST.get("checklist", "")
        for checklist in checklists:
            if str(checklist.pk) == chosen:
                return redirect("inspections:walk", place.pk, checklist.pk)
    hazards = outstanding_hazards(place)
    return render(request, "inspections/start.html", {
        "place": place, "kind": InspectionKind(kind), "checklists": checklists,
        "hazards": hazards, "today": clock.today(), "place_url_name": _place_url_name(),
    })


# ---------------------------------------------------------------- the walk


def _walk_checklist(place: Place, checklist_pk: int) -> tuple[Checklist, list[ChecklistItem]]:
    """The checklist to walk (active, for the place's kind: 404 otherwise) and its items.

    One query reads both (the items with their checklist): a submission reads them
    on every request.
    """
    items = list(
        ChecklistItem.objects.filter(checklist_id=checklist_pk,
                                     checklist__status=ChecklistStatus.ACTIVE)
        .select_related("checklist", "deadline_rule").order_by("order", "id")
    )
    checklist: Checklist | None
    if items:
        checklist = items[0].checklist
        for item in items:
            item.checklist = checklist  # one checklist object, as ``checklist.items`` gives
    else:
        checklist = Checklist.objects.active().filter(pk=checklist_pk).first()
    if checklist is None or place.kind not in (checklist.place_kinds or []):
        raise Http404
    return checklist, items


@login_required
@require_http_methods(["GET", "POST"])
def walk(request: HttpRequest, place_pk: int, checklist_pk: int) -> HttpResponse:
    """Every item on one page: pass unless tapped; submitted once, with the signature."""
    visit = _visit(request, place_pk)
    place, kind = visit.place, visit.kind
    checklist, items = _walk_checklist(place, checklist_pk)
    carried = outstanding_hazards(place)
    status = 200
    if request.method == "POST":
        form = WalkForm(request.POST, request.FILES, items=items, carried=carried)
        if form.is_valid():
            # A valid retry is recognised by the service (its key is taken) and answered
            # with the first inspection; only a refused form is looked up here, so a
            # first submission does not pay for the lookup.
            try:
                inspection = submit_inspection(
                    actor=request.user, place=place, kind=kind, checklist=checklist,
                    results=form.results(), findings=form.findings(),
                    carried=form.carried_outcomes(), org_unit=visit.org_unit,
                    team=visit.team, campaign=visit.campaign,
                    started_at=form.cleaned_data.get("started_at"),
                    client_key=form.cleaned_data["client_key"],
                    note=form.cleaned_data.get("note") or "",
                    signature=form.cleaned_data.get("signature"),
                    signed_by_name=form.cleaned_data.get("signed_by_name") or "",
                    client_ip=_client_ip(request),
                    access=visit.access, items=items, open_hazards=carried,
                )
            except DomainError as error:
                add_domain_error(form, error)
                # A full disk is the server's fault, not the form's: say so in the status.
                status = max(status, error.http_status)
            else:
                return redirect("inspections:notice", inspection.pk)
        # A retry the form now refuses (its deadline passed overnight, ...) still
        # finds the inspection the first submission made.
        existing = _already_submitted(request)
        if existing is not None:
            return redirect("inspections:notice", existing.pk)
        status = max(status, 400)
    else:
        form = WalkForm(
            initial={
                "client_key": uuid.uuid4(),
                "started_at": timezone.localtime(clock.now()).isoformat(),
                "signed_by_name": place.party.name if place.party else "",
            },
            items=items, carried=carried,
        )
    groups = form.groups()
    return render(request, "inspections/walk.html", {
        "place": place, "checklist": checklist, "checklist_name": localized(checklist, "name"),
        "kind": InspectionKind(kind), "form": form, "groups": groups,
        "carried_rows": form.carried_rows(), "today": clock.today(),
        "failed_count": sum(1 for g in groups for r in g.rows if r.failed),
    }, status=status)


# ---------------------------------------------------------------- the quick hazard


def _common_first(user: Any, place: Place, items: list[ChecklistItem]) -> list[ChecklistItem]:
    """Items found most often lately at places of this kind in the user's reach, then
    behaviour items (blocked exits, e-bikes: the commonest findings), then the list order."""
    path = place.area.path
    town_path = "/".join(path.split("/")[:2]) + "/"
    counts = dict(
        Hazard.objects.visible_to(user)
        .filter(place_kind=place.kind, area__path__startswith=town_path,
                registered_at__gte=clock.now() - COMMON_WINDOW)
        .values_list("code")
        .annotate(n=Count("id"))
        .values_list("code", "n")
    )
    return sorted(items, key=lambda i: (
        -counts.get(i.code, 0),
        i.checklist.domain != ChecklistDomain.FIRE,
        i.severity != ItemSeverity.ON_THE_SPOT,
        i.checklist.code, i.order,
    ))


@login_required
@require_http_methods(["GET", "POST"])
def quick_hazard(request: HttpRequest, place_pk: int) -> HttpResponse:
    """From a place's page to a registered hazard: tap the item, take a photo, submit."""
    visit = _visit(request, place_pk)
    place, kind = visit.place, visit.kind
    items = [
        item for checklist in _checklists(place)
        for item in checklist.items.select_related("deadline_rule", "checklist")
    ]
    status = 200
    if request.method == "POST":
        existing = _already_submitted(request)
        if existing is not None:
            return redirect("inspections:notice", existing.pk)
        form = QuickHazardForm(request.POST, request.FILES, items=items)
        if form.is_valid():
            item = form.chosen_item
            try:
                inspection = submit_inspection(
                    actor=request.user, place=place, kind=kind, checklist=item.checklist,
                    results={item.code: ItemOutcome.FAIL}, findings=[form.finding()],
                    org_unit=visit.org_unit, team=visit.team, campaign=visit.campaign,
                    client_key=form.cleaned_data["client_key"], client_ip=_client_ip(request),
                )
            except DomainError as error:
                add_domain_error(form, error)
                # A full disk is the server's fault, not the form's: say so in the status.
                status = max(status, error.http_status)
            else:
                return redirect("inspections:notice", inspection.pk)
        status = max(status, 400)
    else:
        form = QuickHazardForm(initial={"client_key": uuid.uuid4()}, items=items)
    chosen = str(form["item"].value() or "")
    rows = [
        {"item": item, "text": localized(item, "text"),
         "deadline": default_deadline(item.deadline_rule), "checked": str(item.pk) == chosen,
         "major_candidate": item.severity == ItemSeverity.MAJOR_CANDIDATE,
         "search": f"{item.code} {item.text} {item.text_en} {localized(item, 'category')}"}
        for item in _common_first(request.user, place, items)
    ]
    return render(request, "inspections/quick_hazard.html", {
        "place": place, "form": form, "rows": rows, "place_url_name": _place_url_name(),
    }, status=status)


# ---------------------------------------------------------------- a new place


def _area_choices(user: Any) -> tuple[list[Area], dict[int, str], Area | None]:
    """Villages and grids the user may register places in, labelled with their town."""
    areas = list(
        Area.objects.visible_to(user)
        .filter(level__in=[AreaLevel.VILLAGE, AreaLevel.GRID])
        .order_by("path")
    )
    town_codes = {a.path.split("/")[1] for a in areas if a.path.count("/") > 2}
    towns = dict(Area.objects.filter(code__in=town_codes).values_list("code", "short_name"))
    labels = {}
    for area in areas:
        town = towns.get(area.path.split("/")[1], "")
        labels[area.pk] = f"{town} · {area.name}" if town else area.name
    own = [
        m.area for m in Membership.objects.filter(
            user=user, active=True, role__in=list(AREA_ROLES), area__isnull=False,
            area__level__in=[AreaLevel.VILLAGE, AreaLevel.GRID],
        ).select_related("area")
    ]
    default = own[0] if len(own) == 1 else None
    return areas, labels, default


@login_required
@require_http_methods(["GET", "POST"])
def new_place(request: HttpRequest) -> HttpResponse:
    """A place that is not in the system yet, with its party, then straight into its inspection."""
    areas, labels, default_area = _area_choices(request.user)
    if not areas:
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = NewPlaceForm(request.POST, areas=areas, labels=labels)
        if form.is_valid():
            place = _register_place(request, form)
            if place is not None:
                return redirect("inspections:start", place.pk)
        status = 400
    else:
        form = NewPlaceForm(initial={"area": default_area.pk if default_area else None},
                            areas=areas, labels=labels)
    places_search = _reverse_or_none("places:search")
    return render(request, "inspections/new_place.html", {
        "form": form, "places_search": places_search,
    }, status=status)


def _reverse_or_none(name: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _register_place(request: HttpRequest, form: NewPlaceForm) -> Place | None:
    data = form.cleaned_data
    area: Area = data["area"]
    duplicate = Place.objects.visible_to(request.user).filter(
        area=area, name=data["name"].strip(), active=True
    ).first()
    if duplicate is not None:
        form.add_error("name", _("“%(name)s” is already registered in this area.")
                       % {"name": duplicate.name})
        form.duplicate = duplicate  # type: ignore[attr-defined]
        return None
    try:
        with transaction.atomic():
            party = _party(request, data)
            place = place_services.register_place(
                actor=request.user, area=area, name=data["name"], kind=data["kind"],
                address=data["address"], latitude=data.get("latitude"),
                longitude=data.get("longitude"), party=party, client_ip=_client_ip(request),
            )
    except DomainError as error:
        add_domain_error(form, error)
        return None
    return place


def _party(request: HttpRequest, data: dict[str, Any]) -> Party:
    """The place's party: one already known by this name and phone, or a new one."""
    name, phone = data["party_name"].strip(), data["party_phone"]
    if phone:
        visible = Party.objects.visible_to(request.user)  # type: ignore[no-untyped-call]
        known: Party | None = visible.filter(name=name, phone=phone).first()
        if known is not None:
            return known
    try:
        party: Party = place_services.register_party(
            actor=request.user, name=name, kind=PartyKind.PERSON,
            role=PARTY_ROLE_BY_KIND.get(PlaceKind(data["kind"]), PartyRole.OPERATOR),
            phone=phone, client_ip=_client_ip(request),
        )
    except DomainError as error:
        if error.field == "name":
            error.field = "party_name"
        raise
    return party


# ---------------------------------------------------------------- the notice


@login_required
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    """整改通知书: what must be rectified by when, and why; printable."""
    inspection: Inspection = get_visible_or_404(Inspection, request.user, pk=pk)
    inspection = (
        Inspection.objects.select_related(
            "place__area", "place__party", "inspector", "org_unit", "checklist"
        ).get(pk=inspection.pk)
    )
    hazards = list(
        inspection.hazards.select_related("checklist_item", "deadline_rule").order_by("id")
    )
    # The hazards of a visible inspection: a cross-inspection team member sees what
    # they found in another town without seeing the rest of that town.
    on_spot_ids = set(
        HazardEvent.objects
        .filter(hazard__in=hazards, seq=1, action=HazardAction.RECTIFY_ON_SPOT)
        .values_list("hazard_id", flat=True)
    )
    rows: list[dict[str, Any]] = [
        {"hazard": h, "text": localized(h.checklist_item, "text") if h.checklist_item
         else h.description,
         "detail": h.description if h.checklist_item and h.description != h.checklist_item.text
         else "",
         "legal_basis": localized(h.checklist_item, "legal_basis") if h.checklist_item else ""}
        for h in hazards
    ]
    place = inspection.place
    town = place.area.town()
    authority = inspection.org_unit.name if inspection.org_unit else (town.name if town else "")
    return render(request, "inspections/notice.html", {
        "inspection": inspection, "place": place, "authority": authority,
        "to_rectify": [r for r in rows if r["hazard"].pk not in on_spot_ids],
        "on_spot": [r for r in rows if r["hazard"].pk in on_spot_ids],
        "carried": inspection.carried.select_related("hazard").order_by("hazard_id"),
        "inspected_on": timezone.localtime(inspection.started_at).date(),
        "place_url_name": _place_url_name(),
        "can_inspect": _can_inspect(request.user, place),
    })


def _can_inspect(user: Any, place: Place) -> bool:
    try:
        _field_role(user, field_access(user, place))
    except (PermissionDenied, NotFound):
        return False
    return True


@login_required
def signature(request: HttpRequest, pk: int) -> FileResponse:
    """The party's signature on a notice, for whoever may see the notice."""
    inspection: Inspection = get_visible_or_404(Inspection, request.user, pk=pk)
    if not inspection.party_signature:
        raise Http404
    response = FileResponse(inspection.party_signature.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
