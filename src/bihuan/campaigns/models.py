"""Campaigns (攻坚行动) and what runs inside one.

A campaign is named, time-boxed and scoped (an area subtree, place kinds,
checklists), with targets per metric. Beside the problem list (its hazards) it
holds the task list (任务清单) and the responsibility list (责任清单), and the
random draws that keep the work honest: cross-inspection (交叉互查), look-back
(回头看) and duty spot checks (抽查履职). Every row here is written by
``bihuan.campaigns.services``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.campaigns.choices import (
    CampaignStatus,
    CheckResult,
    DrawKind,
    DrawStatus,
    Duty,
    DutyResult,
    Metric,
    TaskStatus,
)
from bihuan.core import clock
from bihuan.places.choices import PlaceKind


def _roots(user: Any) -> list[str]:
    """The area paths under which ``user`` sees anything (area roles and departments)."""
    from bihuan.accounts.scopes import scope_of

    scope = scope_of(user)
    return scope.area_paths + [path for path, _kinds in scope.kind_grants]


def _ancestor_paths(path: str) -> list[str]:
    """``a/b/c/`` → ``a/``, ``a/b/``, ``a/b/c/``: the path and every ancestor's."""
    codes = [c for c in path.split("/") if c]
    return ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]


def area_reach(user: Any, lookup: str) -> Q | None:
    """Objects whose area (``lookup`` names its path) is inside the user's scope or
    contains it: a town officer sees the city campaign, and the campaign's rows in
    the town, but not another town's. ``None``: nothing visible."""
    roots = _roots(user)
    if not roots:
        return None
    condition = Q()
    ancestors: set[str] = set()
    for root in roots:
        condition |= Q(**{f"{lookup}__startswith": root})
        ancestors.update(_ancestor_paths(root))
    return condition | Q(**{f"{lookup}__in": sorted(ancestors)})


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: Any) -> CampaignQuerySet:
        # One SQL filter: the campaign's area is in the user's subtree or above it.
        condition = area_reach(user, "area__path")
        if condition is None:
            return self.none()
        return self.filter(condition)

    def running(self, day: Any = None) -> CampaignQuerySet:
        day = day or clock.today()
        return self.filter(starts_on__lte=day, ends_on__gte=day)

    def in_status(self, status: str, day: Any = None) -> CampaignQuerySet:
        """The campaigns whose :meth:`Campaign.status_on` ``day`` (today) is ``status``."""
        day = day or clock.today()
        if status == CampaignStatus.ENDED:
            return self.filter(ends_on__lt=day)
        if status == CampaignStatus.NOT_STARTED:
            return self.filter(starts_on__gt=day)
        return self.running(day)


class Campaign(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, verbose_name=_("area"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    place_kinds = models.JSONField(_("place kinds"), default=list, blank=True)
    checklists = models.ManyToManyField("checklists.Checklist", blank=True,
                                        related_name="campaigns", verbose_name=_("checklists"))
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name

    def status_on(self, day: Any = None) -> CampaignStatus:
        """Not started, running or ended on ``day`` (today)."""
        day = day or clock.today()
        if self.ends_on < day:
            return CampaignStatus.ENDED
        if self.starts_on > day:
            return CampaignStatus.NOT_STARTED
        return CampaignStatus.RUNNING

    @property
    def status(self) -> CampaignStatus:
        return self.status_on()

    def get_place_kinds_display(self) -> list[str]:
        return [str(PlaceKind(k).label) for k in self.place_kinds if k in PlaceKind.values]

    def covers(self, area_path: str, place_kind: str) -> bool:
        return area_path.startswith(self.area.path) and (
            not self.place_kinds or place_kind in self.place_kinds
        )


class Target(models.Model):
    """One target of a campaign: e.g. coverage ≥ 95 %, open major hazards ≤ 0."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets",
                                 verbose_name=_("campaign"))
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    value = models.DecimalField(_("target value"), max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["campaign", "metric"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "metric"], name="target_once_per_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.value}"


class TaskQuerySet(models.QuerySet["Task"]):
    def visible_to(self, user: Any) -> TaskQuerySet:
        reach = area_reach(user, "area__path")
        if reach is None:
            return self.none()
        return self.filter(campaign__in=Campaign.objects.visible_to(user)).filter(
            Q(area__isnull=True) | reach
        )

    def overdue(self, day: Any = None) -> TaskQuerySet:
        """Derived, never stored: open past its due date."""
        return self.filter(status=TaskStatus.OPEN, due_on__lt=day or clock.today())


class Task(models.Model):
    """任务清单: a piece of work owned by a department or an area, with a due date."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="tasks",
                                 verbose_name=_("campaign"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, null=True,
                                 blank=True, verbose_name=_("department"))
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, null=True, blank=True,
                             verbose_name=_("area"))
    place_kind = models.CharField(_("place kind"), max_length=30, blank=True,
                                  choices=PlaceKind.choices)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices,
                              default=TaskStatus.OPEN)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return self.title

    def is_overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < clock.today()

    @property
    def owner(self) -> str:
        return " · ".join(str(x) for x in (self.org_unit, self.area) if x is not None)


class TaskReport(models.Model):
    """A progress report on a task, with its evidence."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reports",
                             verbose_name=_("task"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("reported by"))
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"))

    class Meta:
        ordering = ["task", "at", "id"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")

    def __str__(self) -> str:
        return f"{self.task_id} {self.progress}%"


def task_evidence_path(instance: TaskEvidence, filename: str) -> str:
    return f"task-evidence/{clock.today():%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class TaskEvidence(models.Model):
    report = models.ForeignKey(TaskReport, on_delete=models.PROTECT, related_name="evidence",
                               verbose_name=_("progress report"))
    file = models.FileField(_("file"), upload_to=task_evidence_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content_type = models.CharField(_("content type"), max_length=50)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.sha256[:12]


class ResponsibilityQuerySet(models.QuerySet["Responsibility"]):
    def visible_to(self, user: Any) -> ResponsibilityQuerySet:
        reach = area_reach(user, "area__path")
        if reach is None:
            return self.none()
        return self.filter(campaign__in=Campaign.objects.visible_to(user)).filter(reach)


class Responsibility(models.Model):
    """责任清单: who answers for which area, place kind and duty."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT,
                                 related_name="responsibilities", verbose_name=_("campaign"))
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, verbose_name=_("area"))
    place_kind = models.CharField(_("place kind"), max_length=30, blank=True,
                                  choices=PlaceKind.choices)
    duty = models.CharField(_("duty"), max_length=20, choices=Duty.choices)
    person_name = models.CharField(_("responsible person"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+", verbose_name=_("login"))
    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, null=True,
                                 blank=True, verbose_name=_("department"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))

    objects = ResponsibilityQuerySet.as_manager()

    class Meta:
        ordering = ["area__path", "duty", "id"]
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")

    def __str__(self) -> str:
        return f"{self.person_name} · {self.get_duty_display()}"


class DrawQuerySet(models.QuerySet["Draw"]):
    def visible_to(self, user: Any) -> DrawQuerySet:
        reach = area_reach(user, "area__path")
        if reach is None:
            return self.none()
        return self.filter(campaign__in=Campaign.objects.visible_to(user)).filter(reach)


class Draw(models.Model):
    """One random draw (cross-inspection, look-back or duty spot check).

    The seed, the parameters and a snapshot of the inputs (with their hash) are
    recorded when the draw is announced, before anyone sees a result; the result
    is a pure function of them, so anyone can re-run it (``services.verify_draw``).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="draws",
                                 verbose_name=_("campaign"))
    kind = models.CharField(_("kind"), max_length=12, choices=DrawKind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, verbose_name=_("area"))
    status = models.CharField(_("status"), max_length=12, choices=DrawStatus.choices,
                              default=DrawStatus.ANNOUNCED)
    # The seed someone published (e.g. a lottery result), plus the system's nonce
    # drawn at announcement: nobody can try seeds in advance to steer the draw.
    public_seed = models.CharField(_("published seed"), max_length=100, blank=True)
    nonce = models.CharField(_("system nonce"), max_length=32)
    seed = models.CharField(_("seed"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict)
    inputs = models.JSONField(_("inputs"), default=dict)
    inputs_hash = models.CharField(_("hash of the inputs"), max_length=64)
    result_hash = models.CharField(_("hash of the result"), max_length=64, blank=True)
    announced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("announced by"))
    announced_at = models.DateTimeField(_("announced at"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("drawn by"))
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)

    objects = DrawQuerySet.as_manager()

    class Meta:
        ordering = ["-announced_at", "-id"]
        verbose_name = _("draw")
        verbose_name_plural = _("draws")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class CrossPairing(models.Model):
    """Which team inspects which town in a cross-inspection draw (never its own)."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="pairings",
                             verbose_name=_("draw"))
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, verbose_name=_("team"))
    town = models.ForeignKey("areas.Area", on_delete=models.PROTECT, verbose_name=_("town"))

    class Meta:
        ordering = ["draw", "town__path"]
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            models.UniqueConstraint(fields=["draw", "town"], name="pairing_once_per_town"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} → {self.town_id}"


class CrossAssignment(models.Model):
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="assignments",
                             verbose_name=_("draw"))
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, verbose_name=_("team"))
    town = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("town"))
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, verbose_name=_("place"))
    place_kind = models.CharField(_("place kind"), max_length=30)
    recently_clean = models.BooleanField(_("recently passed as clean"), default=False)

    class Meta:
        ordering = ["draw", "town__path", "place_kind", "place_id"]
        verbose_name = _("cross-inspection assignment")
        verbose_name_plural = _("cross-inspection assignments")
        constraints = [
            models.UniqueConstraint(fields=["draw", "place"], name="assignment_once_per_place"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} → {self.place_id}"


class LookBackItem(models.Model):
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="look_backs",
                             verbose_name=_("draw"))
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.PROTECT,
                               related_name="look_back_items", verbose_name=_("hazard"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("assigned to"))
    tier = models.PositiveSmallIntegerField(_("risk tier"))
    result = models.CharField(_("result"), max_length=10, choices=CheckResult.choices,
                              default=CheckResult.PENDING)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["draw", "tier", "id"]
        verbose_name = _("look-back")
        verbose_name_plural = _("look-backs")
        constraints = [
            models.UniqueConstraint(fields=["draw", "hazard"], name="look_back_once_per_hazard"),
        ]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.result}"


class DutyCheckItem(models.Model):
    """One recorded inspection of a drawn grid, to be confirmed or refuted on site."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="duty_checks",
                             verbose_name=_("draw"))
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    inspection = models.ForeignKey("inspections.Inspection", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("inspection"))
    checker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("checker"))
    result = models.CharField(_("result"), max_length=10, choices=DutyResult.choices,
                              default=DutyResult.PENDING)
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["draw", "grid__path", "id"]
        verbose_name = _("duty check")
        verbose_name_plural = _("duty checks")
        constraints = [
            models.UniqueConstraint(fields=["draw", "inspection"], name="duty_check_once"),
        ]

    def __str__(self) -> str:
        return f"{self.inspection_id} {self.result}"


class DutyFindingQuerySet(models.QuerySet["DutyFinding"]):
    def visible_to(self, user: Any) -> DutyFindingQuerySet:
        reach = area_reach(user, "grid__path")
        if reach is None:
            return self.none()
        return self.filter(duty_check__draw__campaign__in=Campaign.objects.visible_to(user)).filter(
            reach
        )


class DutyFinding(models.Model):
    """A recorded inspection the spot check refuted: a finding against the grid's officials."""

    duty_check = models.OneToOneField(DutyCheckItem, on_delete=models.PROTECT,
                                 related_name="finding", verbose_name=_("duty check"))
    grid = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    officials = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="duty_findings",
                                       verbose_name=_("officials"))
    description = models.TextField(_("description"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = DutyFindingQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("duty finding")
        verbose_name_plural = _("duty findings")

    def __str__(self) -> str:
        return f"{self.grid} {self.recorded_at:%Y-%m-%d}"
