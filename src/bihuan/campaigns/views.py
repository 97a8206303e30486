"""Campaign pages: the campaign and its targets, the three lists, the draws.

Every lookup goes through ``visible_to(request.user)`` (out of scope is a 404,
like a missing object); every change goes through ``bihuan.campaigns.services``
and a refusal is shown on the form with nothing written.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.models import Team
from bihuan.accounts.scopes import scope_of
from bihuan.campaigns import forms as f
from bihuan.campaigns import progress, services
from bihuan.campaigns.choices import DrawKind, DrawStatus, Duty
from bihuan.campaigns.exports import csv_response
from bihuan.campaigns.filters import ResponsibilityFilterSet, TaskFilterSet
from bihuan.campaigns.models import (
    Campaign,
    Draw,
    DutyCheckItem,
    DutyFinding,
    LookBackItem,
    Responsibility,
    Task,
    TaskEvidence,
)
from bihuan.core import clock
from bihuan.core.errors import DomainError
from bihuan.core.forms import add_domain_error
from bihuan.core.views import get_visible_or_404


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _official(request: HttpRequest) -> None:
    if not scope_of(request.user).roles() & set(OFFICIAL_ROLES):
        raise Http404


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    _official(request)
    campaign: Campaign = get_visible_or_404(Campaign, request.user, pk=pk)
    return campaign


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


# ---------------------------------------------------------------- campaigns


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    _official(request)
    campaigns = Campaign.objects.visible_to(request.user).select_related("area")
    return render(request, "campaigns/list.html", {
        "campaigns": campaigns,
        "can_create": bool(f.area_choices(request.user, None, ["city", "town"],
                                          manageable=True)),
    })


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    _official(request)
    form = f.CampaignForm(request.POST or None, user=request.user)
    if not f.choices_of(form, "area").choices:
        raise Http404
    if request.method == "POST" and form.is_valid():
        try:
            campaign = form.apply(_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Campaign created."))
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {
        "form": form, "title": _("New campaign"), "back": reverse("campaigns:list"),
    })


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    manager = services.can_manage(request.user, campaign.area)
    target_form = f.TargetForm(request.POST or None)
    if request.method == "POST":
        if not manager:
            raise Http404
        if target_form.is_valid():
            try:
                services.set_target(actor=request.user, campaign=campaign,
                                    metric=target_form.cleaned_data["metric"],
                                    value=target_form.cleaned_data["value"],
                                    client_ip=_ip(request))
            except DomainError as error:
                add_domain_error(target_form, error)
            else:
                messages.success(request, _("Target saved."))
                return redirect("campaigns:detail", campaign.pk)
    targets = list(campaign.targets.all())
    forecasts = [(t, progress.forecast(t)) for t in targets]
    draws = list(Draw.objects.visible_to(request.user).filter(campaign=campaign)
                 .select_related("area", "announced_by"))
    today = clock.today()
    return render(request, "campaigns/detail.html", {
        "campaign": campaign,
        "forecasts": forecasts,
        "targets": targets,
        "by_area": progress.progress_by_area(campaign),
        # The dashboard's 漏检率 for the campaign, as of today (docs/dashboard.md).
        "missed_day": today,
        "missed_days": services.missed_detection_days(),
        "missed": services.missed_detection(campaign.area, campaign, today),
        "missed_by_area": services.missed_detection_by_area(campaign, today),
        "missed_by_team": services.missed_detection_by_team(campaign, today),
        "draws": draws,
        "manager": manager,
        "target_form": target_form,
        "task_count": Task.objects.visible_to(request.user).filter(campaign=campaign).count(),
        "overdue_count": Task.objects.visible_to(request.user).filter(campaign=campaign)
        .overdue().count(),
        "draw_kinds": DrawKind.choices,
    })


# ---------------------------------------------------------------- task list


@login_required
@require_GET
def task_list(request: HttpRequest, pk: int) -> HttpResponseBase:
    campaign = _campaign(request, pk)
    data = request.GET.copy()
    data.pop("format", None)
    queryset = (Task.objects.visible_to(request.user).filter(campaign=campaign)
                .select_related("org_unit", "area"))
    filterset = TaskFilterSet(data or None, queryset=queryset)
    tasks = list(filterset.qs)
    if _wants_csv(request):
        header = [_("Title"), _("Department"), _("Area"), _("Place kind"), _("Due on"),
                  _("Status"), _("Progress (%)"), _("Overdue")]
        rows = [[t.title, t.org_unit or "", t.area or "", t.get_place_kind_display(), t.due_on,
                 t.get_status_display(), t.progress, _("yes") if t.is_overdue() else ""]
                for t in tasks]
        return csv_response(f"tasks-{campaign.code}.csv", header, rows)
    return render(request, "campaigns/tasks.html", {
        "campaign": campaign, "tasks": tasks, "filterset": filterset,
        "manager": services.can_manage(request.user, campaign.area)
        or bool(f.area_choices(request.user, campaign.area, ["town", "village"],
                                manageable=True)),
        "csv_url": request.path + "?" + _with_csv(data),
    })


def _with_csv(data: Any) -> str:
    query = data.copy()
    query["format"] = "csv"
    return str(query.urlencode())


@login_required
def task_new(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    if not f.area_choices(request.user, campaign.area, ["city", "town", "village"],
                          manageable=True):
        raise Http404
    form = f.TaskForm(request.POST or None, user=request.user, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            task = services.create_task(
                actor=request.user, campaign=campaign, title=d["title"], due_on=d["due_on"],
                org_unit=d["org_unit"], area=d["area"], place_kind=d["place_kind"],
                description=d["description"], client_ip=_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Task created."))
            return redirect("campaigns:task", task.pk)
    return render(request, "campaigns/form.html", {
        "form": form, "title": _("New task"), "campaign": campaign,
        "back": reverse("campaigns:tasks", args=[campaign.pk]),
    })


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    task: Task = get_visible_or_404(Task, request.user, pk=pk)
    may_report = services.can_report(request.user, task) and task.status != "done"
    form = f.ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_report:
            raise Http404
        if form.is_valid():
            uploads = [services.EvidenceUpload(item.read(), item.name or "photo")
                       for item in request.FILES.getlist("evidence")]
            try:
                services.report_task_progress(
                    actor=request.user, task=task, note=form.cleaned_data["note"],
                    progress=form.cleaned_data["progress"], evidence=uploads,
                    client_ip=_ip(request))
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Progress reported."))
                return redirect("campaigns:task", task.pk)
    reports = task.reports.select_related("reported_by").prefetch_related("evidence")
    return render(request, "campaigns/task.html", {
        "task": task, "campaign": task.campaign, "reports": reports, "form": form,
        "may_report": may_report,
    })


@login_required
@require_GET
def task_evidence(request: HttpRequest, pk: int) -> FileResponse:
    _official(request)
    try:
        item = TaskEvidence.objects.get(
            pk=pk, report__task__in=Task.objects.visible_to(request.user))
    except TaskEvidence.DoesNotExist:
        raise Http404 from None
    return FileResponse(item.file.open("rb"), content_type=item.content_type)


# ---------------------------------------------------------------- responsibility list


@login_required
@require_GET
def responsibility_list(request: HttpRequest, pk: int) -> HttpResponseBase:
    campaign = _campaign(request, pk)
    data = request.GET.copy()
    data.pop("format", None)
    queryset = (Responsibility.objects.visible_to(request.user).filter(campaign=campaign)
                .select_related("area", "org_unit"))
    filterset = ResponsibilityFilterSet(data or None, queryset=queryset)
    rows = list(filterset.qs)
    if _wants_csv(request):
        header = [_("Area"), _("Place kind"), _("Duty"), _("Responsible person"),
                  _("Department")]
        return csv_response(
            f"responsibilities-{campaign.code}.csv", header,
            [[r.area, r.get_place_kind_display() or _("Every kind"), r.get_duty_display(),
              r.person_name, r.org_unit or ""] for r in rows])
    return render(request, "campaigns/responsibilities.html", {
        "campaign": campaign, "rows": rows, "filterset": filterset,
        "manager": bool(f.area_choices(request.user, campaign.area,
                                        ["city", "town", "village"], manageable=True)),
        "csv_url": request.path + "?" + _with_csv(data), "duties": Duty.choices,
    })


@login_required
def responsibility_new(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    form = f.ResponsibilityForm(request.POST or None, user=request.user, campaign=campaign)
    if not f.choices_of(form, "area").choices:
        raise Http404
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.add_responsibility(
                actor=request.user, campaign=campaign, area=d["area"], duty=d["duty"],
                person_name=d["person_name"], place_kind=d["place_kind"],
                org_unit=d["org_unit"], client_ip=_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Responsibility added."))
            return redirect("campaigns:responsibilities", campaign.pk)
    return render(request, "campaigns/form.html", {
        "form": form, "title": _("Add to the responsibility list"), "campaign": campaign,
        "back": reverse("campaigns:responsibilities", args=[campaign.pk]),
    })


# ---------------------------------------------------------------- problem list


PROBLEM_LIMIT = 500


@login_required
@require_GET
def problem_list(request: HttpRequest, pk: int) -> HttpResponseBase:
    """问题清单: the campaign's hazards (the full list and its filters are the hazard list)."""
    from bihuan.hazards.models import Hazard

    campaign = _campaign(request, pk)
    hazards = (Hazard.objects.visible_to(request.user).filter(campaign=campaign)
               .select_related("place", "area").order_by("-registered_at", "-id"))
    if _wants_csv(request):
        header = [_("Number"), _("Place"), _("Area"), _("Place kind"), _("Description"),
                  _("Severity"), _("State"), _("Deadline"), _("Overdue")]
        today = clock.today()
        return csv_response(
            f"problems-{campaign.code}.csv", header,
            ([h.number, h.place, h.area, h.place.get_kind_display(), h.description,
              h.get_severity_display(), h.get_state_display(), h.deadline or "",
              _("yes") if h.is_overdue(today) else ""] for h in hazards.iterator(2000)))
    rows = list(hazards[:PROBLEM_LIMIT])
    today = clock.today()
    return render(request, "campaigns/problems.html", {
        "campaign": campaign, "rows": [(h, h.is_overdue(today)) for h in rows],
        "total": hazards.count(), "limit": PROBLEM_LIMIT,
        "hazards_url": reverse("hazards:list") + f"?campaign={campaign.pk}",
    })


# ---------------------------------------------------------------- draws


@login_required
def draw_new(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    campaign = _campaign(request, pk)
    if kind not in f.DRAW_FORMS:
        raise Http404
    form_class: Any = f.DRAW_FORMS[kind]
    form = form_class(request.POST or None, user=request.user, campaign=campaign)
    if not services.can_manage(request.user, campaign.area) and not (
        "area" in form.fields and f.choices_of(form, "area").choices
    ):
        raise Http404
    if request.method == "POST" and form.is_valid():
        try:
            draw = form.announce(_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The seed is published. Nothing has been drawn yet."))
            return redirect("campaigns:draw", draw.pk)
    return render(request, "campaigns/form.html", {
        "form": form, "title": DrawKind(kind).label, "campaign": campaign,
        "back": reverse("campaigns:detail", args=[campaign.pk]),
        "submit": _("Publish the seed"),
    })


def _draw(request: HttpRequest, pk: int) -> Draw:
    _official(request)
    draw: Draw = get_visible_or_404(Draw, request.user, pk=pk)
    return draw


@login_required
def draw_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    draw = _draw(request, pk)
    context: dict[str, Any] = {
        "draw": draw, "campaign": draw.campaign,
        "manager": services.can_manage(request.user, draw.area),
        "verified": services.verify_draw(draw),
        "drawn": draw.status == DrawStatus.DRAWN,
    }
    if draw.kind == DrawKind.CROSS:
        teams, done = services.cross_progress(draw)
        assignments = list(draw.assignments.select_related("team", "town", "place__area"))
        if not context["manager"]:
            # Each one sees the assignments of its own team and those in its own area.
            from bihuan.places.models import Place

            visible = set(Place.objects.visible_to(request.user).filter(
                pk__in=[a.place_id for a in assignments]).values_list("pk", flat=True))
            mine = set(Team.objects.filter(members=request.user.pk).values_list("pk", flat=True))
            assignments = [a for a in assignments
                           if a.place_id in visible or a.team_id in mine]
        if _wants_csv(request):
            return csv_response(
                f"cross-{draw.pk}.csv",
                [_("Town"), _("Team"), _("Place"), _("Address"), _("Place kind"),
                 _("Recently passed as clean"), _("Inspected")],
                [[a.town, a.team, a.place, a.place.address, a.place.get_kind_display(),
                  _("yes") if a.recently_clean else "",
                  _("yes") if a.place_id in done else ""] for a in assignments])
        context.update(teams=teams, assignments=[(a, done.get(a.place_id))
                                                 for a in assignments],
                       pairings=list(draw.pairings.select_related("team", "town")))
    elif draw.kind == DrawKind.LOOK_BACK:
        items = list(draw.look_backs.select_related("hazard__place", "hazard__area",
                                                    "assignee"))
        if not context["manager"]:
            # As with the assignments: one's own items and the hazards one sees; a town
            # draw must not show a grid worker the other grids' hazards and places.
            from bihuan.hazards.models import Hazard

            seen = set(Hazard.objects.visible_to(request.user).filter(
                pk__in=[i.hazard_id for i in items]).values_list("pk", flat=True))
            items = [i for i in items if i.hazard_id in seen or i.assignee_id == request.user.pk]
        context["items"] = items
    else:
        checks = list(draw.duty_checks.select_related(
            "grid", "inspection__place", "inspection__inspector", "checker"))
        if not context["manager"]:
            from bihuan.inspections.models import Inspection

            seen = set(Inspection.objects.visible_to(request.user).filter(
                pk__in=[i.inspection_id for i in checks]).values_list("pk", flat=True))
            checks = [i for i in checks
                      if i.inspection_id in seen or i.checker_id == request.user.pk]
        context["items"] = checks
    return render(request, "campaigns/draw.html", context)


@login_required
@require_POST
def draw_perform(request: HttpRequest, pk: int) -> HttpResponse:
    draw = _draw(request, pk)
    try:
        services.perform_draw(draw, actor=request.user, client_ip=_ip(request))
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Drawn."))
    return redirect("campaigns:draw", draw.pk)


@login_required
def look_back_record(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    try:
        item = (LookBackItem.objects.filter(draw__in=Draw.objects.visible_to(request.user))
                .select_related("hazard__place", "draw").get(pk=pk, assignee_id=request.user.pk))
    except LookBackItem.DoesNotExist:
        raise Http404 from None
    form = f.LookBackResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.record_look_back(item, actor=request.user, passed=d["result"] == "pass",
                                      reason=d["reason"], deadline=d["deadline"],
                                      client_ip=_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Look-back recorded."))
            return redirect("campaigns:draw", item.draw_id)
    return render(request, "campaigns/form.html", {
        "form": form, "title": _("Look-back of %(number)s") % {"number": item.hazard.number},
        "back": reverse("campaigns:draw", args=[item.draw_id]), "subject": item.hazard,
        "subject_url": reverse("hazards:detail", args=[item.hazard_id]),
    })


@login_required
def duty_record(request: HttpRequest, pk: int) -> HttpResponse:
    _official(request)
    try:
        item = (DutyCheckItem.objects.filter(draw__in=Draw.objects.visible_to(request.user))
                .select_related("inspection__place", "draw").get(pk=pk, checker_id=request.user.pk))
    except DutyCheckItem.DoesNotExist:
        raise Http404 from None
    form = f.DutyResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.record_duty_check(item, actor=request.user,
                                       confirmed=d["result"] == "confirm", note=d["note"],
                                       client_ip=_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Duty check recorded."))
            return redirect("campaigns:draw", item.draw_id)
    return render(request, "campaigns/form.html", {
        "form": form, "title": _("Duty check"),
        "back": reverse("campaigns:draw", args=[item.draw_id]),
        "subject": item.inspection,
        "subject_url": reverse("inspections:notice", args=[item.inspection_id]),
    })


@login_required
@require_GET
def finding_list(request: HttpRequest, pk: int) -> HttpResponseBase:
    campaign = _campaign(request, pk)
    findings = list(
        DutyFinding.objects.visible_to(request.user)
        .filter(duty_check__draw__campaign=campaign)
        .select_related("grid", "recorded_by", "duty_check__inspection__place")
        .prefetch_related("officials")
    )
    if _wants_csv(request):
        return csv_response(
            f"duty-findings-{campaign.code}.csv",
            [_("Recorded at"), _("Grid"), _("Place"), _("Officials"), _("Description"),
             _("Recorded by")],
            [[x.recorded_at.date(), x.grid, x.duty_check.inspection.place,
              ", ".join(str(o) for o in x.officials.all()), x.description, x.recorded_by]
             for x in findings])
    return render(request, "campaigns/findings.html", {
        "campaign": campaign, "findings": findings,
        "csv_url": request.path + "?format=csv",
    })
