"""Hazards over the API: the record, its history, and one request body per action."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from bihuan.hazards.choices import EvidenceKind, HazardAction, SupervisionLevel
from bihuan.hazards.models import Evidence, ExtensionRequest, Hazard, HazardEvent
from bihuan.hazards.services import MAX_EVIDENCE_BYTES, EvidenceFile


class HazardSerializer(serializers.ModelSerializer[Hazard]):
    number = serializers.CharField(read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Hazard
        fields = ["id", "number", "place", "area", "place_kind", "code", "source",
                  "description", "requirement", "severity", "major_candidate", "state",
                  "deadline", "overdue", "supervision_level", "recurrence_count",
                  "registered_at", "closed_at", "campaign", "version"]

    def get_overdue(self, obj: Hazard) -> bool:
        return obj.is_overdue()


class HazardEventSerializer(serializers.ModelSerializer[HazardEvent]):
    actor = serializers.StringRelatedField()

    class Meta:
        model = HazardEvent
        fields = ["seq", "action", "from_state", "to_state", "actor", "actor_role", "at",
                  "reason", "data"]


class EvidenceSerializer(serializers.ModelSerializer[Evidence]):
    event = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "kind", "event", "sha256", "content_type", "taken_at", "latitude",
                  "longitude", "uploaded_at", "url"]

    def get_event(self, obj: Evidence) -> int | None:
        return obj.event.seq if obj.event is not None else None

    def get_url(self, obj: Evidence) -> str:
        return reverse("hazards:evidence", args=[obj.pk])


class ExtensionRequestSerializer(serializers.ModelSerializer[ExtensionRequest]):
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = ExtensionRequest
        fields = ["id", "requested_by", "requested_at", "reason", "requested_deadline",
                  "status", "decided_by", "decided_at", "decision_reason"]


# ---------------------------------------------------------------- photos


class Base64Field(serializers.CharField):
    """Bytes sent as base64 in JSON (a ``data:…;base64,`` prefix is allowed)."""

    default_error_messages = {"invalid_base64": _("The file is not valid base64."),
                              "too_large": _("The file is too large.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bytes:  # type: ignore[override]
        text = super().to_internal_value(data)
        if text.startswith("data:") and "," in text:
            text = text.split(",", 1)[1]
        if len(text) > MAX_EVIDENCE_BYTES * 4 // 3 + 4:
            self.fail("too_large")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            self.fail("invalid_base64")
        raise AssertionError  # fail() raises


class PhotoSerializer(serializers.Serializer[Any]):
    """One photo in a JSON body; multipart requests send files instead (``files``)."""

    content = Base64Field(help_text="the image (JPEG, PNG or WebP), base64")
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, default=EvidenceKind.AFTER)
    taken_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    latitude = serializers.FloatField(required=False, allow_null=True, default=None,
                                      min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, default=None,
                                       min_value=-180, max_value=180)


def evidence_from(data: dict[str, Any], default_kind: str = EvidenceKind.AFTER
                  ) -> list[EvidenceFile]:
    """The photos of a validated body: base64 ``photos`` and multipart ``files``."""
    found = [
        EvidenceFile(content=p["content"], kind=p["kind"], name="photo",
                     taken_at=p["taken_at"], latitude=p["latitude"], longitude=p["longitude"])
        for p in data.get("photos") or []
    ]
    for upload in data.get("files") or []:
        found.append(EvidenceFile(content=upload.read(), kind=default_kind,
                                  name=getattr(upload, "name", "photo") or "photo"))
    return found


class PhotosMixin(serializers.Serializer[Any]):
    photos = PhotoSerializer(many=True, required=False, default=list)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                  help_text="multipart: image files")


# ---------------------------------------------------------------- requests


class HazardRegisterSerializer(PhotosMixin):
    """Register a hazard found at a place (outside an inspection)."""

    place = serializers.IntegerField(min_value=1)
    item_code = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=20)
    description = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=500)
    requirement = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=500)
    deadline = serializers.DateField(required=False, allow_null=True, default=None)
    rectified_on_spot = serializers.BooleanField(required=False, default=False)
    campaign = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        min_value=1)


class VersionedSerializer(serializers.Serializer[Any]):
    """Every transition names the version it was decided on: a stale one is a 409."""

    version = serializers.IntegerField(min_value=1, help_text=(
        "the hazard's version as last read; another change since then answers 409"))


class ConfirmSerializer(VersionedSerializer):
    requirement = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=500)
    deadline = serializers.DateField(required=False, allow_null=True, default=None)


class ReasonSerializer(VersionedSerializer):
    reason = serializers.CharField(max_length=2000)


class OptionalReasonSerializer(VersionedSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="",
                                   max_length=2000)


class ReasonDeadlineSerializer(ReasonSerializer):
    deadline = serializers.DateField()


class HandOverSerializer(ReasonSerializer):
    department = serializers.CharField(required=False, allow_blank=True, default="",
                                       max_length=100)


class NoteSerializer(VersionedSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=2000)


class RectificationSerializer(PhotosMixin, NoteSerializer):
    pass


class RequestExtensionSerializer(ReasonSerializer):
    requested_deadline = serializers.DateField()


class MajorDecisionSerializer(VersionedSerializer):
    participants = serializers.ListField(child=serializers.CharField(max_length=100),
                                         max_length=50)
    minutes = serializers.CharField(max_length=5000)
    decided_on = serializers.DateField(required=False, allow_null=True, default=None)
    expert_panel = serializers.BooleanField(required=False, default=False)


class SupervisionSerializer(VersionedSerializer):
    level = serializers.ChoiceField(choices=[(SupervisionLevel.TOWN, SupervisionLevel.TOWN.label),
                                             (SupervisionLevel.CITY, SupervisionLevel.CITY.label)])
    document_number = serializers.CharField(max_length=60)
    responsible_person = serializers.CharField(max_length=100)
    deadline = serializers.DateField()
    delivered_by = serializers.CharField(required=False, allow_blank=True, default="",
                                         max_length=100)
    signed_for_by = serializers.CharField(required=False, allow_blank=True, default="",
                                          max_length=100)


# The older single endpoint (``transition``), kept for clients written against it.
TRANSITION_ACTIONS = [
    HazardAction.CONFIRM, HazardAction.DISMISS, HazardAction.VERIFY_PASS,
    HazardAction.VERIFY_FAIL, HazardAction.HAND_OVER, HazardAction.ENFORCEMENT_RESULT,
    HazardAction.LOOK_BACK_PASS, HazardAction.LOOK_BACK_FAIL, HazardAction.VOID,
    HazardAction.REQUEST_EXTENSION, HazardAction.APPROVE_EXTENSION,
    HazardAction.REFUSE_EXTENSION,
]


class TransitionSerializer(serializers.Serializer[dict[str, Any]]):
    action = serializers.ChoiceField(choices=[(a.value, a.label) for a in TRANSITION_ACTIONS])
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    deadline = serializers.DateField(required=False, allow_null=True, default=None)
    requirement = serializers.CharField(required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(required=False, allow_null=True, default=None,
                                                min_value=1)
