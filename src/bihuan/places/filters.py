import django_filters
from django.db.models import Q, QuerySet

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
        from bihuan.areas.models import Area

        area = Area.objects.filter(code=value).first()
        if area is None:
            return queryset.none()
        return queryset.filter(area__path__startswith=area.path)

    def filter_q(self, queryset: QuerySet[Place], name: str, value: str) -> QuerySet[Place]:
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))
