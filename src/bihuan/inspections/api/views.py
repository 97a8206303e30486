"""Inspections: list/detail, and POST = submit a finished visit (``submit_inspection``)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from bihuan.core.api import ErrorSerializer, IdFilter, ScopedReadOnlyViewSet, client_ip
from bihuan.core.errors import ValidationFailed
from bihuan.hazards.services import EvidenceFile
from bihuan.inspections import services
from bihuan.inspections.api.serializers import InspectionSerializer, InspectionSubmitSerializer
from bihuan.inspections.filters import InspectionFilterSet
from bihuan.inspections.models import Inspection


def _findings(request: Request, data: dict[str, Any]) -> list[services.Finding]:
    found = []
    for finding in data["findings"]:
        photos = [
            EvidenceFile(content=p["content"], kind=p["kind"], name="photo",
                         taken_at=p["taken_at"], latitude=p["latitude"],
                         longitude=p["longitude"])
            for p in finding["photos"]
        ]
        for name in finding["files"]:
            upload = request.FILES.get(name)
            if upload is None:
                raise ValidationFailed(_("A finding names a file that was not sent."),
                                       field="findings")
            photos.append(EvidenceFile(content=upload.read(), kind="before",
                                       name=upload.name or "photo"))
        found.append(services.Finding(
            item_code=finding["item_code"], description=finding["description"],
            requirement=finding["requirement"], deadline=finding["deadline"],
            rectified_on_spot=finding["rectified_on_spot"], evidence=tuple(photos),
        ))
    return found


class InspectionApiFilterSet(InspectionFilterSet):
    place = IdFilter(field_name="place_id")


class InspectionViewSet(ScopedReadOnlyViewSet):
    queryset = Inspection.objects.select_related("checklist", "inspector").prefetch_related(
        "hazards")
    serializer_class = InspectionSerializer
    filterset_class = InspectionApiFilterSet
    ordering = "-id"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={"application/json": InspectionSubmitSerializer},
        responses={201: InspectionSerializer,
                   200: OpenApiResponse(InspectionSerializer,
                                        description="already submitted with this client_key"),
                   400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer,
                   422: ErrorSerializer},
        summary="Submit a finished inspection with its findings and photos",
    )
    def create(self, request: Request) -> Response:
        from bihuan.campaigns.models import Campaign
        from bihuan.checklists.models import Checklist

        body = InspectionSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        checklist = Checklist.objects.filter(pk=data["checklist"]).first()
        if checklist is None:
            raise ValidationFailed(_("This checklist version is not in use."),
                                   field="checklist")
        campaign = None
        if data["campaign"] is not None:
            campaign = Campaign.objects.visible_to(request.user).filter(
                pk=data["campaign"]).first()
            if campaign is None:
                raise ValidationFailed(field="campaign")
        try:
            carried = {int(k): v for k, v in data["carried"].items()}
        except ValueError:
            raise ValidationFailed(_("A carried-forward hazard is not open at this place."),
                                   field="carried") from None
        signature = data["signature"]
        if "signature" in request.FILES:
            signature = request.FILES["signature"].read()
        key = data["client_key"]
        existed = key is not None and self.get_queryset().filter(client_key=key).exists()
        try:
            inspection = services.submit_inspection(
                actor=request.user, place=data["place"], kind=data["kind"],
                checklist=checklist, results=dict(data["results"]),
                findings=_findings(request, data), carried=carried, campaign=campaign,
                started_at=data["started_at"], client_key=key, note=data["note"],
                client_ip=client_ip(request), signature=signature,
                signed_by_name=data["signed_by_name"],
            )
        except IntegrityError:
            # The key belongs to an inspection this user cannot see: never say whose.
            raise ValidationFailed(_("This client key is already used. Generate a new one."),
                                   field="client_key") from None
        inspection = self.get_queryset().get(pk=inspection.pk)
        return Response(InspectionSerializer(inspection).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)
