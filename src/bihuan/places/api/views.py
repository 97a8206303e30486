from bihuan.core.api import ScopedReadOnlyViewSet
from bihuan.places.api.serializers import PlaceSerializer
from bihuan.places.filters import PlaceFilterSet
from bihuan.places.models import Place


class PlaceViewSet(ScopedReadOnlyViewSet):
    queryset = Place.objects.select_related("area", "party")
    serializer_class = PlaceSerializer
    filterset_class = PlaceFilterSet
    ordering = "-id"
