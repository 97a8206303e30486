"""Forms of the party's portal and of the officials' link page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.checklists.models import ChecklistItem
from bihuan.core import clock
from bihuan.hazards.services import MAX_EVIDENCE_BYTES
from bihuan.portal.models import default_token_days
from bihuan.portal.services import MAX_TOKEN_DAYS

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"


class DateInput(forms.DateInput):
    input_type = "date"


class EvidenceForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo after the fix"),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        help_text=_("Take it where the hazard was, so the officials can compare."),
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_photo(self) -> Any:
        upload = self.cleaned_data["photo"]
        if upload.size > MAX_EVIDENCE_BYTES:
            raise forms.ValidationError(
                _("A photo may be at most %(mb)d MB.") % {"mb": MAX_EVIDENCE_BYTES // 2**20}
            )
        return upload


class ExtensionForm(forms.Form):
    requested_deadline = forms.DateField(label=_("New deadline you ask for"),
                                         widget=DateInput)
    reason = forms.CharField(label=_("Why do you need more time?"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["requested_deadline"].widget.attrs["min"] = clock.today().isoformat()


class SelfCheckForm(forms.Form):
    """One "problem here" box and an optional note per checklist item."""

    def __init__(self, *args: Any, items: Iterable[ChecklistItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"fail_{item.code}"] = forms.BooleanField(required=False)
            self.fields[f"note_{item.code}"] = forms.CharField(
                required=False, max_length=300,
                widget=forms.TextInput(attrs={"placeholder": _("What did you find?")}),
            )

    def failed(self) -> list[tuple[ChecklistItem, str]]:
        return [
            (item, (self.cleaned_data.get(f"note_{item.code}") or "").strip())
            for item in self.items
            if self.cleaned_data.get(f"fail_{item.code}")
        ]


class IssueTokenForm(forms.Form):
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1,
                              max_value=MAX_TOKEN_DAYS, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = default_token_days()
