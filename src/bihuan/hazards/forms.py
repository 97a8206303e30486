"""Forms of the hazard pages: the list's filters and one form per transition.

A transition form asks for exactly what its service needs (the rules table says
whether a reason or a deadline is required), carries the hazard's ``version``
as ``expected_version`` and hands the cleaned data to the service in
:meth:`TransitionForm.apply`. The service stays the authority: its refusals
come back as :class:`~bihuan.core.errors.DomainError` and are shown on the form.
Field names match the ``field`` the services name in their errors, so
``add_domain_error`` puts each refusal under its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area
from bihuan.campaigns.models import Campaign
from bihuan.hazards import services
from bihuan.hazards.choices import EvidenceKind, HazardAction, SupervisionLevel
from bihuan.hazards.filters import HazardFilterSet
from bihuan.hazards.models import Hazard
from bihuan.hazards.rules import transition_for

A = HazardAction


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# ---------------------------------------------------------------- the list's filters


class HazardListFilterSet(HazardFilterSet):
    """The shared filter set, dressed for the office page: selects of what the user sees."""

    LABELS = {
        "area": _("Area"),
        "place_kind": _("Place kind"),
        "code": _("Hazard code"),
        "severity": _("Severity"),
        "state": _("State"),
        "supervision_level": _("Supervision"),
        "campaign": _("Campaign"),
        "overdue": _("Overdue"),
        "registered_after": _("Registered from"),
        "registered_before": _("Registered until"),
    }
    # Shown at once; the rest sit under "More filters".
    PRIMARY = ("area", "severity", "overdue")

    def __init__(self, data: Any = None, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        # The place filter comes from a place's page; kept through the form, not shown.
        self.filters["place"].extra["widget"] = forms.HiddenInput
        for name, label in self.LABELS.items():
            self.filters[name].label = label
        areas = Area.objects.visible_to(user).filter(
            level__in=[AreaLevel.TOWN, AreaLevel.VILLAGE]
        ).only("code", "name", "short_name", "level")
        area_choices: list[tuple[str, str]] = [("", str(_("All my areas")))]
        for area in areas:
            indent = "— " if area.level == AreaLevel.VILLAGE else ""
            area_choices.append((area.code, f"{indent}{area}"))
        self.filters["area"].extra["widget"] = forms.Select(choices=area_choices)
        campaigns = [("", str(_("Any campaign")))] + [
            (str(c.pk), c.name) for c in Campaign.objects.visible_to(user).only("id", "name")
        ]
        self.filters["campaign"].extra["widget"] = forms.Select(choices=campaigns)
        self.filters["state"].extra["widget"] = forms.CheckboxSelectMultiple
        # A column of the hazard itself: no join, so no DISTINCT (costly on a big list).
        self.filters["state"].distinct = False
        self.filters["overdue"].extra["widget"] = forms.Select(
            choices=[("", _("Any")), ("true", _("Overdue only")), ("false", _("Not overdue"))]
        )
        for name in ("place_kind", "severity", "supervision_level"):
            self.filters[name].extra["empty_label"] = _("Any")
        for name in ("registered_after", "registered_before"):
            self.filters[name].extra["widget"] = DateInput()

    def primary_fields(self) -> list[forms.BoundField]:
        return [self.form[name] for name in self.PRIMARY]

    def secondary_fields(self) -> list[forms.BoundField]:
        return [f for f in self.form.visible_fields() if f.name not in self.PRIMARY]

    def secondary_active(self) -> bool:
        data = self.data or {}
        return any(data.get(f.name) for f in self.secondary_fields())


# ---------------------------------------------------------------- uploads


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotoField(forms.FileField):
    """One or more photos; each is checked for size here and for its kind by the service."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        cleaned = [super(PhotoField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            if upload.size and upload.size > services.MAX_EVIDENCE_BYTES:
                raise forms.ValidationError(
                    _("A photo may be at most %(mb)d MB.")
                    % {"mb": services.MAX_EVIDENCE_BYTES // 2**20}
                )
        return cleaned


# ---------------------------------------------------------------- transitions


class TransitionForm(forms.Form):
    """Base of every transition form: the expected version and the service call."""

    action: HazardAction
    # Set by subclasses whose reason field is optional in the rules but worth asking.
    reason_label = _("Reason")
    reason_help: Any = ""
    has_reason = False
    has_deadline = False
    deadline_field = "deadline"
    deadline_label = _("New deadline")
    confirm: Any = ""
    multipart = False

    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, hazard: Hazard, **kwargs: Any) -> None:
        self.hazard = hazard
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("expected_version", hazard.version)
        super().__init__(*args, **kwargs)
        rule = transition_for(self.action)
        if self.has_reason or rule.needs_reason:
            self.fields["reason"] = forms.CharField(
                label=self.reason_label, required=rule.needs_reason,
                help_text=self.reason_help, widget=forms.Textarea(attrs={"rows": 3}),
            )
        if self.has_deadline or rule.needs_deadline:
            self.fields[self.deadline_field] = forms.DateField(
                label=self.deadline_label, required=rule.needs_deadline, widget=DateInput(),
            )
        self.order_fields(self.field_order_names())

    def field_order_names(self) -> list[str]:
        return []

    @property
    def title(self) -> str:
        return str(ACTION_TITLES.get(self.action, self.action.label))

    def common(self, actor: Any, client_ip: str | None) -> dict[str, Any]:
        return {"actor": actor, "expected_version": self.cleaned_data["expected_version"],
                "client_ip": client_ip}

    def reason(self) -> str:
        return str(self.cleaned_data.get("reason") or "")

    def deadline(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get(self.deadline_field)
        return value

    def apply(self, actor: Any, client_ip: str | None) -> None:
        raise NotImplementedError


class ConfirmForm(TransitionForm):
    action = A.CONFIRM
    has_deadline = True
    deadline_label = _("Deadline")

    requirement = forms.CharField(label=_("Rectification requirement"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, hazard: Hazard, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("requirement", hazard.requirement)
        super().__init__(*args, hazard=hazard, **kwargs)
        self.fields["deadline"].help_text = _(
            "Leave empty to use the deadline of the checklist item's rule."
        )

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.confirm_report(self.hazard, requirement=self.cleaned_data["requirement"],
                                deadline=self.deadline(), **self.common(actor, client_ip))


class DismissForm(TransitionForm):
    action = A.DISMISS

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.dismiss_report(self.hazard, reason=self.reason(),
                                **self.common(actor, client_ip))


class SubmitRectificationForm(TransitionForm):
    action = A.SUBMIT_RECTIFICATION
    has_reason = True
    reason_label = _("Note")
    multipart = True

    evidence = PhotoField(label=_("Photos after the fix"),
                          help_text=_("At least one photo showing the hazard rectified."))

    def field_order_names(self) -> list[str]:
        return ["evidence", "reason"]

    def apply(self, actor: Any, client_ip: str | None) -> None:
        photos = [
            services.EvidenceFile(content=upload.read(), kind=EvidenceKind.AFTER,
                                  name=upload.name or "photo.jpg")
            for upload in self.cleaned_data["evidence"]
        ]
        services.submit_rectification(self.hazard, evidence=photos, note=self.reason(),
                                      **self.common(actor, client_ip))


class VerifyPassForm(TransitionForm):
    action = A.VERIFY_PASS
    has_reason = True
    reason_label = _("Note")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.pass_verification(self.hazard, note=self.reason(),
                                   **self.common(actor, client_ip))


class VerifyFailForm(TransitionForm):
    action = A.VERIFY_FAIL
    reason_help = _("What is still wrong.")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.fail_verification(self.hazard, reason=self.reason(), deadline=self.deadline(),
                                   **self.common(actor, client_ip))


class HandOverForm(TransitionForm):
    action = A.HAND_OVER

    department = forms.CharField(label=_("Enforcing department"), required=False,
                                 max_length=100)

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.hand_over_to_enforcement(
            self.hazard, reason=self.reason(), department=self.cleaned_data["department"],
            **self.common(actor, client_ip),
        )


class EnforcementResultForm(TransitionForm):
    action = A.ENFORCEMENT_RESULT
    reason_label = _("Result")
    reason_help = _("The enforcement result, e.g. a fine or sealing.")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.record_enforcement_result(self.hazard, reason=self.reason(),
                                           deadline=self.deadline(),
                                           **self.common(actor, client_ip))


class LookBackPassForm(TransitionForm):
    action = A.LOOK_BACK_PASS
    has_reason = True
    reason_label = _("Note")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.pass_look_back(self.hazard, note=self.reason(), **self.common(actor, client_ip))


class LookBackFailForm(TransitionForm):
    action = A.LOOK_BACK_FAIL
    reason_help = _("What was found again.")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.fail_look_back(self.hazard, reason=self.reason(), deadline=self.deadline(),
                                **self.common(actor, client_ip))


class VoidForm(TransitionForm):
    action = A.VOID
    confirm = _("Void this hazard? This cannot be undone.")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.void_hazard(self.hazard, reason=self.reason(), **self.common(actor, client_ip))


class RequestExtensionForm(TransitionForm):
    action = A.REQUEST_EXTENSION
    deadline_field = "requested_deadline"
    deadline_label = _("Requested deadline")
    reason_help = _("Why more time is needed.")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.request_extension(self.hazard, reason=self.reason(),
                                   requested_deadline=self.deadline(),
                                   **self.common(actor, client_ip))


class ApproveExtensionForm(TransitionForm):
    action = A.APPROVE_EXTENSION
    has_reason = True
    reason_label = _("Note")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.decide_extension(self.hazard, approve=True, reason=self.reason(),
                                  **self.common(actor, client_ip))


class RefuseExtensionForm(TransitionForm):
    action = A.REFUSE_EXTENSION

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.decide_extension(self.hazard, approve=False, reason=self.reason(),
                                  **self.common(actor, client_ip))


class ParticipantsField(forms.CharField):
    """One name per line."""

    widget = forms.Textarea(attrs={"rows": 5})

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]


class MajorDecisionForm(TransitionForm):
    confirmed = True

    participants = ParticipantsField(
        label=_("Participants"),
        help_text=_("One name per line: at least 3, or 7 for an expert panel."),
    )
    expert_panel = forms.BooleanField(label=_("Decided by an expert panel"), required=False)
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 4}))
    decided_on = forms.DateField(label=_("Decided on"), required=False, widget=DateInput(),
                                 help_text=_("Leave empty for today."))

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.decide_major(
            self.hazard, confirmed=self.confirmed,
            participants=self.cleaned_data["participants"],
            minutes=self.cleaned_data["minutes"], decided_on=self.cleaned_data["decided_on"],
            expert_panel=self.cleaned_data["expert_panel"], **self.common(actor, client_ip),
        )


class DecideMajorForm(MajorDecisionForm):
    action = A.DECIDE_MAJOR
    confirmed = True


class RejectMajorForm(MajorDecisionForm):
    action = A.REJECT_MAJOR
    confirmed = False


class ListSupervisionForm(TransitionForm):
    action = A.LIST_SUPERVISION
    has_deadline = True
    deadline_label = _("Supervision deadline")

    level = forms.ChoiceField(
        label=_("Supervision level"),
        choices=[(SupervisionLevel.TOWN.value, SupervisionLevel.TOWN.label),
                 (SupervisionLevel.CITY.value, SupervisionLevel.CITY.label)],
    )
    document_number = forms.CharField(label=_("Document number"), max_length=60)
    responsible_person = forms.CharField(label=_("Responsible person"), max_length=100)
    delivered_by = forms.CharField(label=_("Delivered by"), max_length=100, required=False)
    signed_for_by = forms.CharField(label=_("Signed for by"), max_length=100, required=False)

    def __init__(self, *args: Any, hazard: Hazard, **kwargs: Any) -> None:
        super().__init__(*args, hazard=hazard, **kwargs)
        self.fields["deadline"].required = True

    def field_order_names(self) -> list[str]:
        return ["level", "document_number", "responsible_person", "deadline", "delivered_by",
                "signed_for_by"]

    def apply(self, actor: Any, client_ip: str | None) -> None:
        data = self.cleaned_data
        services.list_supervision(
            self.hazard, level=data["level"], document_number=data["document_number"],
            responsible_person=data["responsible_person"], deadline=self.deadline(),
            delivered_by=data["delivered_by"], signed_for_by=data["signed_for_by"],
            **self.common(actor, client_ip),
        )


class DelistSupervisionForm(TransitionForm):
    action = A.DELIST_SUPERVISION
    has_reason = True
    reason_label = _("Note")

    def apply(self, actor: Any, client_ip: str | None) -> None:
        services.delist_supervision(self.hazard, reason=self.reason(),
                                    **self.common(actor, client_ip))


TRANSITION_FORMS: dict[HazardAction, type[TransitionForm]] = {
    form.action: form
    for form in (
        ConfirmForm, DismissForm, SubmitRectificationForm, VerifyPassForm, VerifyFailForm,
        HandOverForm, EnforcementResultForm, LookBackPassForm, LookBackFailForm, VoidForm,
        RequestExtensionForm, ApproveExtensionForm, RefuseExtensionForm, DecideMajorForm,
        RejectMajorForm, ListSupervisionForm, DelistSupervisionForm,
    )
}

# What the button says (an imperative); the action's label is what the history says.
ACTION_TITLES: dict[HazardAction, Any] = {
    A.CONFIRM: _("Confirm"),
    A.DISMISS: _("Dismiss"),
    A.SUBMIT_RECTIFICATION: _("Submit rectification"),
    A.VERIFY_PASS: _("Pass verification and close"),
    A.VERIFY_FAIL: _("Fail verification"),
    A.HAND_OVER: _("Hand over to enforcement"),
    A.ENFORCEMENT_RESULT: _("Record enforcement result"),
    A.LOOK_BACK_PASS: _("Look-back: passed"),
    A.LOOK_BACK_FAIL: _("Look-back: failed, reopen"),
    A.VOID: _("Void"),
    A.REQUEST_EXTENSION: _("Request extension"),
    A.APPROVE_EXTENSION: _("Approve extension"),
    A.REFUSE_EXTENSION: _("Refuse extension"),
    A.DECIDE_MAJOR: _("Decide: major hazard"),
    A.REJECT_MAJOR: _("Decide: not major"),
    A.LIST_SUPERVISION: _("List for supervision"),
    A.DELIST_SUPERVISION: _("De-list from supervision"),
}
