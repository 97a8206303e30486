from rest_framework import serializers

from bihuan.areas.models import Area


class AreaSerializer(serializers.ModelSerializer[Area]):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Area
        fields = ["id", "code", "name", "short_name", "level", "parent", "latitude", "longitude"]
