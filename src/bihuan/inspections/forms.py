"""Forms of the field flow: the checklist walk, the quick hazard and a new place.

The walk is one form: every item's result, every finding's requirement,
deadline and photos, the carried-forward hazards and the party's signature
travel together and are submitted once, at the end.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from bihuan.areas.models import Area
from bihuan.checklists.choices import ItemSeverity
from bihuan.checklists.models import ChecklistItem, DeadlineRule
from bihuan.core import clock, images
from bihuan.core.errors import DomainError
from bihuan.hazards.choices import EvidenceKind
from bihuan.hazards.models import Hazard
from bihuan.hazards.services import EvidenceFile, default_deadline
from bihuan.inspections.choices import FollowUpOutcome, ItemOutcome
from bihuan.inspections.services import MAX_SIGNATURE_BYTES, SIGNER_NAME_MAX, Finding
from bihuan.places.choices import PlaceKind


def localized(obj: Any, name: str) -> str:
    """A checklist text in the reader's language: ``<name>_en`` in English when there is one."""
    if (get_language() or "").startswith("en"):
        english = getattr(obj, f"{name}_en", "")
        if english:
            return str(english)
    return str(getattr(obj, name, ""))


@dataclass(frozen=True)
class Photo:
    """An uploaded photo that decoded as one, with what its EXIF says."""

    content: bytes
    name: str
    info: images.ImageInfo


class PhotoField(forms.FileField):
    """A photo, checked by decoding it (``core.images``), never by its name or type."""

    def clean(self, data: Any, initial: Any = None) -> Photo | None:
        upload = super().clean(data, initial)
        if not upload or not isinstance(upload, UploadedFile):
            return None
        limit = images.max_upload_bytes()
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("A photo may be at most %(mb)d MB.") % {"mb": max(1, limit // 2**20)}
            )
        content = upload.read()
        try:
            info = images.validate_image(content, max_bytes=limit)
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None
        return Photo(content=content, name=upload.name or "photo", info=info)


def _photo_widget() -> forms.FileInput:
    """The phone's camera, facing away from the user."""
    return forms.FileInput(attrs={"accept": "image/*", "capture": "environment"})


class _PositionMixin(forms.Form):
    """Where the phone was (filled by field.js from navigator.geolocation), WGS-84."""

    latitude = forms.FloatField(required=False, min_value=-90, max_value=90,
                                widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180,
                                 widget=forms.HiddenInput)

    def evidence(self, photo: Photo | None, kind: str) -> EvidenceFile | None:
        if photo is None:
            return None
        lat, lon = self.cleaned_data.get("latitude"), self.cleaned_data.get("longitude")
        if lat is None or lon is None:
            lat = lon = None
        return EvidenceFile(content=photo.content, kind=kind, name=photo.name,
                            latitude=round(lat, 6) if lat is not None else None,
                            longitude=round(lon, 6) if lon is not None else None)


# ---------------------------------------------------------------- the checklist walk


@dataclass
class ItemRow:
    """What the template needs to show one checklist item."""

    item: ChecklistItem
    text: str
    legal_basis: str
    fields: dict[str, forms.BoundField]
    can_fix_on_spot: bool

    @property
    def major_candidate(self) -> bool:
        return self.item.severity == ItemSeverity.MAJOR_CANDIDATE

    @property
    def on_the_spot(self) -> bool:
        return self.item.severity == ItemSeverity.ON_THE_SPOT

    @property
    def errors(self) -> list[str]:
        return [str(e) for bound in self.fields.values() for e in bound.errors]

    @property
    def deadline_value(self) -> str:
        value = self.fields["deadline"].value()
        return value.isoformat() if isinstance(value, dt.date) else str(value or "")

    @property
    def failed(self) -> bool:
        return bool(self.fields["outcome"].value() == ItemOutcome.FAIL)


@dataclass
class CategoryGroup:
    name: str
    rows: list[ItemRow] = field(default_factory=list)


@dataclass
class CarriedRow:
    hazard: Hazard
    outcome: forms.BoundField


# The fields of one checklist item, by the prefix of their names; a walk has seven for
# each item (about 170 for a rental house). Building a field is most of the form's
# cost, so each form copies these, as a form copies its declared fields.
_ITEM_FIELDS: dict[str, forms.Field] = {
    "r": forms.ChoiceField(choices=ItemOutcome.choices, initial=ItemOutcome.PASS,
                           required=False),
    "requirement": forms.CharField(
        label=gettext_lazy("Rectification requirement"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    ),
    "deadline": forms.DateField(
        label=gettext_lazy("Deadline"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    ),
    "detail": forms.CharField(
        label=gettext_lazy("Where exactly, what exactly (optional)"), required=False,
        max_length=200,
    ),
    "before": PhotoField(label=gettext_lazy("Photo"), required=False, widget=_photo_widget()),
    "spot": forms.BooleanField(label=gettext_lazy("Rectified on the spot"), required=False),
    "after": PhotoField(label=gettext_lazy("Photo after the fix"), required=False,
                        widget=_photo_widget()),
}
_CARRIED_FIELD = forms.ChoiceField(choices=FollowUpOutcome.choices,
                                   initial=FollowUpOutcome.NOT_CHECKED, required=False)


def _copy(field: forms.Field) -> forms.Field:
    """A copy of ``field`` as ``Field.__deepcopy__`` makes it for a form's declared
    fields (its own widget, widget attributes, messages and validators), without the
    generic deepcopy. The choices stay shared: no form changes them."""
    copied = copy.copy(field)
    copied.widget = copy.copy(field.widget)
    copied.widget.attrs = field.widget.attrs.copy()
    copied.error_messages = field.error_messages.copy()
    copied.validators = list(field.validators)
    return copied


class WalkForm(_PositionMixin):
    """One visit: a result per item (pass unless tapped), findings, carried hazards, signature."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    started_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    signature = forms.CharField(required=False, widget=forms.HiddenInput,
                                max_length=MAX_SIGNATURE_BYTES * 4 // 3 + 100)
    signed_by_name = forms.CharField(label=gettext_lazy("Signer's name"), required=False,
                                     max_length=SIGNER_NAME_MAX)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, items: list[ChecklistItem], carried: list[Hazard],
                 can_fix_on_spot: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        self.carried_hazards = carried
        self.can_fix_on_spot = can_fix_on_spot
        self._deadlines: dict[int | None, dt.date | None] = {}
        for item in items:
            self.fields[f"r-{item.code}"] = _copy(_ITEM_FIELDS["r"])
            # A submitted walk reads the finding of a failed item only (``clean``,
            # ``findings``): the six finding fields of every other item would be built
            # and cleaned for nothing, and they are most of the form's cost. A page
            # shown again with its errors gets them in ``groups``.
            if not self.is_bound or self._marked_failed(item):
                self._add_finding_fields(item)
        for hazard in carried:
            self.fields[f"c-{hazard.pk}"] = _copy(_CARRIED_FIELD)

    def _marked_failed(self, item: ChecklistItem) -> bool:
        # What the outcome field's widget reads (the last value of the name).
        return bool(self.data.get(f"r-{item.code}") == ItemOutcome.FAIL)

    def _add_finding_fields(self, item: ChecklistItem) -> None:
        code = item.code
        if f"requirement-{code}" in self.fields:
            return
        for key, template in _ITEM_FIELDS.items():
            if key != "r":
                self.fields[f"{key}-{code}"] = _copy(template)
        self.fields[f"requirement-{code}"].initial = item.requirement
        # Only a page being shown needs the proposed deadline: a submitted form
        # never reads it. Counting working days is not free, so it is counted when
        # asked for, once per rule.
        self.fields[f"deadline-{code}"].initial = partial(self._proposed_deadline,
                                                          item.deadline_rule)

    def _proposed_deadline(self, rule: DeadlineRule | None) -> dt.date | None:
        key = rule.pk if rule is not None else None
        if key not in self._deadlines:
            self._deadlines[key] = default_deadline(rule)
        return self._deadlines[key]

    # -- rendering

    def groups(self) -> list[CategoryGroup]:
        # Items of one category together, categories in the order they first appear.
        groups: dict[str, CategoryGroup] = {}
        for item in self.items:
            name = localized(item, "category")
            group = groups.setdefault(name, CategoryGroup(name))
            code = item.code
            # Shown again after an error: the items not marked failed get their
            # finding fields now, bound to what was sent (a finding may be on its way).
            self._add_finding_fields(item)
            fields = {
                key: self[f"{key}-{code}"]
                for key in ("requirement", "deadline", "detail", "before", "spot", "after")
            }
            fields["outcome"] = self[f"r-{code}"]
            group.rows.append(ItemRow(
                item=item, text=localized(item, "text"),
                legal_basis=localized(item, "legal_basis"), fields=fields,
                can_fix_on_spot=(self.can_fix_on_spot
                                 and item.severity != ItemSeverity.MAJOR_CANDIDATE),
            ))
        return list(groups.values())

    def carried_rows(self) -> list[CarriedRow]:
        return [CarriedRow(hazard=h, outcome=self[f"c-{h.pk}"]) for h in self.carried_hazards]

    # -- validation

    def clean_started_at(self) -> dt.datetime | None:
        started: dt.datetime | None = self.cleaned_data.get("started_at")
        now = clock.now()
        if started is None or started > now or now - started > dt.timedelta(hours=24):
            return None  # the service takes "now"; a visit is not a day long
        return started

    def clean_signature(self) -> bytes | None:
        value = (self.cleaned_data.get("signature") or "").strip()
        if not value:
            return None
        header, _sep, payload = value.partition(",")
        if not re.fullmatch(r"data:image/png;base64", header):
            raise forms.ValidationError(_("The signature could not be read. Sign again."))
        try:
            content = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(
                _("The signature could not be read. Sign again.")
            ) from None
        if len(content) > MAX_SIGNATURE_BYTES:
            raise forms.ValidationError(_("The signature could not be read. Sign again."))
        return content

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        today = clock.today()
        for item in self.items:
            code = item.code
            if data.get(f"r-{code}") != ItemOutcome.FAIL:
                continue
            spot = data.get(f"spot-{code}")
            if spot and not self.can_fix_on_spot:
                self.add_error(f"spot-{code}", _("You may not close a hazard on the spot."))
            if spot and data.get(f"after-{code}") is None and f"after-{code}" not in self.errors:
                self.add_error(f"after-{code}",
                               _("A hazard rectified on the spot needs a photo after the fix."))
            deadline = data.get(f"deadline-{code}")
            if not spot and deadline is not None and deadline < today:
                self.add_error(f"deadline-{code}",
                               _("The deadline must not be in the past."))
        return data

    # -- what the service needs

    def results(self) -> dict[str, str]:
        return {
            item.code: self.cleaned_data.get(f"r-{item.code}") or ItemOutcome.PASS
            for item in self.items
        }

    def findings(self) -> list[Finding]:
        found = []
        for item in self.items:
            code = item.code
            if self.cleaned_data.get(f"r-{code}") != ItemOutcome.FAIL:
                continue
            spot = bool(self.cleaned_data.get(f"spot-{code}"))
            evidence = [
                e for e in (
                    self.evidence(self.cleaned_data.get(f"before-{code}"), EvidenceKind.BEFORE),
                    self.evidence(self.cleaned_data.get(f"after-{code}"), EvidenceKind.AFTER)
                    if spot else None,
                ) if e is not None
            ]
            found.append(Finding(
                item_code=code,
                description=(self.cleaned_data.get(f"detail-{code}") or "").strip(),
                requirement=(self.cleaned_data.get(f"requirement-{code}") or "").strip(),
                deadline=None if spot else self.cleaned_data.get(f"deadline-{code}"),
                rectified_on_spot=spot,
                evidence=tuple(evidence),
            ))
        return found

    def carried_outcomes(self) -> dict[int, str]:
        return {
            h.pk: self.cleaned_data.get(f"c-{h.pk}") or FollowUpOutcome.NOT_CHECKED
            for h in self.carried_hazards
        }


# ---------------------------------------------------------------- the quick hazard


class QuickHazardForm(_PositionMixin):
    """The shortest path to a registered hazard: an item, one photo, submit."""

    client_key = forms.UUIDField(widget=forms.HiddenInput)
    item = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Hazard"),
                                  error_messages={
                                      "required": gettext_lazy("Choose what is wrong.")})
    photo = PhotoField(label=gettext_lazy("Photo"), widget=_photo_widget(),
                       error_messages={"required": gettext_lazy("Take a photo of the hazard.")})
    detail = forms.CharField(label=gettext_lazy("Where exactly, what exactly (optional)"),
                             required=False, max_length=200)
    spot = forms.BooleanField(label=gettext_lazy("Rectified on the spot"), required=False)
    after = PhotoField(label=gettext_lazy("Photo after the fix"), required=False,
                       widget=_photo_widget())

    def __init__(self, *args: Any, items: list[ChecklistItem], can_fix_on_spot: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = {item.pk: item for item in items}
        self.can_fix_on_spot = can_fix_on_spot
        self.fields["item"].choices = [(item.pk, item.code) for item in items]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if data.get("spot"):
            item = self.items.get(data.get("item") or 0)
            if not self.can_fix_on_spot:
                self.add_error("spot", _("You may not close a hazard on the spot."))
            elif item is not None and item.severity == ItemSeverity.MAJOR_CANDIDATE:
                self.add_error("spot",
                               _("A candidate major hazard cannot be closed on the spot."))
            elif data.get("after") is None and "after" not in self.errors:
                self.add_error("after",
                               _("A hazard rectified on the spot needs a photo after the fix."))
        return data

    @property
    def chosen_item(self) -> ChecklistItem:
        return self.items[self.cleaned_data["item"]]

    def finding(self) -> Finding:
        spot = bool(self.cleaned_data.get("spot"))
        evidence = [self.evidence(self.cleaned_data.get("photo"), EvidenceKind.BEFORE)]
        if spot:
            evidence.append(self.evidence(self.cleaned_data.get("after"), EvidenceKind.AFTER))
        return Finding(item_code=self.chosen_item.code,
                       description=(self.cleaned_data.get("detail") or "").strip(),
                       rectified_on_spot=spot,
                       evidence=tuple(e for e in evidence if e is not None))


# ---------------------------------------------------------------- a new place


PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")


class AreaChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def __init__(self, *args: Any, labels: dict[int, str] | None = None, **kwargs: Any) -> None:
        self.labels = labels or {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Area) -> str:
        return self.labels.get(obj.pk, obj.name)


class NewPlaceForm(forms.Form):
    """A place and its responsible party, entered once, in one form."""

    name = forms.CharField(label=gettext_lazy("Name of the place"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind of place"), choices=PlaceKind.choices,
                             widget=forms.RadioSelect)
    area = AreaChoiceField(label=gettext_lazy("Village or grid"), queryset=Area.objects.none())
    address = forms.CharField(label=gettext_lazy("Address"), max_length=255)
    latitude = forms.DecimalField(required=False, max_digits=9, decimal_places=6,
                                  min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, max_digits=9, decimal_places=6,
                                   min_value=-180, max_value=180, widget=forms.HiddenInput)
    party_name = forms.CharField(label=gettext_lazy("Responsible party"), max_length=100,
                                 help_text=gettext_lazy("Owner, landlord or operator."))
    party_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False,
                                  widget=forms.TextInput(attrs={"type": "tel",
                                                                "autocomplete": "off"}))

    def __init__(self, *args: Any, areas: list[Area], labels: dict[int, str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["area"]
        assert isinstance(area_field, AreaChoiceField)
        area_field.queryset = Area.objects.filter(pk__in=[a.pk for a in areas])
        area_field.labels = labels

    def clean_latitude(self) -> Any:
        return self._round(self.cleaned_data.get("latitude"))

    def clean_longitude(self) -> Any:
        return self._round(self.cleaned_data.get("longitude"))

    @staticmethod
    def _round(value: Any) -> Any:
        return None if value is None else round(value, 6)

    def clean_party_phone(self) -> str:
        phone = (self.cleaned_data.get("party_phone") or "").strip()
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("Enter a phone number, digits only."))
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            data["latitude"] = data["longitude"] = None
        return data
