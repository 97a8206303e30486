"""Citizen reports over the API: what the triaging official sees (contact masked)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from bihuan.core.masking import mask_phone
from bihuan.reports.models import CitizenReport


class CitizenReportSerializer(serializers.ModelSerializer[CitizenReport]):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    contact = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()
    duplicate_of = serializers.SlugRelatedField(slug_field="ticket", read_only=True,
                                                allow_null=True)

    class Meta:
        model = CitizenReport
        fields = ["id", "ticket", "status", "description", "area", "latitude", "longitude",
                  "place_description", "contact", "photo_url", "created_at", "triaged_at",
                  "outcome_reason", "hazard", "duplicate_of"]

    def get_contact(self, obj: CitizenReport) -> str:
        # Personal data: masked like every list and export (a phone keeps its ends).
        return mask_phone(obj.contact)

    def get_photo_url(self, obj: CitizenReport) -> str | None:
        return reverse("reports:triage_photo", args=[obj.pk]) if obj.photo else None


class AcceptSerializer(serializers.Serializer[Any]):
    place = serializers.IntegerField(min_value=1)
    item_code = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=20)
    description = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=500)


class DismissSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=2000)


class DuplicateSerializer(serializers.Serializer[Any]):
    of = serializers.IntegerField(min_value=1, help_text="the id of the earlier report")
