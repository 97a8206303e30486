"""Tenant pages: a rental place's tenants, registration, move-out, reveal, look-up.

Every page reaches a tenant through its place's scope (``visible_to``): out of
scope is a 404. Personal data is shown masked; the clear values appear only on
the answer to a reveal (a reason, a permission, an audit entry) and are never
cached by the browser. The ID number never travels in a URL: look-up is a POST.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from bihuan.core import clock
from bihuan.core.errors import DomainError, NotFound, PermissionDenied
from bihuan.core.forms import add_domain_error
from bihuan.places.models import Place
from bihuan.places.views import is_official
from bihuan.tenants import services
from bihuan.tenants.forms import LookupForm, MoveOutForm, RevealForm, TenantForm
from bihuan.tenants.models import Tenant

MOVED_OUT_SHOWN = 50


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _place(request: HttpRequest, place_pk: int) -> Place:
    try:
        place = services._visible_place(request.user, place_pk)
    except NotFound:
        raise Http404 from None
    if not services.takes_tenants(place):
        raise Http404
    return place


def _refuse(error: DomainError) -> None:
    """A service's refusal as the HTTP answer: 404 out of scope, 403 not allowed."""
    if isinstance(error, NotFound):
        raise Http404
    if isinstance(error, PermissionDenied):
        raise HttpForbidden(str(error.message))


@login_required
@require_http_methods(["GET"])
def place_tenants(request: HttpRequest, place_pk: int) -> HttpResponse:
    place = _place(request, place_pk)
    today = clock.today()
    tenants = Tenant.objects.visible_to(request.user).filter(place=place)
    current = list(Tenant.objects.living_on(today).visible_to(request.user)
                   .filter(place=place).order_by("room", "id"))
    moved_out = list(tenants.filter(moved_out_on__isnull=False)
                     .order_by("-moved_out_on", "-id")[:MOVED_OUT_SHOWN])
    rooms = services.occupancy(place, today)
    return render(request, "tenants/place.html", {
        "place": place,
        "current": current,
        "moved_out": moved_out,
        "rooms": rooms,
        "overcrowded": [r for r in rooms if r.overcrowded],
        "max_per_room": services.max_per_room(),
        "may_register": services.may_register(request.user, place),
        "may_reveal": services.may_reveal(request.user),
        "move_out_form": MoveOutForm(initial={"moved_out_on": today}),
        "retention_days": services.retention_days(),
        "is_official": is_official(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, place_pk: int) -> HttpResponse:
    place = _place(request, place_pk)
    if not services.may_register(request.user, place):
        raise HttpForbidden
    status = 200
    if request.method == "POST":
        form = TenantForm(request.POST)
        if form.is_valid():
            try:
                services.register_tenant(actor=request.user, place_pk=place.pk,
                                         client_ip=client_ip(request), **form.cleaned_data)
            except DomainError as error:
                _refuse(error)
                add_domain_error(form, error)
            else:
                messages.success(request, _("Tenant registered."))
                return redirect("tenants:place", place.pk)
        status = 400
    else:
        form = TenantForm()
    return render(request, "tenants/register.html", {"place": place, "form": form},
                  status=status)


@login_required
@require_POST
def move_out(request: HttpRequest, pk: int) -> HttpResponse:
    place_pk = (Tenant.objects.visible_to(request.user).filter(pk=pk)
                .values_list("place_id", flat=True).first())
    if place_pk is None:
        raise Http404
    form = MoveOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the move-out date."))
        return redirect("tenants:place", place_pk)
    try:
        services.record_move_out(actor=request.user, tenant_pk=pk,
                                 moved_out_on=form.cleaned_data["moved_out_on"],
                                 client_ip=client_ip(request))
    except DomainError as error:
        _refuse(error)
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Move-out recorded."))
    return redirect("tenants:place", place_pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reveal(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        tenant = services._visible_tenant(request.user, pk)
    except NotFound:
        raise Http404 from None
    if not services.may_reveal(request.user):
        raise HttpForbidden
    revealed = None
    status = 200
    if request.method == "POST":
        form = RevealForm(request.POST)
        if form.is_valid():
            try:
                revealed = services.reveal_tenant(actor=request.user, tenant_pk=tenant.pk,
                                                  reason=form.cleaned_data["reason"],
                                                  client_ip=client_ip(request))
            except DomainError as error:
                _refuse(error)
                add_domain_error(form, error)
        if revealed is None:
            status = 400
    else:
        form = RevealForm()
    return render(request, "tenants/reveal.html", {
        "tenant": tenant, "form": form, "revealed": revealed,
        "back_url": reverse("tenants:place", args=[tenant.place_id]),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """Exact look-up by ID number (keyed hash), within the user's scope; masked results."""
    results: list[Tenant] | None = None
    status = 200
    if request.method == "POST":
        form = LookupForm(request.POST)
        if form.is_valid():
            try:
                results = services.find_by_id_number(request.user,
                                                     form.cleaned_data["id_number"])
            except DomainError as error:
                add_domain_error(form, error)
        if results is None:
            status = 400
    else:
        form = LookupForm()
    context: dict[str, Any] = {"form": form, "results": results}
    return render(request, "tenants/lookup.html", context, status=status)
