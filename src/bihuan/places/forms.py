"""The place search form: by name or address, by kind, or near a position."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.places.choices import PlaceKind


class PlaceSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or address"), required=False, max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                      "enterkeyhint": "search"}),
    )
    kind = forms.ChoiceField(label=_("Place kind"), required=False,
                             choices=[("", _("Any kind")), *PlaceKind.choices])
    # WGS-84, as the phone reports it (filled by the "Near me" button).
    lat = forms.FloatField(required=False, min_value=-90, max_value=90,
                           widget=forms.HiddenInput)
    lon = forms.FloatField(required=False, min_value=-180, max_value=180,
                           widget=forms.HiddenInput)

    def position(self) -> tuple[float, float] | None:
        if not self.is_valid():
            return None
        lat, lon = self.cleaned_data.get("lat"), self.cleaned_data.get("lon")
        if lat is None or lon is None:
            return None
        return lat, lon
