"""The office's briefing form: which area, which day, daily or weekly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.areas.choices import AreaLevel
from bihuan.core import clock
from bihuan.core.errors import DomainError
from bihuan.documents.briefing import Period, area_for, briefing_areas, parse_day


class BriefingForm(forms.Form):
    # A code checked by clean_area (not a ChoiceField): an unknown or out-of-scope code gets
    # the same clear message as on the command line.
    area = forms.CharField(label=_("Area"), max_length=32, widget=forms.Select)
    date = forms.CharField(label=_("Date"), max_length=10,
                           widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.ChoiceField(label=_("Period"), choices=Period.CHOICES, initial=Period.DAILY)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        areas = (briefing_areas(user)
                 .filter(level__in=[AreaLevel.CITY, AreaLevel.TOWN, AreaLevel.VILLAGE])
                 .order_by("path").only("code", "name", "level"))
        self.fields["area"].widget.choices = [
            (a.code, ("\u3000" if a.level == AreaLevel.VILLAGE else "") + a.name) for a in areas
        ]
        self.fields["date"].initial = clock.today().isoformat()

    def clean_area(self) -> Any:
        try:
            return area_for(self.user, self.cleaned_data.get("area"))
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None

    def clean_date(self) -> dt.date:
        try:
            return parse_day(self.cleaned_data.get("date"))
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None
