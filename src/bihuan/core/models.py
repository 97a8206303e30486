from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """An administrator's override of the holiday calendar for one date.

    The holiday library knows the State Council's published years; for a year it
    does not know yet (or a local adjustment), an override says whether the date
    is a working day, including make-up working weekends (调休).
    """

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {'working' if self.is_working_day else 'rest'}"
