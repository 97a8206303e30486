"""Campaigns and their tasks: read-only lists and details, scoped by ``visible_to``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from bihuan.areas.filters import in_subtree
from bihuan.campaigns.api.serializers import CampaignSerializer, TaskSerializer
from bihuan.campaigns.choices import CampaignStatus
from bihuan.campaigns.filters import TaskFilterSet
from bihuan.campaigns.models import Campaign, Task
from bihuan.core.api import IdFilter, ScopedReadOnlyViewSet


class CampaignApiFilterSet(django_filters.FilterSet):
    """The UI list's status column as a filter, and the area subtree as elsewhere."""

    status = django_filters.ChoiceFilter(label=_("Status"), choices=CampaignStatus.choices,
                                         method="filter_status")
    area = django_filters.CharFilter(label=_("Area code"), method="filter_area")

    class Meta:
        model = Campaign
        fields = ["status", "area"]

    def filter_status(self, queryset: QuerySet[Campaign], name: str,
                      value: str) -> QuerySet[Campaign]:
        return queryset.in_status(value)  # type: ignore[attr-defined,no-any-return]

    def filter_area(self, queryset: QuerySet[Campaign], name: str,
                    value: str) -> QuerySet[Campaign]:
        return in_subtree(queryset, value)


class TaskApiFilterSet(TaskFilterSet):
    """The UI task list's filters, plus the campaign (an id: a huge number is a 400)."""

    campaign = IdFilter(field_name="campaign_id", label=_("Campaign"))

    class Meta(TaskFilterSet.Meta):
        fields = ["campaign", *TaskFilterSet.Meta.fields]


class CampaignViewSet(ScopedReadOnlyViewSet):
    queryset = Campaign.objects.select_related("area").prefetch_related("targets",
                                                                        "checklists")
    serializer_class = CampaignSerializer
    filterset_class = CampaignApiFilterSet
    ordering = ("-starts_on", "-id")


class CampaignTaskViewSet(ScopedReadOnlyViewSet):
    queryset = Task.objects.select_related("area", "org_unit")
    serializer_class = TaskSerializer
    filterset_class = TaskApiFilterSet
    ordering = ("due_on", "id")
