"""Forms of the public report page and of triage. They only collect; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.areas.models import Area
from bihuan.places.models import Place
from bihuan.reports import services

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"


class PhotoField(forms.FileField):
    """An optional photo; the size is checked before the bytes are read."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload and upload.size > services.MAX_PHOTO_BYTES:
            raise forms.ValidationError(
                _("A photo may be at most %(mb)d MB.")
                % {"mb": services.MAX_PHOTO_BYTES // 2**20}
            )
        return upload


class TownChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Area) -> str:
        return obj.name


class ReportForm(forms.Form):
    description = forms.CharField(
        label=_("What is wrong?"), max_length=services.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: e-bikes charging in the stairwell, a locked fire exit."),
    )
    photo = PhotoField(label=_("Photo"), required=False,
                       help_text=_("A photo helps the officials find and judge the hazard."))
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=9,
                                  decimal_places=6)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput, max_digits=10,
                                   decimal_places=6)
    town = TownChoiceField(
        label=_("Town or subdistrict"), queryset=Area.objects.none(), required=False,
        empty_label=_("— choose —"),
        help_text=_("Needed only when you do not share your location."),
    )
    place_description = forms.CharField(
        label=_("Where exactly?"), max_length=300, required=False,
        help_text=_("Street, building, shop name or landmark."),
    )
    contact = forms.CharField(
        label=_("Your phone (optional)"), max_length=100, required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("Only the officials handling your report see it; it is never shown "
                    "publicly."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        town_field = self.fields["town"]
        assert isinstance(town_field, forms.ModelChoiceField)
        town_field.queryset = Area.objects.filter(
            pk__in=[a.pk for a in services.town_choices()]
        ).order_by("code")


class FollowForm(forms.Form):
    ticket = forms.CharField(label=_("Ticket"), max_length=20,
                             widget=forms.TextInput(attrs={"autocapitalize": "characters",
                                                           "placeholder": "YK-XXXXXXXX"}))


class PlaceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Place) -> str:
        return f"{obj.name} · {obj.area} · {obj.address}"


class AcceptForm(forms.Form):
    place = PlaceChoiceField(label=_("Place"), queryset=Place.objects.none(),
                             empty_label=_("— choose the place —"))
    item_code = forms.CharField(label=_("Hazard code (optional)"), max_length=20,
                                required=False,
                                help_text=_("The checklist code, e.g. RH-05, if you know it."))
    description = forms.CharField(label=_("Description of the hazard"), max_length=500,
                                  required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, places: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        place_field = self.fields["place"]
        assert isinstance(place_field, forms.ModelChoiceField)
        place_field.queryset = Place.objects.filter(pk__in=[p.pk for p in places])
        # Keep the service's order (nearest first) in the select.
        self.place_order = [p.pk for p in places]
        place_field.choices = [("", str(place_field.empty_label))] + [
            (p.pk, place_field.label_from_instance(p)) for p in places
        ]


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Reason (the reporter reads it)"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DuplicateForm(forms.Form):
    of = forms.IntegerField(required=False, widget=forms.HiddenInput)
    of_ticket = forms.CharField(label=_("Ticket of the earlier report"), max_length=20,
                                required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("of") and not (data.get("of_ticket") or "").strip():
            raise forms.ValidationError(_("Choose the earlier report or give its ticket."))
        return data
