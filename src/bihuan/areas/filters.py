from typing import Any, TypeVar

import django_filters
from django.db.models import QuerySet

from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area

Q = TypeVar("Q", bound=QuerySet[Any])


def in_subtree(queryset: Q, code: str, lookup: str = "area__path") -> Q:
    """``queryset`` limited to the subtree of the area with ``code`` (the filter of the
    lists' "area" field); an unknown code matches nothing."""
    area = Area.objects.filter(code=code).first()
    if area is None:
        return queryset.none()
    return queryset.filter(**{f"{lookup}__startswith": area.path})


class AreaFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=AreaLevel.choices)
    parent = django_filters.CharFilter(field_name="parent__code")
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Area
        fields = ["level", "parent", "q"]
