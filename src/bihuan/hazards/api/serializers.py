from typing import Any

from rest_framework import serializers

from bihuan.hazards.choices import HazardAction
from bihuan.hazards.models import Hazard, HazardEvent


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
