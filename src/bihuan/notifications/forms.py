"""Forms of the notification pages: preferences, webhook subscriptions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.areas.models import Area
from bihuan.notifications.choices import (
    USER_CHANNELS,
    Channel,
    DeliveryStatus,
    NoticeKind,
    RobotStyle,
)
from bihuan.notifications.services import EVENT_TYPES


def pref_field_name(kind: str, channel: str) -> str:
    return f"{kind}__{channel}"


class PreferencesForm(forms.Form):
    """A checkbox per kind of notice and channel, and the chat robot's address."""

    robot_url = forms.CharField(label=_("Chat robot address"), required=False, max_length=500,
                                help_text=_("The webhook address of a DingTalk or WeCom group "
                                            "robot."))
    robot_style = forms.ChoiceField(label=_("Chat robot kind"), choices=RobotStyle.choices,
                                    initial=RobotStyle.DINGTALK)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NoticeKind:
            for channel in USER_CHANNELS:
                label = f"{kind.label} · {Channel(channel).label}"
                self.fields[pref_field_name(kind, channel)] = forms.BooleanField(
                    required=False, label=label,
                    widget=forms.CheckboxInput(attrs={"aria-label": label}))

    def rows(self) -> list[tuple[Any, list[Any]]]:
        """(kind label, [bound field per channel]) for the table."""
        return [(kind.label, [self[pref_field_name(kind, c)] for c in USER_CHANNELS])
                for kind in NoticeKind]

    def choices(self) -> dict[str, set[str]]:
        return {kind: {c for c in USER_CHANNELS
                       if self.cleaned_data.get(pref_field_name(kind, c))}
                for kind in NoticeKind.values}


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(label=_("URL"), max_length=500,
                          help_text=_("http:// or https://, on a host this installation may "
                                      "call."))
    event_types = forms.MultipleChoiceField(
        label=_("Events"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(t, t) for t in EVENT_TYPES], help_text=_("None chosen: every event."))
    area = forms.ModelChoiceField(label=_("Area"), required=False,
                                  queryset=Area.objects.filter(level__in=["city", "town"]),
                                  help_text=_("Only hazards in this area (empty: all)."))


class DeliveryFilterForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any")), *Channel.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any")), *DeliveryStatus.choices])
    recipient = forms.CharField(label=_("Recipient contains"), required=False, max_length=100)
    created_from = forms.DateField(label=_("Created from"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label=_("Created until"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    subscription = forms.IntegerField(required=False, widget=forms.HiddenInput)
