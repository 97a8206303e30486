"""Open311 GeoReport v2 endpoints, JSON and XML as the specification has them.

Errors are the specification's list of ``{code, description}``. POST takes the
specification's form fields (``application/x-www-form-urlencoded``; ``multipart``
when a ``media`` photo is attached) and honours an ``Idempotency-Key`` header.
"""

from __future__ import annotations

import json

# Generating XML only (ElementTree is safe for that); tests parse it with defusedxml.
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from bihuan.core import idempotency
from bihuan.core.errors import DomainError
from bihuan.core.models import ApiToken
from bihuan.core.tokens import token_for_secret
from bihuan.open311 import services
from bihuan.reports.models import CitizenReport
from bihuan.reports.services import MAX_PHOTO_BYTES

CONTENT_TYPES = {"json": "application/json; charset=utf-8",
                 "xml": "application/xml; charset=utf-8"}


# ---------------------------------------------------------------- rendering


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    elif isinstance(value, list):
        for item in value:
            _xml_value(child, "value", item)
    else:
        child.text = str(value)


def render(fmt: str, root: str, item: str, rows: Iterable[dict[str, Any]],
           status: int = 200) -> HttpResponse:
    """A list of objects: a JSON array, or ``<root><item>…</item></root>``."""
    rows = list(rows)
    if fmt == "xml":
        top = ET.Element(root)
        for row in rows:
            element = ET.SubElement(top, item)
            for name, value in row.items():
                if name == "attributes":
                    _xml_attributes(element, value)
                else:
                    _xml_value(element, name, value)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
    else:
        body = json.dumps(rows, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def _xml_attributes(parent: ET.Element, attributes: list[dict[str, Any]]) -> None:
    container = ET.SubElement(parent, "attributes")
    for attribute in attributes:
        element = ET.SubElement(container, "attribute")
        for name, value in attribute.items():
            _xml_value(element, name, value)


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, "errors", "error", [{"code": status, "description": description}],
                  status=status)


def _fmt(value: str) -> str:
    return "xml" if value == "xml" else "json"


def _jurisdiction_error(request: HttpRequest, fmt: str) -> HttpResponse | None:
    wanted = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
              or "").strip()
    if wanted and wanted != settings.BIHUAN_OPEN311_JURISDICTION:
        return error(fmt, 404, _("jurisdiction_id provided was not found."))
    return None


# ---------------------------------------------------------------- discovery and services


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _fmt(fmt)
    base = request.build_absolute_uri("/open311/v2/")
    endpoint: dict[str, Any] = {"specification": "http://wiki.open311.org/GeoReport_v2",
                                "url": base,
                                "changeset": "2026-09-01T00:00:00+08:00", "type": "production",
                                "formats": ["application/json", "text/xml"]}
    if fmt == "xml":
        top = ET.Element("discovery")
        ET.SubElement(top, "changeset").text = endpoint["changeset"]
        ET.SubElement(top, "contact").text = ""
        endpoints = ET.SubElement(ET.SubElement(top, "endpoints"), "endpoint")
        for name in ("specification", "url", "changeset", "type"):
            ET.SubElement(endpoints, name).text = str(endpoint[name])
        formats = ET.SubElement(endpoints, "formats")
        for value in endpoint["formats"]:
            ET.SubElement(formats, "format").text = value
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
        return HttpResponse(body, content_type=CONTENT_TYPES["xml"])
    return HttpResponse(json.dumps({"changeset": endpoint["changeset"], "contact": "",
                                    "endpoints": [endpoint]}, ensure_ascii=False),
                        content_type=CONTENT_TYPES["json"])


def _service_row(service: services.Service) -> dict[str, Any]:
    return {"service_code": service.code, "service_name": str(service.name),
            "description": str(service.description), "metadata": False,
            "type": "batch", "keywords": service.keywords, "group": str(services.GROUP)}


@require_GET
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _fmt(fmt)
    refused = _jurisdiction_error(request, fmt)
    if refused is not None:
        return refused
    return render(fmt, "services", "service", [_service_row(s) for s in services.SERVICES])


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    fmt = _fmt(fmt)
    refused = _jurisdiction_error(request, fmt)
    if refused is not None:
        return refused
    service = services.service_by_code(code)
    if service is None:
        return error(fmt, 404, _("service_code provided was not found."))
    # No service asks for extra attributes (metadata is false): the definition is empty.
    if fmt == "xml":
        top = ET.Element("service_definition")
        ET.SubElement(top, "service_code").text = service.code
        ET.SubElement(top, "attributes")
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
        return HttpResponse(body, content_type=CONTENT_TYPES["xml"])
    return HttpResponse(json.dumps({"service_code": service.code, "attributes": []}),
                        content_type=CONTENT_TYPES["json"])


# ---------------------------------------------------------------- requests


def _api_token(request: HttpRequest) -> tuple[ApiToken | None, bool]:
    """(token, refused): an api_key sent must be a live API token."""
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if not key:
        return None, False
    token = token_for_secret(key)
    return token, token is None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def request_list(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _fmt(fmt)
    refused = _jurisdiction_error(request, fmt)
    if refused is not None:
        return refused
    token, bad_key = _api_token(request)
    if bad_key:
        return error(fmt, 403, _("Invalid api_key."))
    if request.method == "POST":
        return _post_request(request, fmt, token)
    if token is not None:
        # A system with a key sees the reports of its user's scope.
        queryset = CitizenReport.objects.visible_to(token.user)
    elif request.GET.get("service_request_id"):
        # The ticket is the reporter's key to the report: knowing it is enough.
        queryset = CitizenReport.objects.all()
    else:
        return error(fmt, 403, _("Listing requests needs an api_key; look one up by its "
                                 "service_request_id instead."))
    try:
        rows = services.filter_requests(queryset, request.GET)
    except DomainError as problem:
        return error(fmt, 400, str(problem.message))
    return render(fmt, "service_requests", "request",
                  [services.public_request(r, request) for r in rows])


def _post_request(request: HttpRequest, fmt: str, token: ApiToken | None) -> HttpResponse:
    if token is None and settings.BIHUAN_OPEN311_REQUIRE_API_KEY:
        return error(fmt, 400, _("api_key is required."))
    request.auth = token  # type: ignore[attr-defined]
    request.user = token.user if token is not None else request.user
    try:
        key = idempotency.key_from(request)
    except DomainError as problem:
        return error(fmt, 400, str(problem.message))
    with transaction.atomic():
        held = None
        if key is not None:
            try:
                held = idempotency.claim(request, key)
            except DomainError as problem:
                return error(fmt, problem.http_status, str(problem.message))
            if held.replay is not None:
                return held.replay
        response = _file(request, fmt, token)
        if held is not None:
            idempotency.store(held, response)
        return response


def _file(request: HttpRequest, fmt: str, token: ApiToken | None) -> HttpResponse:
    data = request.POST
    contact = " ".join(filter(None, [
        " ".join(filter(None, [data.get("last_name", "").strip(),
                               data.get("first_name", "").strip()])),
        data.get("phone", "").strip(), data.get("email", "").strip(),
    ]))
    media = request.FILES.get("media")
    if media is not None and media.size and media.size > MAX_PHOTO_BYTES:
        return error(fmt, 400, _("The photo is too large."))
    # An identified system is rate-limited as itself; a citizen by its address.
    client = f"token:{token.pk}" if token is not None else request.META.get("REMOTE_ADDR")
    try:
        with transaction.atomic():
            report = services.file_request(
                service_code=data.get("service_code", ""),
                description=data.get("description", ""), lat=data.get("lat"),
                long=data.get("long"), address_string=data.get("address_string", ""),
                contact=contact, media=media.read() if media is not None else None,
                client_ip=client,
            )
    except DomainError as problem:
        return error(fmt, 400, str(problem.message))
    return render(fmt, "service_requests", "request",
                  [{"service_request_id": report.ticket, "service_notice": "",
                    "account_id": None}],
                  status=201)


@require_GET
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    fmt = _fmt(fmt)
    refused = _jurisdiction_error(request, fmt)
    if refused is not None:
        return refused
    ticket = request_id.strip().upper()
    report = (CitizenReport.objects.select_related("hazard", "area", "duplicate_of__hazard")
              .filter(ticket=ticket).first())
    if report is None:
        return error(fmt, 404, _("service_request_id provided was not found."))
    return render(fmt, "service_requests", "request", [services.public_request(report, request)])
