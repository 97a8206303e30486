import django_filters
from django.db.models import Q, QuerySet

from bihuan.areas.filters import in_subtree
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Place


class PlaceFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PlaceKind.choices)
    area = django_filters.CharFilter(method="filter_area", label="area code (subtree)")
    q = django_filters.CharFilter(method="filter_q", label="name or address")

    class Meta:
        model = Place
        fields = ["kind", "area", "q"]

    def filter_area(self, queryset: QuerySet[Place], name: str, value: str) -> QuerySet[Place]:
        return in_subtree(queryset, value)

    def filter_q(self, queryset: QuerySet[Place], name: str, value: str) -> QuerySet[Place]:
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))
