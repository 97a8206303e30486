"""One filter set per list: the page, its print view and its CSV export share it."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from bihuan.areas.filters import in_subtree
from bihuan.campaigns.choices import Duty, TaskStatus
from bihuan.campaigns.models import Responsibility, Task, TaskQuerySet
from bihuan.core import clock
from bihuan.places.choices import PlaceKind


class TaskFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TaskStatus.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue")
    area = django_filters.CharFilter(label=_("Area code"), method="filter_area")
    place_kind = django_filters.ChoiceFilter(label=_("Place kind"), choices=PlaceKind.choices)

    class Meta:
        model = Task
        fields = ["status", "overdue", "area", "place_kind"]

    def filter_overdue(self, queryset: TaskQuerySet, name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        overdue = queryset.overdue(clock.today())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_area(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return in_subtree(queryset, value)


class ResponsibilityFilterSet(django_filters.FilterSet):
    duty = django_filters.ChoiceFilter(label=_("Duty"), choices=Duty.choices)
    area = django_filters.CharFilter(label=_("Area code"), method="filter_area")
    place_kind = django_filters.ChoiceFilter(label=_("Place kind"), choices=PlaceKind.choices)

    class Meta:
        model = Responsibility
        fields = ["duty", "area", "place_kind"]

    def filter_area(self, queryset: QuerySet[Responsibility], name: str,
                    value: str) -> QuerySet[Responsibility]:
        return in_subtree(queryset, value)
