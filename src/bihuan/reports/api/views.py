"""Citizen reports: the triage list (the UI's filters) and the three triage decisions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from bihuan.core.api import ErrorSerializer, ScopedReadOnlyViewSet, client_ip
from bihuan.core.errors import NotFound
from bihuan.hazards.api.serializers import HazardSerializer
from bihuan.places.models import Place
from bihuan.reports import services
from bihuan.reports.api.serializers import (
    AcceptSerializer,
    CitizenReportSerializer,
    DismissSerializer,
    DuplicateSerializer,
)
from bihuan.reports.filters import CitizenReportFilterSet
from bihuan.reports.models import CitizenReport

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
          409: ErrorSerializer, 422: ErrorSerializer}


class CitizenReportViewSet(ScopedReadOnlyViewSet):
    queryset = CitizenReport.objects.select_related("area", "duplicate_of")
    serializer_class = CitizenReportSerializer
    filterset_class = CitizenReportFilterSet
    ordering = ("-created_at", "-id")

    @extend_schema(request={"application/json": AcceptSerializer},
                   responses={200: HazardSerializer, **ERRORS},
                   summary="Accept the report as a hazard at a place (it starts reported)")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        report = self.get_object()
        body = AcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        place = Place.objects.visible_to(request.user).filter(pk=data["place"]).first()
        if place is None:
            raise NotFound()
        hazard = services.triage_accept(
            actor=request.user, report=report, place=place,
            item=services.item_for_code(place, data["item_code"]),
            description=data["description"], client_ip=client_ip(request),
        )
        return Response(HazardSerializer(hazard).data)

    @extend_schema(request={"application/json": DismissSerializer},
                   responses={200: CitizenReportSerializer, **ERRORS},
                   summary="Dismiss the report with a reason the reporter will read")
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        report = self.get_object()
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.triage_dismiss(actor=request.user, report=report,
                                         reason=body.validated_data["reason"],
                                         client_ip=client_ip(request))
        return Response(CitizenReportSerializer(self.get_queryset().get(pk=report.pk)).data)

    @extend_schema(request={"application/json": DuplicateSerializer},
                   responses={200: CitizenReportSerializer, **ERRORS},
                   summary="Mark the report a duplicate of an earlier one")
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk: str | None = None) -> Response:
        report = self.get_object()
        body = DuplicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.mark_duplicate(actor=request.user, report=report,
                                         of=body.validated_data["of"],
                                         client_ip=client_ip(request))
        return Response(CitizenReportSerializer(self.get_queryset().get(pk=report.pk)).data)
