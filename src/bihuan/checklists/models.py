"""Versioned checklist templates.

A checklist is identified by ``code`` and ``version``; a published version is
never edited in a way that changes past inspections: a new version is a new
row with new items, and inspections point at the exact version they used.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from bihuan.checklists.choices import ChecklistDomain, ChecklistStatus, ItemSeverity


class DeadlineRule(models.Model):
    """A rectification deadline class (e.g. ``WD3`` = 3 working days)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=50)
    working_days = models.PositiveSmallIntegerField(_("working days"))

    class Meta:
        ordering = ["working_days"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")

    def __str__(self) -> str:
        return self.name


class ChecklistQuerySet(models.QuerySet["Checklist"]):
    def active(self) -> ChecklistQuerySet:
        return self.filter(status=ChecklistStatus.ACTIVE)

    def for_place_kind(self, kind: str) -> ChecklistQuerySet:
        # JSON containment is not portable to SQLite; the table is small.
        ids = [c.pk for c in self if kind in (c.place_kinds or [])]
        return self.filter(pk__in=ids)


class Checklist(models.Model):
    code = models.CharField(_("code"), max_length=20)
    version = models.PositiveIntegerField(_("version"))
    domain = models.CharField(_("domain"), max_length=20, choices=ChecklistDomain.choices)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    place_kinds = models.JSONField(_("place kinds"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=ChecklistStatus.choices,
                              default=ChecklistStatus.ACTIVE)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = ChecklistQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="checklist_code_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, related_name="items",
                                  verbose_name=_("checklist"))
    code = models.CharField(_("hazard code"), max_length=20)
    order = models.PositiveSmallIntegerField(_("order"))
    category = models.CharField(_("category"), max_length=50)
    category_en = models.CharField(_("English category"), max_length=80, blank=True)
    text = models.CharField(_("text"), max_length=300)
    text_en = models.CharField(_("English text"), max_length=300, blank=True)
    requirement = models.CharField(_("rectification requirement"), max_length=300)
    requirement_en = models.CharField(_("English requirement"), max_length=300, blank=True)
    severity = models.CharField(_("severity"), max_length=20, choices=ItemSeverity.choices)
    deadline_rule = models.ForeignKey(DeadlineRule, on_delete=models.PROTECT,
                                      verbose_name=_("deadline rule"))
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    legal_basis_en = models.CharField(_("English legal basis"), max_length=300, blank=True)

    class Meta:
        ordering = ["checklist", "order"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(fields=["checklist", "code"], name="item_code_per_checklist"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"
