"""Tenant forms. The services validate; the forms only collect.

The ID number is never sent back to the browser: a form shown again after an
error asks for it anew (``NoEchoInput``), so no page carries it in clear.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.core import clock


class NoEchoInput(forms.TextInput):
    """A text input that never renders its value (like a password field, but visible)."""

    def format_value(self, value: Any) -> str | None:
        return None


class DateInput(forms.DateInput):
    input_type = "date"


class TenantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"), max_length=32,
        widget=NoEchoInput(attrs={"autocomplete": "off", "inputmode": "text",
                                  "spellcheck": "false"}),
        help_text=_("18 characters, checked against the check digit."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel",
                                                          "autocomplete": "off"}))
    room = forms.CharField(label=_("Room"), max_length=20)
    moved_in_on = forms.DateField(label=_("Moved in on"), widget=DateInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("moved_in_on", clock.today())


class MoveOutForm(forms.Form):
    moved_out_on = forms.DateField(label=_("Moved out on"), widget=DateInput)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=200,
        help_text=_("Why you need the full ID number and phone. Recorded in the audit trail."),
    )


class LookupForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number"), max_length=32,
        widget=NoEchoInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
