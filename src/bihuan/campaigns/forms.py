"""Forms of the campaign pages. Each hands its cleaned data to one service; field
names match the ``field`` the services name in their errors (``add_domain_error``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.accounts.models import OrgUnit
from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.campaigns import services
from bihuan.campaigns.choices import Duty, Metric
from bihuan.campaigns.models import Campaign
from bihuan.checklists.models import Checklist
from bihuan.core import clock
from bihuan.places.choices import PlaceKind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def area_choices(user: Any, under: Area | None, levels: list[str], *,
                  manageable: bool = False) -> list[tuple[str, str]]:
    areas = Area.objects.visible_to(user).filter(level__in=levels)
    if under is not None:
        areas = areas.filter(path__startswith=under.path)
    choices = []
    for area in areas.only("code", "name", "short_name", "level", "path"):
        if manageable and not services.can_manage(user, area):
            continue
        indent = "— " * max(0, area.path.count("/") - 2)
        choices.append((area.code, f"{indent}{area}"))
    return choices


def choices_of(form: forms.Form, name: str) -> forms.ChoiceField:
    """The form's choice field ``name`` (typed, for setting its choices per user)."""
    return cast(forms.ChoiceField, form.fields[name])


class AreaField(forms.ChoiceField):
    """An area picked by its code, among those the form offers."""

    def clean(self, value: Any) -> Area | None:
        code = super().clean(value)
        if not code:
            return None
        return Area.objects.get(code=code)


KIND_CHOICES = PlaceKind.choices


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Code"), max_length=30,
                           help_text=_("A short unique code, e.g. SYGJ-2026."))
    area = AreaField(label=_("Area"))
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput())
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput())
    place_kinds = forms.MultipleChoiceField(label=_("Place kinds"), choices=KIND_CHOICES,
                                            required=False, widget=forms.CheckboxSelectMultiple,
                                            help_text=_("None ticked: every kind."))
    checklists = forms.ModelMultipleChoiceField(
        label=_("Checklists"), queryset=Checklist.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        choices_of(self, "area").choices = area_choices(
            user, None, [AreaLevel.CITY, AreaLevel.TOWN], manageable=True)
        cast("forms.ModelMultipleChoiceField[Checklist]", self.fields["checklists"]).queryset = (
            Checklist.objects.active()
        )

    def apply(self, client_ip: str | None) -> Campaign:
        d = self.cleaned_data
        return services.create_campaign(
            actor=self.user, code=d["code"], name=d["name"], area=d["area"],
            starts_on=d["starts_on"], ends_on=d["ends_on"], place_kinds=d["place_kinds"],
            checklists=list(d["checklists"]), description=d["description"], client_ip=client_ip,
        )


class TargetForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    value = forms.DecimalField(label=_("Target"), max_digits=7, decimal_places=2,
                               help_text=_("A percentage for rates (e.g. 95), a number for "
                                           "open major hazards (e.g. 0)."))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    org_unit = forms.ModelChoiceField(label=_("Department"), queryset=OrgUnit.objects.all(),
                                      required=False)
    area = AreaField(label=_("Area"), required=False)
    place_kind = forms.ChoiceField(label=_("Place kind"), required=False,
                                   choices=[("", "—"), *KIND_CHOICES])
    due_on = forms.DateField(label=_("Due on"), widget=DateInput())
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, user: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_of(self, "area").choices = [("", "—"), *area_choices(
            user, campaign.area, [AreaLevel.CITY, AreaLevel.TOWN, AreaLevel.VILLAGE])]
        self.fields["org_unit"].help_text = _("A task needs an owner: a department, an area "
                                              "or both.")


class ReportForm(forms.Form):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    evidence = forms.FileField(label=_("Photos"), required=False,
                               widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))


class ResponsibilityForm(forms.Form):
    area = AreaField(label=_("Area"))
    place_kind = forms.ChoiceField(label=_("Place kind"), required=False,
                                   choices=[("", _("Every kind")), *KIND_CHOICES])
    duty = forms.ChoiceField(label=_("Duty"), choices=Duty.choices)
    person_name = forms.CharField(label=_("Responsible person"), max_length=100)
    org_unit = forms.ModelChoiceField(label=_("Department"), queryset=OrgUnit.objects.all(),
                                      required=False)

    def __init__(self, *args: Any, user: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_of(self, "area").choices = area_choices(
            user, campaign.area, [AreaLevel.CITY, AreaLevel.TOWN, AreaLevel.VILLAGE],
            manageable=True)


class SeedField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label=_("Published seed"), max_length=100, required=False,
            help_text=_("A number announced in advance (e.g. that day's lottery draw). The "
                        "system adds its own nonce and publishes both before the draw."),
            **kwargs,
        )


class CrossDrawForm(forms.Form):
    public_seed = SeedField()
    per_town = forms.IntegerField(label=_("Places per town"), min_value=1,
                                  max_value=services.MAX_SAMPLE, initial=10)
    clean_share = forms.IntegerField(
        label=_("Share of recently clean places (%)"), min_value=0, max_value=100, initial=30,
        help_text=_("Places the local team passed as clean in the last 30 days."),
    )
    towns = forms.MultipleChoiceField(label=_("Towns"), required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      help_text=_("None ticked: every town of the campaign."))

    def __init__(self, *args: Any, user: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.campaign = user, campaign
        choices_of(self, "towns").choices = area_choices(user, campaign.area, [AreaLevel.TOWN])

    def announce(self, client_ip: str | None) -> Any:
        d = self.cleaned_data
        return services.announce_cross_draw(
            actor=self.user, campaign=self.campaign, per_town=d["per_town"],
            clean_share=d["clean_share"] / 100, towns=d["towns"] or None,
            public_seed=d["public_seed"], client_ip=client_ip,
        )


class ScopedDrawForm(forms.Form):
    public_seed = SeedField()
    area = AreaField(label=_("Area"))

    def __init__(self, *args: Any, user: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.campaign = user, campaign
        choices_of(self, "area").choices = area_choices(
            user, campaign.area, [AreaLevel.CITY, AreaLevel.TOWN, AreaLevel.VILLAGE],
            manageable=True)


class LookBackDrawForm(ScopedDrawForm):
    share = forms.IntegerField(label=_("Share of closed hazards (%)"), min_value=1,
                               max_value=100, initial=10)

    def announce(self, client_ip: str | None) -> Any:
        d = self.cleaned_data
        return services.announce_look_back_draw(
            actor=self.user, campaign=self.campaign, share=d["share"], area=d["area"],
            public_seed=d["public_seed"], client_ip=client_ip,
        )


class DutyDrawForm(ScopedDrawForm):
    grids = forms.IntegerField(label=_("Grids"), min_value=1, max_value=services.MAX_SAMPLE,
                               initial=5)
    per_grid = forms.IntegerField(label=_("Inspections per grid"), min_value=1,
                                  max_value=services.MAX_SAMPLE, initial=3)
    days = forms.IntegerField(label=_("Recorded in the last (days)"), min_value=1,
                              max_value=services.MAX_SAMPLE, initial=services.RECENT_DAYS)

    def announce(self, client_ip: str | None) -> Any:
        d = self.cleaned_data
        return services.announce_duty_draw(
            actor=self.user, campaign=self.campaign, grids=d["grids"], per_grid=d["per_grid"],
            days=d["days"], area=d["area"], public_seed=d["public_seed"], client_ip=client_ip,
        )


PASS_FAIL = [("pass", _("Passed: still rectified")), ("fail", _("Failed: the hazard is back"))]


class LookBackResultForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=PASS_FAIL, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    deadline = forms.DateField(label=_("New deadline"), required=False, widget=DateInput(),
                               help_text=_("Needed when the look-back fails."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deadline"].initial = clock.today() + dt.timedelta(days=7)


CONFIRM_REFUTE = [("confirm", _("Confirmed: the visit happened as recorded")),
                  ("refute", _("Refuted: the record does not match"))]


class DutyResultForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=CONFIRM_REFUTE,
                               widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


DRAW_FORMS: dict[str, type[forms.Form]] = {
    "cross": CrossDrawForm, "look_back": LookBackDrawForm, "duty": DutyDrawForm,
}
