import django_filters

from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area


class AreaFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=AreaLevel.choices)
    parent = django_filters.CharFilter(field_name="parent__code")
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Area
        fields = ["level", "parent", "q"]
