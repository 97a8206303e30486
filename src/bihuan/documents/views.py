"""Downloads: the rectification notice, the listed-supervision notice, the briefing.

Every object is looked up through ``visible_to`` first: out of scope is a 404,
exactly like absent. Rendering writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bihuan.core.views import get_visible_or_404
from bihuan.documents import writers
from bihuan.documents.briefing import briefing_areas, build_briefing, default_campaign
from bihuan.documents.forms import BriefingForm
from bihuan.documents.notice import notice_for
from bihuan.documents.notice import notice_pdf as render_notice_pdf
from bihuan.documents.supervision import (
    supervision_notice,
    visible_supervisions,
)
from bihuan.documents.supervision import (
    supervision_pdf as render_supervision_pdf,
)
from bihuan.inspections.models import Inspection


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """整改通知书 as a PDF, for whoever may see the inspection (officials in scope and the
    place's responsible party)."""
    inspection: Inspection = get_visible_or_404(Inspection, request.user, pk=pk)
    notice = notice_for(inspection, base_url=request.build_absolute_uri("/"))
    return _download(render_notice_pdf(notice), writers.CONTENT_TYPES["pdf"], notice.filename)


@login_required
@require_GET
def supervision_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """挂牌督办 notice as a PDF, for officials who see the hazard and its responsible party."""
    supervision = visible_supervisions(request.user).filter(pk=pk).first()
    if supervision is None:
        raise Http404
    notice = supervision_notice(supervision)
    return _download(render_supervision_pdf(notice), writers.CONTENT_TYPES["pdf"],
                     notice.filename)


def _briefing_form(request: HttpRequest) -> BriefingForm:
    if not briefing_areas(request.user).exists():
        # Only area roles issue briefings: anyone else finds no such page.
        raise Http404
    return BriefingForm(request.GET or None, user=request.user)


@login_required
@require_GET
def briefing(request: HttpRequest) -> HttpResponse:
    """The office page: pick an area, a day and a period; download PDF, DOCX or XLSX."""
    form = _briefing_form(request)
    query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    context: dict[str, Any] = {"form": form, "query": query, "formats": writers.FORMATS}
    return render(request, "documents/briefing_form.html", context,
                  status=400 if form.is_bound and not form.is_valid() else 200)


@login_required
@require_GET
def briefing_download(request: HttpRequest, fmt: str) -> HttpResponse:
    form = _briefing_form(request)
    if fmt not in writers.FORMATS:
        raise Http404
    if not form.is_bound:
        # Nothing chosen yet (a bookmarked download link): the page to choose on.
        return redirect("documents:briefing")
    if not form.is_valid():
        context = {"form": form, "query": "", "formats": writers.FORMATS,
                   "error": _("The briefing could not be made: correct the fields below.")}
        return render(request, "documents/briefing_form.html", context, status=400)
    area, day = form.cleaned_data["area"], form.cleaned_data["date"]
    data = build_briefing(user=request.user, area=area, day=day,
                          period=form.cleaned_data["period"],
                          campaign=default_campaign(area, day), with_charts=fmt != "xlsx")
    return _download(writers.render(data, fmt), writers.CONTENT_TYPES[fmt], data.filename(fmt))
