import django_filters

from bihuan.core.api import ScopedReadOnlyViewSet
from bihuan.places.api.serializers import PartySerializer, PlaceSerializer
from bihuan.places.filters import PlaceFilterSet
from bihuan.places.models import Party, Place


class PlaceViewSet(ScopedReadOnlyViewSet):
    queryset = Place.objects.select_related("area", "party")
    serializer_class = PlaceSerializer
    filterset_class = PlaceFilterSet
    ordering = "-id"


class PartyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Party
        fields = ["q"]


class PartyViewSet(ScopedReadOnlyViewSet):
    queryset = Party.objects.all()
    serializer_class = PartySerializer
    filterset_class = PartyFilterSet
    ordering = "-id"
