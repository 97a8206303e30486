from rest_framework import serializers

from bihuan.inspections.models import Inspection


class InspectionSerializer(serializers.ModelSerializer[Inspection]):
    checklist = serializers.StringRelatedField()
    inspector = serializers.StringRelatedField()

    class Meta:
        model = Inspection
        fields = ["id", "place", "kind", "checklist", "inspector", "campaign", "status",
                  "started_at", "submitted_at", "client_key"]
