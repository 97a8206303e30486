"""Campaigns over the API (read only): the campaign with its targets, and its tasks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bihuan.campaigns.choices import CampaignStatus
from bihuan.campaigns.models import Campaign, Target, Task
from bihuan.places.choices import PlaceKind


class TargetSerializer(serializers.ModelSerializer[Target]):
    class Meta:
        model = Target
        fields = ["metric", "value"]


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True,
                                      help_text=_("the name of the campaign's area"))
    place_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=PlaceKind.choices), read_only=True,
        help_text=_("the place kinds the campaign covers; empty: every kind"))
    status = serializers.SerializerMethodField(
        help_text=_("from the campaign's window and today: not started, running or ended"))
    targets = TargetSerializer(many=True, read_only=True)
    checklists = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "code", "name", "area", "area_name", "place_kinds", "starts_on",
                  "ends_on", "status", "description", "checklists", "targets"]

    @extend_schema_field(serializers.ChoiceField(choices=CampaignStatus.choices))
    def get_status(self, obj: Campaign) -> str:
        return obj.status


class TaskSerializer(serializers.ModelSerializer[Task]):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    area_name = serializers.CharField(source="area.name", read_only=True, allow_null=True,
                                      default=None,
                                      help_text=_("the name of the task's area"))
    org_unit = serializers.StringRelatedField(
        allow_null=True, help_text=_("the department that owns the task"))
    overdue = serializers.SerializerMethodField(
        help_text=_("open past its due date (derived, never stored)"))

    class Meta:
        model = Task
        fields = ["id", "campaign", "title", "description", "org_unit", "area", "area_name",
                  "place_kind", "due_on", "status", "progress", "overdue", "completed_at"]

    def get_overdue(self, obj: Task) -> bool:
        return obj.is_overdue()
