from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.imports.choices import DuplicateDecision, ImportKind
from bihuan.imports.headers import FIELDS, KIND_FIELDS, Header
from bihuan.places.choices import PlaceKind

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=_("Ledger (.xlsx or .csv)"))
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.none(),
        help_text=_("Rows without a town, village or grid column go here; no row may "
                    "leave it."))
    place_kind = forms.ChoiceField(
        label=_("Kind of place"), required=False,
        choices=[("", _("As the file says")), *PlaceKind.choices],
        help_text=_("For rows whose kind the file does not give."))
    default_decision = forms.ChoiceField(
        label=_("Possible duplicates"), choices=DuplicateDecision.choices,
        initial=DuplicateDecision.SKIP,
        help_text=_("What to do with a row that looks like an existing place or an "
                    "earlier row, unless you decide otherwise row by row."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["area"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Area.objects.visible_to(user).filter(
            level__in=[AreaLevel.CITY, AreaLevel.TOWN, AreaLevel.VILLAGE]).order_by("path")
        file_field = self.fields["file"]
        file_field.widget.attrs["accept"] = ".xlsx,.csv"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB."))
        return upload


class MappingForm(forms.Form):
    """One select per column of the sheet: which field it holds."""

    def __init__(self, *args: Any, header: Header, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("(ignore)")), *((name, FIELDS[name][0]) for name in KIND_FIELDS[kind])]
        for index, label in enumerate(header.labels):
            if not label and index not in header.mapping:
                continue
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=label or _("Column %(n)d") % {"n": index + 1}, choices=choices,
                required=False, initial=header.mapping.get(index, ""))

    def mapping(self) -> dict[int, str]:
        return {int(name.removeprefix("col_")): value
                for name, value in self.cleaned_data.items()}
