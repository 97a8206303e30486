from rest_framework import serializers

from bihuan.core.masking import mask_phone
from bihuan.places.models import Party, Place


class PlaceSerializer(serializers.ModelSerializer[Place]):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    party_name = serializers.CharField(source="party.name", read_only=True, default=None)

    class Meta:
        model = Place
        fields = ["id", "name", "kind", "area", "address", "latitude", "longitude",
                  "party_name", "active"]


class PartySerializer(serializers.ModelSerializer[Party]):
    # Personal data: the API shows the phone masked, like the lists and exports.
    phone = serializers.SerializerMethodField()
    places = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = ["id", "name", "kind", "role", "phone", "places"]

    def get_phone(self, obj: Party) -> str:
        return mask_phone(obj.phone)

    def get_places(self, obj: Party) -> list[int]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return sorted(Place.objects.visible_to(user).filter(party=obj)
                      .values_list("pk", flat=True))
