"""One filter set for citizen reports: the triage list (and later the API and export)."""

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from bihuan.areas.choices import AreaLevel
from bihuan.areas.filters import in_subtree
from bihuan.areas.models import Area
from bihuan.reports.choices import ReportStatus
from bihuan.reports.models import CitizenReport


class DateInput(forms.DateInput):
    input_type = "date"


class CitizenReportFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices, label=_("Status"),
                                         empty_label=_("Any status"))
    area = django_filters.ChoiceFilter(method="filter_area", label=_("Area"),
                                       empty_label=_("All my areas"))
    ticket = django_filters.CharFilter(method="filter_ticket", label=_("Ticket"))
    filed_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte",
                                            label=_("Filed from"), widget=DateInput)
    filed_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte",
                                             label=_("Filed until"), widget=DateInput)

    class Meta:
        model = CitizenReport
        fields = ["status", "area", "ticket", "filed_after", "filed_before"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The towns and villages the user sees, by code (reports fall in those).
        user = getattr(self.request, "user", None)
        areas = Area.objects.visible_to(user).filter(
            level__in=[AreaLevel.TOWN, AreaLevel.VILLAGE]
        ) if user is not None else Area.objects.none()
        self.filters["area"].extra["choices"] = [
            (a.code, ("· " if a.level == AreaLevel.VILLAGE else "") + a.name)
            for a in areas.order_by("path")
        ]

    def filter_area(self, queryset: QuerySet[CitizenReport], name: str,
                    value: str) -> QuerySet[CitizenReport]:
        return in_subtree(queryset, value)

    def filter_ticket(self, queryset: QuerySet[CitizenReport], name: str,
                      value: str) -> QuerySet[CitizenReport]:
        return queryset.filter(ticket__icontains=value.strip())
