"""The responsible party's portal (主体责任人门户) and the officials' link page.

A party reaches the portal in one of two ways:

- by a link ``/portal/t/<token>/``: the party's id and the token's id go into the
  session (a *party session*, separate from a user login: ``request.user`` stays
  anonymous), which expires with the token and is re-checked on every request, so
  a revoked link closes the portal at once;
- by logging in as a user with a ``party`` membership linked as ``Party.user``.

Every query of the portal is built from the party id (its places, their hazards),
so whatever is not the party's is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bihuan.accounts.choices import Role
from bihuan.accounts.models import User
from bihuan.accounts.scopes import scope_of
from bihuan.checklists.choices import ChecklistDomain
from bihuan.checklists.models import Checklist, ChecklistItem
from bihuan.core import clock
from bihuan.core.errors import DomainError, NotFound, ValidationFailed
from bihuan.core.forms import add_domain_error
from bihuan.hazards import services as hazard_services
from bihuan.hazards.choices import (
    OPEN_STATES,
    EvidenceKind,
    ExtensionStatus,
    HazardAction,
    HazardState,
)
from bihuan.hazards.models import Evidence, Hazard
from bihuan.inspections import services as inspection_services
from bihuan.inspections.choices import InspectionKind, ItemOutcome
from bihuan.notifications.models import Notification
from bihuan.places.models import Party, Place
from bihuan.portal import services
from bihuan.portal.forms import EvidenceForm, ExtensionForm, IssueTokenForm, SelfCheckForm
from bihuan.portal.models import PortalToken

SESSION_PARTY = "portal.party"
SESSION_LINK = "portal.link"


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@dataclass(frozen=True)
class PortalAccess:
    party: Party
    # The user the services record as acting (see ``portal.services``).
    actor: User
    via_link: bool


def _forget_link(request: HttpRequest) -> None:
    request.session.pop(SESSION_PARTY, None)
    request.session.pop(SESSION_LINK, None)


def portal_access(request: HttpRequest) -> PortalAccess | None:
    token_id = request.session.get(SESSION_LINK)
    if token_id is not None:
        token = PortalToken.objects.select_related("party__user").filter(pk=token_id).first()
        if (
            token is not None
            and token.is_valid()
            and token.party_id == request.session.get(SESSION_PARTY)
            and token.party.user is not None
        ):
            return PortalAccess(token.party, token.party.user, True)
        # Revoked or expired since: the party session ends now.
        _forget_link(request)
    user = request.user
    if user.is_authenticated and Role.PARTY in scope_of(user).roles():
        party = Party.objects.filter(user=user).first()
        if party is not None:
            assert isinstance(user, User)
            return PortalAccess(party, user, False)
    return None


View = Callable[..., HttpResponse]


def party_view(view: View) -> View:
    """The view runs for a party only: anonymous visitors are asked to log in, anyone
    else gets a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        access = portal_access(request)
        if access is None:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise Http404
        response = view(request, access, *args, **kwargs)
        # Addresses and hazards of one party: never cached by a shared proxy.
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def _place_or_404(access: PortalAccess, pk: int) -> Place:
    place = services.party_places(access.party).filter(pk=pk).first()
    if place is None:
        raise Http404
    return place


def _hazard_or_404(access: PortalAccess, pk: int) -> Hazard:
    hazard = services.party_hazards(access.party).filter(pk=pk).first()
    if hazard is None:
        raise Http404
    return hazard


def _english() -> bool:
    return (get_language() or "").startswith("en")


def item_text(item: ChecklistItem | None, name: str = "text") -> str:
    if item is None:
        return ""
    english = getattr(item, f"{name}_en", "") if _english() else ""
    return english or getattr(item, name)


def _hazard_rows(hazards: Any) -> list[dict[str, Any]]:
    today = clock.today()
    return [
        {"hazard": h, "overdue": h.is_overdue(today), "paused": h.clock_paused_since is not None,
         # The checklist's wording in the reader's language when the hazard kept it.
        "text": item_text(h.checklist_item)
        if h.checklist_item is not None and h.description == h.checklist_item.text
        else h.description}
        for h in hazards
    ]


def _common(access: PortalAccess, **extra: Any) -> dict[str, Any]:
    return {"party": access.party, "via_link": access.via_link, **extra}


# ---------------------------------------------------------------- entering and leaving


@require_GET
def enter(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.enter_portal(raw_token=token, client_ip=client_ip(request))
    except NotFound:
        raise Http404 from None
    # A new session key for the new privilege (no session fixation).
    request.session.cycle_key()
    request.session[SESSION_PARTY] = link.party_id
    request.session[SESSION_LINK] = link.pk
    # The party session ends when the link does (relative seconds: the session store
    # counts from the real clock).
    remaining = (link.expires_at - clock.now()).total_seconds()
    request.session.set_expiry(max(60, int(remaining)))
    response = redirect("portal:home")
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
def leave(request: HttpRequest) -> HttpResponse:
    _forget_link(request)
    return render(request, "portal/left.html")


# ---------------------------------------------------------------- the party's pages


@party_view
def home(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    places = list(services.party_places(access.party).order_by("name", "id"))
    hazards = services.party_hazards(access.party)
    open_hazards = hazards.filter(state__in=sorted(OPEN_STATES)).order_by("deadline", "id")
    counts: dict[int, int] = {}
    for h in open_hazards:
        counts[h.place_id] = counts.get(h.place_id, 0) + 1
    notices = (
        Notification.objects.filter(user=access.actor, hazard__place__party=access.party)
        .select_related("hazard")[:10]
    )
    return render(request, "portal/home.html", _common(
        access, places=[(p, counts.get(p.pk, 0)) for p in places],
        hazards=_hazard_rows(open_hazards), notices=[
            (n, HazardAction(n.verb).label if n.verb in HazardAction.values else n.verb)
            for n in notices
        ],
    ))


@party_view
def place(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    place_obj = _place_or_404(access, pk)
    hazards = services.party_hazards(access.party).filter(place=place_obj)
    open_rows = _hazard_rows(hazards.filter(state__in=sorted(OPEN_STATES))
                             .order_by("deadline", "id"))
    done_rows = _hazard_rows(hazards.exclude(state__in=sorted(OPEN_STATES))
                             .order_by("-registered_at")[:20])
    return render(request, "portal/place.html", _common(
        access, place=place_obj, open_rows=open_rows, done_rows=done_rows,
        checklist=_checklist_for(place_obj),
    ))


@party_view
def hazard(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    hazard_obj = _hazard_or_404(access, pk)
    events = hazard_obj.events.order_by("seq")
    evidence = hazard_obj.evidence.order_by("uploaded_at", "id")
    pending = hazard_obj.extensions.filter(status=ExtensionStatus.PENDING).first()
    rectifying = hazard_obj.state == HazardState.RECTIFYING
    return render(request, "portal/hazard.html", _common(
        access, hazard=hazard_obj, row=_hazard_rows([hazard_obj])[0], events=events,
        evidence=evidence, pending=pending,
        can_rectify=rectifying and pending is None, can_extend=rectifying and pending is None,
        requirement=hazard_obj.requirement or item_text(hazard_obj.checklist_item,
                                                        "requirement"),
        legal_basis=item_text(hazard_obj.checklist_item, "legal_basis"),
    ))


def _read_photo(upload: Any) -> hazard_services.EvidenceFile:
    from bihuan.core import images

    content = upload.read()
    try:
        info = images.validate_image(content, max_bytes=hazard_services.MAX_EVIDENCE_BYTES)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field="photo") from error
    return hazard_services.EvidenceFile(
        content=content, kind=EvidenceKind.AFTER, name=getattr(upload, "name", "photo.jpg"),
        taken_at=info.taken_at,
        latitude=float(info.latitude) if info.latitude is not None else None,
        longitude=float(info.longitude) if info.longitude is not None else None,
    )


@party_view
@require_http_methods(["GET", "POST"])
def rectify(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    hazard_obj = _hazard_or_404(access, pk)
    form = EvidenceForm(request.POST or None, request.FILES or None,
                        initial={"version": hazard_obj.version})
    if request.method == "POST" and form.is_valid():
        try:
            photo = _read_photo(form.cleaned_data["photo"])
            hazard_services.submit_rectification(
                hazard_obj, actor=access.actor, evidence=[photo],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data.get("version"),
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Thank you. The officials will check the fix."))
            return redirect("portal:hazard", hazard_obj.pk)
    return render(request, "portal/rectify.html", _common(
        access, hazard=hazard_obj, row=_hazard_rows([hazard_obj])[0], form=form,
        requirement=hazard_obj.requirement or item_text(hazard_obj.checklist_item,
                                                        "requirement"),
    ))


@party_view
@require_http_methods(["GET", "POST"])
def extension(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    hazard_obj = _hazard_or_404(access, pk)
    form = ExtensionForm(request.POST or None, initial={"version": hazard_obj.version})
    if request.method == "POST" and form.is_valid():
        try:
            hazard_services.request_extension(
                hazard_obj, actor=access.actor, reason=form.cleaned_data["reason"],
                requested_deadline=form.cleaned_data["requested_deadline"],
                expected_version=form.cleaned_data.get("version"),
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your request was sent. The deadline is paused until "
                                        "an official decides."))
            return redirect("portal:hazard", hazard_obj.pk)
    return render(request, "portal/extension.html", _common(
        access, hazard=hazard_obj, row=_hazard_rows([hazard_obj])[0], form=form,
    ))


def _checklist_for(place_obj: Place) -> Checklist | None:
    checklists = Checklist.objects.active().filter(domain=ChecklistDomain.FIRE)
    return checklists.for_place_kind(place_obj.kind).order_by("-version").first()


def _client_key(value: str | None) -> uuid.UUID | None:
    """The form's idempotency key (a retried submission finds the first one)."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@party_view
@require_http_methods(["GET", "POST"])
def self_check(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    place_obj = _place_or_404(access, pk)
    checklist = _checklist_for(place_obj)
    if checklist is None:
        raise Http404
    items = list(checklist.items.order_by("order"))
    form = SelfCheckForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        failed = form.failed()
        failed_codes = {item.code for item, _note in failed}
        results = {item.code: ItemOutcome.FAIL if item.code in failed_codes
                   else ItemOutcome.PASS for item in items}
        findings = [inspection_services.Finding(item_code=item.code, description=note)
                    for item, note in failed]
        try:
            inspection_services.submit_inspection(
                actor=access.actor, place=place_obj, kind=InspectionKind.SELF_CHECK,
                checklist=checklist, results=results, findings=findings,
                client_key=_client_key(request.POST.get("client_key")),
                client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if findings:
                messages.success(request, _("Self-check recorded: %(n)d problem(s) reported to "
                                            "the officials.") % {"n": len(findings)})
            else:
                messages.success(request, _("Self-check recorded: no problem found."))
            return redirect("portal:place", place_obj.pk)
    rows: list[dict[str, Any]] = []
    category = None
    for item in items:
        label = item_text(item, "category")
        rows.append({"item": item, "text": item_text(item),
                     "category": label if label != category else None,
                     "fail": form[f"fail_{item.code}"], "note": form[f"note_{item.code}"]})
        category = label
    return render(request, "portal/self_check.html", _common(
        access, place=place_obj, checklist=checklist, form=form, rows=rows,
        client_key=_client_key(request.POST.get("client_key")) or uuid.uuid4(),
    ))


@party_view
@require_GET
def notice(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    """The rectification notice of a place (整改通知): what must be fixed, by when, why."""
    place_obj = _place_or_404(access, pk)
    hazards = (
        services.party_hazards(access.party).filter(place=place_obj)
        .filter(state__in=[HazardState.RECTIFYING, HazardState.PENDING_VERIFICATION,
                           HazardState.ENFORCEMENT])
        .select_related("checklist_item", "inspection").order_by("deadline", "id")
    )
    rows = [
        {**row, "requirement": row["hazard"].requirement
         or item_text(row["hazard"].checklist_item, "requirement"),
         "legal_basis": item_text(row["hazard"].checklist_item, "legal_basis")}
        for row in _hazard_rows(hazards)
    ]
    return render(request, "portal/notice.html", _common(
        access, place=place_obj, rows=rows, today=clock.today(),
    ))


@party_view
@require_GET
def photo(request: HttpRequest, access: PortalAccess, pk: int) -> HttpResponse:
    """A photo of one of the party's hazards, without its EXIF metadata (no location)."""
    from bihuan.core import images
    from bihuan.reports.views import image_response

    item = Evidence.objects.filter(pk=pk, hazard__place__party=access.party).first()
    if item is None:
        raise Http404
    with item.file.open("rb") as handle:
        content = handle.read()
    try:
        return image_response(images.public_copy(content))
    except DomainError:
        raise Http404 from None


# ---------------------------------------------------------------- officials: the links


@login_required
@require_http_methods(["GET", "POST"])
def party_links(request: HttpRequest, pk: int) -> HttpResponse:
    """An official issues or revokes the portal links of a party in scope."""
    try:
        party = services.party_for_official(request.user, pk)
    except DomainError:
        raise Http404 from None
    form = IssueTokenForm(request.POST if request.POST.get("action") == "issue" else None)
    issued: str | None = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "issue" and form.is_valid():
                _token, raw = services.issue_token(actor=request.user, party=party,
                                                   days=form.cleaned_data.get("days"),
                                                   client_ip=client_ip(request))
                issued = request.build_absolute_uri(reverse("portal:enter", args=[raw]))
            elif request.POST.get("action") == "revoke":
                services.revoke_token(actor=request.user, token=int(request.POST["token"]),
                                      client_ip=client_ip(request))
                messages.success(request, _("The link was revoked."))
                return redirect("portal:party_links", party.pk)
        except (DomainError, KeyError, ValueError) as error:
            if isinstance(error, DomainError):
                add_domain_error(form, error)
            else:
                raise Http404 from None
    tokens = PortalToken.objects.filter(party=party).select_related("created_by")
    response = render(request, "portal/links.html", {
        "party": party, "form": form, "issued": issued, "tokens": tokens, "now": clock.now(),
        "places": services.party_places(party),
    })
    if issued:
        response["Cache-Control"] = "private, no-store"
    return response
