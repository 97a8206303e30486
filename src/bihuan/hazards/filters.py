"""One filter set for the hazard list: UI, API and export share it."""

import django_filters
from django.db.models import QuerySet

from bihuan.areas.filters import in_subtree
from bihuan.core import clock
from bihuan.hazards.choices import HazardState, Severity, SupervisionLevel
from bihuan.hazards.models import Hazard, HazardQuerySet
from bihuan.places.choices import PlaceKind


class HazardFilterSet(django_filters.FilterSet):
    area = django_filters.CharFilter(method="filter_area", label="area code (subtree)")
    place_kind = django_filters.ChoiceFilter(choices=PlaceKind.choices)
    code = django_filters.CharFilter()
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    state = django_filters.MultipleChoiceFilter(choices=HazardState.choices)
    supervision_level = django_filters.ChoiceFilter(choices=SupervisionLevel.choices)
    campaign = django_filters.NumberFilter(field_name="campaign_id")
    place = django_filters.NumberFilter(field_name="place_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    registered_after = django_filters.DateFilter(field_name="registered_at",
                                                 lookup_expr="date__gte")
    registered_before = django_filters.DateFilter(field_name="registered_at",
                                                  lookup_expr="date__lte")

    class Meta:
        model = Hazard
        fields = ["area", "place_kind", "code", "severity", "state", "supervision_level",
                  "campaign", "place", "overdue", "registered_after", "registered_before"]

    def filter_area(self, queryset: QuerySet[Hazard], name: str, value: str) -> QuerySet[Hazard]:
        return in_subtree(queryset, value)

    def filter_overdue(self, queryset: QuerySet[Hazard], name: str,
                       value: bool | None) -> QuerySet[Hazard]:
        if value is None:
            return queryset
        today = clock.today()
        hazards: HazardQuerySet = queryset
        return hazards.overdue(today) if value else hazards.not_overdue(today)
