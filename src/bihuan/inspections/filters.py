import django_filters

from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.models import Inspection


class InspectionFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=InspectionKind.choices)
    place = django_filters.NumberFilter(field_name="place_id")
    started_after = django_filters.DateFilter(field_name="started_at", lookup_expr="date__gte")
    started_before = django_filters.DateFilter(field_name="started_at", lookup_expr="date__lte")

    class Meta:
        model = Inspection
        fields = ["kind", "place", "started_after", "started_before"]
