"""Office pages of the hazard loop: the inbox, the list, a hazard's page and its transitions.

Every lookup goes through ``visible_to(request.user)``: an out-of-scope hazard
is a 404, exactly like a missing one. Every change goes through a service in
``bihuan.hazards.services``; a refusal is shown on the form and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from bihuan.accounts.choices import OFFICIAL_ROLES, Role
from bihuan.accounts.scopes import scope_of
from bihuan.core import clock, exports
from bihuan.core.errors import Conflict, DomainError
from bihuan.core.forms import add_domain_error
from bihuan.core.pagination import keyset_page
from bihuan.hazards import services
from bihuan.hazards.choices import (
    ExtensionStatus,
    HazardAction,
    HazardState,
    Severity,
    SupervisionLevel,
)
from bihuan.hazards.forms import ACTION_TITLES, TRANSITION_FORMS, HazardListFilterSet
from bihuan.hazards.models import (
    Evidence,
    ExtensionRequest,
    Hazard,
    HazardEvent,
    HazardQuerySet,
)
from bihuan.hazards.rules import TOWN_OR_ABOVE, transition_for
from bihuan.places.choices import PlaceKind

A = HazardAction
S = HazardState

PAGE_SIZE = 50
INBOX_SIZE = 5


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def url_if_exists(name: str, *args: Any) -> str | None:
    """The URL of ``name`` if some app serves it yet, else ``None``."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------- who may act where


def reachable(user: Any, roles: frozenset[str]) -> Q | None:
    """Hazards ``user`` reaches through a grant of one of ``roles`` (``None``: none).

    The same shape as ``visible_to`` but limited to the roles a rule allows, so
    the inbox counts what the user may act on with one indexed query.
    """
    condition = Q()
    matched = False
    for grant in scope_of(user).grants:
        if grant.role not in roles:
            continue
        if grant.role == Role.PARTY:
            condition |= Q(place__party__user_id=user.pk)
        elif grant.area_path is None:
            continue
        elif grant.role == Role.DEPT_INSPECTOR:
            condition |= Q(area__path__startswith=grant.area_path,
                           place_kind__in=sorted(grant.place_kinds))
        else:
            condition |= Q(area__path__startswith=grant.area_path)
        matched = True
    return condition if matched else None


def available_actions(hazard: Hazard, user: Any,
                      pending: ExtensionRequest | None = None) -> list[HazardAction]:
    """The buttons to show: what the rules allow, less what the service would refuse now."""
    paused = hazard.clock_paused_since is not None
    result = []
    for action in services.allowed_actions(hazard, user):
        if action in (A.APPROVE_EXTENSION, A.REFUSE_EXTENSION):
            if not paused or (pending is not None and pending.requested_by_id == user.pk):
                continue
        elif action in (A.REQUEST_EXTENSION, A.SUBMIT_RECTIFICATION):
            if paused:
                continue
        elif action in (A.VERIFY_PASS, A.VERIFY_FAIL):
            if hazard.rectification_submitted_by_id == user.pk:
                continue
        elif action in (A.LOOK_BACK_PASS, A.LOOK_BACK_FAIL):
            if hazard.closed_by_id == user.pk:
                continue
        elif action == A.DECIDE_MAJOR:
            if hazard.severity != Severity.GENERAL:
                continue
        elif action == A.REJECT_MAJOR:
            if not hazard.major_candidate:
                continue
        elif action == A.DELIST_SUPERVISION and hazard.supervision_level == SupervisionLevel.NONE:
            continue
        result.append(action)
    return result


# ---------------------------------------------------------------- the inbox


@dataclass
class InboxSection:
    key: str
    title: str
    count: int
    items: list[Any]
    more_url: str | None = None
    empty: str = ""


def _section(key: str, title: str, queryset: QuerySet[Any], order: list[str],
             more_url: str | None = None) -> InboxSection:
    return InboxSection(key=key, title=title, count=queryset.count(),
                        items=list(queryset.order_by(*order)[:INBOX_SIZE]), more_url=more_url)


def inbox_sections(user: Any) -> list[InboxSection]:
    """What waits for ``user``: each section a count and its first items, a query or two each."""
    roles = scope_of(user).roles()
    visible = cast(HazardQuerySet, Hazard.objects.visible_to(user)).select_related(
        "place", "area"
    )
    hazards_url = reverse("hazards:list")
    sections: list[InboxSection] = []
    town_or_above = reachable(user, TOWN_OR_ABOVE)

    verifiers = reachable(user, transition_for(A.VERIFY_PASS).roles)
    if verifiers is not None:
        to_verify = visible.filter(verifiers, state=S.PENDING_VERIFICATION).exclude(
            rectification_submitted_by=user
        )
        # A major hazard is verified at town level or above.
        if town_or_above is None:
            to_verify = to_verify.exclude(severity=Severity.MAJOR)
        else:
            to_verify = to_verify.filter(~Q(severity=Severity.MAJOR) | town_or_above)
        sections.append(_section("verify", _("To verify"), to_verify, ["registered_at", "id"],
                                 f"{hazards_url}?state={S.PENDING_VERIFICATION}"))

    deciders = reachable(user, transition_for(A.APPROVE_EXTENSION).roles)
    if deciders is not None:
        requests = (
            ExtensionRequest.objects.filter(
                status=ExtensionStatus.PENDING,
                hazard__in=Hazard.objects.visible_to(user).filter(deciders,
                                                                  state=S.RECTIFYING),
            )
            .exclude(requested_by=user)
            .select_related("hazard__place", "hazard__area", "requested_by")
        )
        sections.append(_section("extensions", _("Extension requests"), requests,
                                 ["requested_at", "id"]))

    if town_or_above is not None:
        look_back = visible.filter(town_or_above, state=S.CLOSED, look_back_count=0).exclude(
            closed_by=user
        )
        sections.append(_section("look_back", _("To look back"), look_back,
                                 ["closed_at", "id"], f"{hazards_url}?state={S.CLOSED}"))
        candidates = visible.open().filter(town_or_above, major_candidate=True)
        sections.append(_section("candidates", _("Candidate major hazards to decide"),
                                 candidates, ["registered_at", "id"]))

    if roles & set(OFFICIAL_ROLES):
        sections.append(_section("overdue", _("Overdue in my area"),
                                 visible.overdue(), ["deadline", "id"],
                                 f"{hazards_url}?overdue=true"))

    rectifiers = reachable(user, frozenset({Role.PARTY}))
    if rectifiers is not None:
        to_rectify = visible.filter(rectifiers, state=S.RECTIFYING)
        sections.append(_section("rectify", _("To rectify"), to_rectify, ["deadline", "id"],
                                 f"{hazards_url}?state={S.RECTIFYING}"))

    if roles & set(OFFICIAL_ROLES):
        # What the campaign's draws assigned to this person: shown only when there is some.
        from bihuan.campaigns.services import assigned_work

        work = assigned_work(user)
        lists = (
            ("cross", _("Cross-inspections assigned to my team"), work.cross_places,
             ["town__path", "place_id"]),
            ("my_look_backs", _("Look-backs assigned to me"), work.look_backs, ["tier", "id"]),
            ("my_duty_checks", _("Duty checks assigned to me"), work.duty_checks,
             ["grid__path", "id"]),
        )
        # Most days nobody has any: one query asks whether any list has something.
        present = (
            get_user_model()._default_manager.filter(pk=user.pk)
            .annotate(**{key: Exists(queryset) for key, _title, queryset, _order in lists})
            .values(*(key for key, *_rest in lists)).first()
        ) or {}
        for key, title, queryset, order in lists:
            if present.get(key):
                sections.append(_section(key, title, queryset, order))
    return sections


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The official's start page: what waits for them, counted."""
    sections = inbox_sections(request.user)
    return render(request, "hazards/inbox.html", {
        "sections": sections,
        "today": clock.today(),
        "triage_url": url_if_exists("reports:triage"),
        "nothing": not any(s.count for s in sections),
    })


# ---------------------------------------------------------------- the list


def hazard_export_columns() -> list[exports.Column]:
    today = clock.today()
    return [
        exports.Column(_("Number"), lambda h: h.number),
        exports.Column(_("Place"), lambda h: h.place.name),
        exports.Column(_("Address"), lambda h: h.place.address),
        exports.Column(_("Area"), lambda h: h.area.name),
        exports.Column(_("Place kind"), lambda h: _label(PlaceKind, h.place_kind)),
        exports.Column(_("Hazard code"), lambda h: h.code),
        exports.Column(_("Description"), lambda h: h.description),
        exports.Column(_("Rectification requirement"), lambda h: h.requirement),
        exports.Column(_("Severity"), lambda h: h.get_severity_display()),
        exports.Column(_("State"), lambda h: h.get_state_display()),
        exports.Column(_("Deadline"), lambda h: h.deadline),
        exports.Column(_("Overdue"), lambda h: _("Yes") if h.is_overdue(today) else ""),
        exports.Column(_("Supervision"), lambda h: h.get_supervision_level_display()),
        exports.Column(_("Registered at"), lambda h: h.registered_at),
        exports.Column(_("Closed at"), lambda h: h.closed_at),
    ]


@login_required
@require_GET
def hazard_list(request: HttpRequest) -> HttpResponseBase:
    data = request.GET.copy()
    data.pop("cursor", None)
    data.pop("format", None)
    queryset = Hazard.objects.visible_to(request.user).select_related("place", "area")
    filterset = HazardListFilterSet(data or None, queryset=queryset, user=request.user)
    fmt = exports.requested_format(request)
    if fmt is not None:
        # The file holds exactly what the list shows: same scope, same filters, all pages.
        return exports.export_response(
            request, queryset=filterset.qs.order_by("-registered_at", "-id"),
            columns=hazard_export_columns(), list_name="hazards", filename="hazards", fmt=fmt,
        )
    page = keyset_page(filterset.qs, ("-registered_at", "-id"), request.GET.get("cursor"),
                       PAGE_SIZE)
    today = clock.today()
    rows = [(hazard, hazard.is_overdue(today)) for hazard in page.items]
    return render(request, "hazards/list.html", {
        "filterset": filterset,
        "form": filterset.form,
        "rows": rows,
        "next_url": page.link(data, page.next_cursor),
        "previous_url": page.link(data, page.previous_cursor),
        "filtered": any(value for values in data.lists() for value in values[1]),
        "export_urls": export_links(data),
    })


def export_links(data: Any) -> list[tuple[str, str]]:
    """(label, URL) of the current list as a file: same filters, every page."""
    links = []
    for fmt, label in (("xlsx", _("Export to Excel")), ("csv", _("Export to CSV"))):
        query = data.copy()
        query["format"] = fmt
        links.append((label, f"?{query.urlencode()}"))
    return links


# ---------------------------------------------------------------- one hazard


def visible_hazard(request: HttpRequest, pk: int) -> Hazard:
    queryset = Hazard.objects.visible_to(request.user).select_related(
        "place__party", "area", "campaign", "checklist_item", "reported_by", "closed_by",
    )
    try:
        return queryset.get(pk=pk)
    except Hazard.DoesNotExist:
        raise Http404 from None


DATE_KEYS = ("old_deadline", "deadline", "requested_deadline")
EVENT_DATA_LABELS = {
    "old_deadline": gettext_lazy("Previous deadline"),
    "deadline": gettext_lazy("Deadline"),
    "requested_deadline": gettext_lazy("Requested deadline"),
    "code": gettext_lazy("Hazard code"),
    "severity": gettext_lazy("Severity"),
    "major_candidate": gettext_lazy("Candidate major hazard"),
    "decision": gettext_lazy("Decision"),
    "participants": gettext_lazy("Participants"),
    "level": gettext_lazy("Supervision level"),
    "document_number": gettext_lazy("Document number"),
    "department": gettext_lazy("Enforcing department"),
    "recurrence": gettext_lazy("Recurrence"),
}


def _label(choices: Any, value: Any) -> Any:
    try:
        return choices(value).label
    except ValueError:
        return value


def event_details(data: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The readable part of an event's data: deadlines, decisions, documents."""
    details: list[tuple[Any, Any]] = []
    for key, label in EVENT_DATA_LABELS.items():
        value = data.get(key)
        if value in (None, "", [], False):
            continue
        if key == "old_deadline" and value == data.get("deadline"):
            continue  # nothing moved (or recorded after the move): say it once
        if key in DATE_KEYS:
            try:
                value = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                continue
        elif key == "severity":
            value = _label(Severity, value)
        elif key == "level":
            value = _label(SupervisionLevel, value)
        elif key == "decision":
            # "decision" is an extension's outcome; a major decision stores its row id.
            if not isinstance(value, str):
                continue
            value = _label(ExtensionStatus, value)
        elif key == "participants":
            value = ", ".join(str(name) for name in value)
        elif key == "major_candidate":
            value = _("yes")
        details.append((label, value))
    return details


@dataclass
class TimelineEntry:
    event: HazardEvent
    actor: str
    role: Any
    from_state: Any
    to_state: Any
    details: list[tuple[Any, Any]]
    photos: list[Evidence] = field(default_factory=list)


def timeline(hazard: Hazard, viewer_is_official: bool) -> tuple[list[TimelineEntry],
                                                                 list[Evidence]]:
    events = list(hazard.events.select_related("actor").order_by("seq"))
    photos: dict[int | None, list[Evidence]] = defaultdict(list)
    for item in hazard.evidence.order_by("uploaded_at", "id"):
        photos[item.event_id].append(item)
    entries = []
    for event in events:
        actor = str(event.actor)
        # A citizen who reported a hazard is not named to the party it concerns.
        if event.actor_role == Role.CITIZEN and not viewer_is_official:
            actor = _("A citizen")
        entries.append(TimelineEntry(
            event=event, actor=actor, role=_label(Role, event.actor_role),
            from_state=_label(HazardState, event.from_state) if event.from_state else "",
            to_state=_label(HazardState, event.to_state),
            details=event_details(event.data or {}),
            photos=photos.get(event.pk, []),
        ))
    return entries, photos.get(None, [])


PRIMARY_ACTIONS = frozenset({A.CONFIRM, A.SUBMIT_RECTIFICATION, A.VERIFY_PASS,
                             A.APPROVE_EXTENSION, A.LOOK_BACK_PASS, A.ENFORCEMENT_RESULT})


@login_required
@require_GET
def hazard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hazard = visible_hazard(request, pk)
    is_official = bool(scope_of(request.user).roles() & set(OFFICIAL_ROLES))
    entries, loose_photos = timeline(hazard, is_official)
    extensions = list(hazard.extensions.select_related("requested_by", "decided_by"))
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    actions = [
        {"action": action, "title": ACTION_TITLES[action],
         "url": reverse("hazards:transition", args=[hazard.pk, action.value]),
         "primary": action in PRIMARY_ACTIONS}
        for action in available_actions(hazard, request.user, pending)
    ]
    # What moves the hazard on comes first; the rules' order otherwise.
    actions.sort(key=lambda a: not a["primary"])
    return render(request, "hazards/detail.html", {
        "hazard": hazard,
        "overdue": hazard.is_overdue(),
        "entries": entries,
        "loose_photos": loose_photos,
        "extensions": extensions,
        "pending_extension": pending,
        "supervisions": list(hazard.supervisions.select_related("listed_by", "delisted_by")),
        "decisions": list(hazard.major_decisions.select_related("recorded_by")),
        "actions": actions,
        "is_official": is_official,
        "place_url": url_if_exists("places:detail", hazard.place_id),
    })


@login_required
def transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """GET: the form the action needs (a fragment for htmx). POST: the service, then back."""
    try:
        act = HazardAction(action)
        form_class = TRANSITION_FORMS[act]
    except (ValueError, KeyError):
        raise Http404 from None
    hazard = visible_hazard(request, pk)
    detail_url = reverse("hazards:detail", args=[hazard.pk])
    conflict = False
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, hazard=hazard)
        if form.is_valid():
            try:
                form.apply(request.user, client_ip(request))
            except DomainError as error:
                add_domain_error(form, error)
                conflict = isinstance(error, Conflict)
            else:
                messages.success(request, _("Done: %(action)s.") % {"action": act.label})
                return redirect(detail_url)
    else:
        pending = hazard.extensions.filter(status=ExtensionStatus.PENDING).first()
        if act not in available_actions(hazard, request.user, pending):
            messages.error(request, _("This action is not possible for you now."))
            return redirect(detail_url)
        form = form_class(hazard=hazard)
    partial = request.headers.get("HX-Request") == "true" and request.method == "GET"
    template = "hazards/_transition_form.html" if partial else "hazards/transition.html"
    return render(request, template, {
        "hazard": hazard, "form": form, "action": act, "detail_url": detail_url,
        "conflict": conflict,
    })


@login_required
@require_GET
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """A photo, streamed only if its hazard is visible to the user; 404 otherwise."""
    try:
        item = Evidence.objects.get(pk=pk, hazard__in=Hazard.objects.visible_to(request.user))
    except Evidence.DoesNotExist:
        raise Http404 from None
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Disposition"] = f'inline; filename="evidence-{item.pk}"'
    return response
