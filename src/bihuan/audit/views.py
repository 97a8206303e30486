"""The audit trail, read by the audit administrator alone (三员分立): list, detail, export.

Anyone else gets 404: the pages do not admit they exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bihuan.accounts.choices import Role
from bihuan.accounts.scopes import scope_of
from bihuan.audit.models import AuditEntry
from bihuan.core import exports

PAGE_SIZE = 50


def is_audit_admin(user: Any) -> bool:
    return Role.AUDIT_ADMIN in scope_of(user).admin_roles


def _require_audit_admin(request: HttpRequest) -> None:
    if not is_audit_admin(request.user):
        raise Http404


def _day_start(value: str, *, end: bool = False) -> dt.datetime | None:
    day = parse_date(value or "")
    if day is None:
        return None
    if end:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered(request: HttpRequest) -> tuple[QuerySet[AuditEntry], dict[str, str]]:
    """Entries matching the list's filters (actor, stream/object, action, date range)."""
    params = {key: request.GET.get(key, "").strip()
              for key in ("actor", "stream", "action", "date_from", "date_to")}
    entries = AuditEntry.objects.all()
    if params["actor"]:
        entries = entries.filter(Q(actor__username__iexact=params["actor"])
                                 | Q(actor_repr__icontains=params["actor"]))
    if params["stream"]:
        entries = entries.filter(Q(stream=params["stream"])
                                 | Q(stream__startswith=params["stream"] + ":")
                                 | Q(object_id=params["stream"]))
    if params["action"]:
        entries = entries.filter(action__startswith=params["action"])
    start = _day_start(params["date_from"])
    if start is not None:
        entries = entries.filter(at__gte=start)
    end = _day_start(params["date_to"], end=True)
    if end is not None:
        entries = entries.filter(at__lt=end)
    return entries.order_by("-id"), params


@login_required
@require_GET
def entry_list(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    _require_audit_admin(request)
    entries, params = filtered(request)
    if exports.requested_format(request) == "csv":
        return exports.export_response(
            request, queryset=entries.select_related("actor"), columns=columns(),
            list_name="audit", filename="audit", fmt="csv")
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(id__lt=int(before))
    page = list(entries.select_related("actor")[:PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    if more:
        query["before"] = str(page[-1].pk)
    return render(request, "audit/list.html", {
        "entries": page, "params": params, "next_query": query.urlencode() if more else "",
        "export_query": _export_query(request),
    })


def _export_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("before", None)
    query["format"] = "csv"
    return query.urlencode()


@login_required
@require_GET
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_audit_admin(request)
    entry = get_object_or_404(AuditEntry.objects.select_related("actor"), pk=pk)
    return render(request, "audit/detail.html", {"entry": entry})


def columns() -> list[exports.Column]:
    """The exported columns (headers translated in the request's language)."""
    return [
        exports.Column(_("ID"), lambda e: e.pk),
        exports.Column(_("at"), lambda e: e.at),
        exports.Column(_("stream"), lambda e: e.stream),
        exports.Column(_("sequence"), lambda e: e.seq),
        exports.Column(_("actor"), lambda e: e.actor.username if e.actor else e.actor_repr),
        exports.Column(_("action"), lambda e: e.action),
        exports.Column(_("object type"), lambda e: e.object_type),
        exports.Column(_("object id"), lambda e: e.object_id),
        exports.Column(_("client address"), lambda e: e.client_ip or ""),
        exports.Column(_("data"), lambda e: e.data),
        exports.Column(_("hash"), lambda e: e.hash),
    ]
