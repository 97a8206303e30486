from rest_framework import serializers

from bihuan.places.models import Place


class PlaceSerializer(serializers.ModelSerializer[Place]):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    party_name = serializers.CharField(source="party.name", read_only=True, default=None)

    class Meta:
        model = Place
        fields = ["id", "name", "kind", "area", "address", "latitude", "longitude",
                  "party_name", "active"]
