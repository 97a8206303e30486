"""The public report form and status page, and the officials' triage.

Public pages never show the contact, the reporter's place description or a
private address; the photo they show is a copy without EXIF metadata.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.scopes import scope_of
from bihuan.areas.models import Area
from bihuan.core.errors import DomainError, NotFound
from bihuan.core.forms import add_domain_error
from bihuan.core.views import get_visible_or_404
from bihuan.reports import services
from bihuan.reports.choices import ReportStatus
from bihuan.reports.filters import CitizenReportFilterSet
from bihuan.reports.forms import AcceptForm, DismissForm, DuplicateForm, FollowForm, ReportForm
from bihuan.reports.geo import haversine_m
from bihuan.reports.models import CitizenReport

PAGE_SIZE = 50
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def image_response(content: bytes, *, private: bool = True) -> HttpResponse:
    content_type = next((t for sig, t in IMAGE_TYPES.items() if content.startswith(sig)),
                        "image/webp" if content[8:12] == b"WEBP" else "application/octet-stream")
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600" if private else "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _public(response: HttpResponse) -> HttpResponse:
    """A page addressed by its ticket: the ticket must not travel to another site in a
    Referer header nor end up in a search engine. (Not ``no-referrer``: with it a
    browser sends ``Origin: null`` and the form's CSRF origin check fails.)"""
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# ---------------------------------------------------------------- public


@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        photo = data["photo"].read() if data.get("photo") else None
        try:
            report = services.file_report(
                description=data["description"], photo=photo, latitude=data.get("latitude"),
                longitude=data.get("longitude"), place_description=data["place_description"],
                contact=data["contact"], town=data.get("town"), client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect(reverse("reports:status", args=[report.ticket]) + "?filed=1")
    return _public(render(request, "reports/new.html",
                          {"form": form, "follow_form": FollowForm()}))


@require_GET
def follow(request: HttpRequest) -> HttpResponse:
    form = FollowForm(request.GET or None)
    if form.is_valid():
        report = services.find_by_ticket(form.cleaned_data["ticket"])
        if report is not None:
            return redirect("reports:status", report.ticket)
        form.add_error("ticket", _("No report has this ticket. Check it and try again."))
    return _public(render(request, "reports/follow.html", {"follow_form": form}))


def _public_outcome(report: CitizenReport) -> dict[str, Any]:
    """What the public may know of a report's outcome: states and dates, no addresses."""
    shown = report
    if report.status == ReportStatus.DUPLICATE and report.duplicate_of is not None:
        shown = report.duplicate_of
    hazard = shown.hazard if shown.status == ReportStatus.ACCEPTED else None
    return {
        "shown": shown,
        "hazard": hazard,
        "hazard_state": hazard.get_state_display() if hazard else "",
        "hazard_closed": bool(hazard and hazard.closed_at),
        # The village or town only: the place itself may be a private home, and a grid
        # is finer than the public needs.
        "area_name": _village_or_town(hazard.area if hazard else shown.area).name,
    }


def _village_or_town(area: Area) -> Area:
    codes = [c for c in area.path.split("/") if c]
    if len(codes) <= 3:  # city, town or village
        return area
    return Area.objects.filter(code=codes[2]).first() or area


@require_GET
def status(request: HttpRequest, ticket: str) -> HttpResponse:
    report = services.find_by_ticket(ticket)
    if report is None:
        raise Http404
    context = {"report": report, "just_filed": request.GET.get("filed") == "1",
               **_public_outcome(report)}
    return _public(render(request, "reports/status.html", context))


@require_GET
def public_photo(request: HttpRequest, ticket: str) -> HttpResponse:
    from bihuan.core import images

    report = services.find_by_ticket(ticket)
    if report is None or not report.photo:
        raise Http404
    with report.photo.open("rb") as handle:
        content = handle.read()
    try:
        return _public(image_response(images.public_copy(content)))
    except DomainError:
        raise Http404 from None


# ---------------------------------------------------------------- triage (officials)


def _require_official(request: HttpRequest) -> None:
    if not scope_of(request.user).roles() & set(OFFICIAL_ROLES):
        raise Http404


@login_required
@require_GET
def triage(request: HttpRequest) -> HttpResponse:
    _require_official(request)
    queryset = (
        CitizenReport.objects.visible_to(request.user)
        .select_related("area", "hazard")
        .order_by("-created_at", "-id")
    )
    filterset = CitizenReportFilterSet(request.GET or None, queryset=queryset,
                                       request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reports/triage.html", {
        "filterset": filterset, "page": page, "query": query.urlencode(),
        # Department inspectors see reports only once accepted, as hazards.
        "sees_reports": bool(scope_of(request.user).area_paths),
    })


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_official(request)
    report: CitizenReport = get_visible_or_404(CitizenReport, request.user, pk=pk)
    places = services.place_choices(report, request.user) if report.is_new else []
    action = request.POST.get("action") if request.method == "POST" else None
    accept_form = AcceptForm(request.POST if action == "accept" else None, places=places,
                             initial={"description": report.description})
    dismiss_form = DismissForm(request.POST if action == "dismiss" else None)
    duplicate_form = DuplicateForm(request.POST if action == "duplicate" else None)
    if action == "accept" and accept_form.is_valid():
        data = accept_form.cleaned_data
        try:
            item = services.item_for_code(data["place"], data["item_code"])
            hazard = services.triage_accept(
                actor=request.user, report=report, place=data["place"], item=item,
                description=data["description"], client_ip=client_ip(request),
            )
        except DomainError as error:
            add_domain_error(accept_form, error)
        else:
            messages.success(request, _("Accepted: hazard %(number)s is waiting to be "
                                        "confirmed on site.") % {"number": hazard.number})
            return redirect("reports:detail", report.pk)
    elif action == "dismiss" and dismiss_form.is_valid():
        try:
            services.triage_dismiss(actor=request.user, report=report,
                                    reason=dismiss_form.cleaned_data["reason"],
                                    client_ip=client_ip(request))
        except DomainError as error:
            add_domain_error(dismiss_form, error)
        else:
            messages.success(request, _("The report was dismissed."))
            return redirect("reports:detail", report.pk)
    elif action == "duplicate" and duplicate_form.is_valid():
        data = duplicate_form.cleaned_data
        try:
            of: int | None = data.get("of")
            if not of:
                original = services.find_by_ticket(data["of_ticket"])
                visible = CitizenReport.objects.visible_to(request.user)
                if original is None or not visible.filter(pk=original.pk).exists():
                    raise NotFound(_("No report you can see has this ticket."),
                                            field="of_ticket")
                of = original.pk
            services.mark_duplicate(actor=request.user, report=report, of=of,
                                    client_ip=client_ip(request))
        except DomainError as error:
            add_domain_error(duplicate_form, error)
        else:
            messages.success(request, _("The report was marked as a duplicate."))
            return redirect("reports:detail", report.pk)
    candidates = services.nearby_open_reports(report, request.user) if report.is_new else []
    photo_offset = None
    if report.photo_latitude is not None and report.latitude is not None:
        assert report.photo_longitude is not None and report.longitude is not None
        photo_offset = round(haversine_m(report.latitude, report.longitude,
                                         report.photo_latitude, report.photo_longitude))
    return render(request, "reports/detail.html", {
        "report": report, "accept_form": accept_form, "dismiss_form": dismiss_form,
        "duplicate_form": duplicate_form, "candidates": candidates, "places": places,
        "photo_offset": photo_offset, "radius": int(services.DUPLICATE_RADIUS_M),
    })


@login_required
@require_GET
def triage_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """The photo as uploaded, for the officials who triage (its EXIF says where and when)."""
    _require_official(request)
    report: CitizenReport = get_visible_or_404(CitizenReport, request.user, pk=pk)
    if not report.photo:
        raise Http404
    with report.photo.open("rb") as handle:
        return image_response(handle.read())
