"""Hazards: list/detail with the UI's filters, history, and one POST per transition.

Every action calls the one service function for it (``hazards.services``) with the
``version`` the client read: a stale version is a 409, an out-of-scope hazard a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from bihuan.core.api import ErrorSerializer, IdFilter, ScopedReadOnlyViewSet, client_ip
from bihuan.core.errors import NotFound, ValidationFailed
from bihuan.hazards import services
from bihuan.hazards.api import serializers as s
from bihuan.hazards.choices import EvidenceKind, HazardAction
from bihuan.hazards.filters import HazardFilterSet
from bihuan.hazards.models import Hazard

A = HazardAction

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="invalid request (nothing written)"),
    403: OpenApiResponse(ErrorSerializer, description="your role may not take this action"),
    404: OpenApiResponse(ErrorSerializer, description="no such hazard in your scope"),
    409: OpenApiResponse(ErrorSerializer, description="stale version or wrong state"),
    422: OpenApiResponse(ErrorSerializer, description="idempotency key reused"),
}
PARSERS = [JSONParser, MultiPartParser, FormParser]


class HazardApiFilterSet(HazardFilterSet):
    """The UI's filters; ids bounded so a huge number is a 400, not a database error."""

    campaign = IdFilter(field_name="campaign_id")
    place = IdFilter(field_name="place_id")


def _transition_schema(body: type, summary: str) -> Callable[[Any], Any]:
    return extend_schema(request={"application/json": body}, summary=summary,
                         responses={200: s.HazardSerializer, **ERRORS})


class HazardViewSet(ScopedReadOnlyViewSet):
    queryset = Hazard.objects.select_related("area")
    serializer_class = s.HazardSerializer
    filterset_class = HazardApiFilterSet
    ordering = ("-registered_at", "-id")
    parser_classes = PARSERS

    # ------------------------------------------------------------ reading

    @extend_schema(responses=s.HazardEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        events = hazard.events.select_related("actor").order_by("seq")
        return Response(s.HazardEventSerializer(events, many=True).data)

    @extend_schema(responses=s.EvidenceSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def evidence(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        rows = hazard.evidence.select_related("event").order_by("uploaded_at", "id")
        return Response(s.EvidenceSerializer(rows, many=True).data)

    @extend_schema(responses=s.ExtensionRequestSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        rows = hazard.extensions.select_related("requested_by", "decided_by")
        return Response(s.ExtensionRequestSerializer(rows, many=True).data)

    # ------------------------------------------------------------ registering

    @extend_schema(request={"application/json": s.HazardRegisterSerializer,
                            "multipart/form-data": s.HazardRegisterSerializer},
                   responses={201: s.HazardSerializer, **ERRORS},
                   summary="Register a hazard found at a place")
    def create(self, request: Request) -> Response:
        from bihuan.campaigns.models import Campaign
        from bihuan.places.models import Place
        from bihuan.reports.services import item_for_code

        body = s.HazardRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        place = Place.objects.visible_to(request.user).filter(pk=data["place"]).first()
        if place is None:
            raise NotFound()
        campaign = None
        if data["campaign"] is not None:
            campaign = Campaign.objects.visible_to(request.user).filter(
                pk=data["campaign"]).first()
            if campaign is None:
                raise ValidationFailed(field="campaign")
        hazard = services.register_hazard(
            actor=request.user, place=place, item=item_for_code(place, data["item_code"]),
            description=data["description"], requirement=data["requirement"],
            deadline=data["deadline"], rectified_on_spot=data["rectified_on_spot"],
            evidence=s.evidence_from(data, EvidenceKind.BEFORE), campaign=campaign,
            client_ip=client_ip(request),
        )
        return Response(s.HazardSerializer(hazard).data, status=status.HTTP_201_CREATED)

    # ------------------------------------------------------------ the loop

    def _act(self, request: Request, pk: str | None, body_class: type,
             call: Callable[[int, dict[str, Any], dict[str, Any]], Any]) -> Response:
        hazard = self.get_object()  # out of scope: 404 before the body is even read
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        common = {"actor": request.user, "expected_version": data.pop("version"),
                  "client_ip": client_ip(request)}
        call(hazard.pk, data, common)
        hazard.refresh_from_db()
        return Response(s.HazardSerializer(hazard).data)

    @_transition_schema(s.ConfirmSerializer, "Confirm a reported hazard (→ rectifying)")
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ConfirmSerializer, lambda h, d, c:
                         services.confirm_report(h, requirement=d["requirement"],
                                                 deadline=d["deadline"], **c))

    @_transition_schema(s.ReasonSerializer, "Dismiss a reported hazard")
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ReasonSerializer, lambda h, d, c:
                         services.dismiss_report(h, reason=d["reason"], **c))

    @extend_schema(request={"application/json": s.RectificationSerializer,
                            "multipart/form-data": s.RectificationSerializer},
                   responses={200: s.HazardSerializer, **ERRORS},
                   summary="Submit the rectification with after-photos (→ pending verification)")
    @action(detail=True, methods=["post"], url_path="submit-rectification")
    def submit_rectification(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.RectificationSerializer, lambda h, d, c:
                         services.submit_rectification(h, evidence=s.evidence_from(d),
                                                       note=d["note"], **c))

    @_transition_schema(s.NoteSerializer, "Verify and close (验收销号)")
    @action(detail=True, methods=["post"], url_path="verify-pass")
    def verify_pass(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.NoteSerializer, lambda h, d, c:
                         services.pass_verification(h, note=d["note"], **c))

    @_transition_schema(s.ReasonDeadlineSerializer, "Fail the verification (→ rectifying)")
    @action(detail=True, methods=["post"], url_path="verify-fail")
    def verify_fail(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ReasonDeadlineSerializer, lambda h, d, c:
                         services.fail_verification(h, reason=d["reason"],
                                                    deadline=d["deadline"], **c))

    @_transition_schema(s.HandOverSerializer, "Hand over to law enforcement")
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.HandOverSerializer, lambda h, d, c:
                         services.hand_over_to_enforcement(h, reason=d["reason"],
                                                           department=d["department"], **c))

    @_transition_schema(s.ReasonDeadlineSerializer, "Record the enforcement result")
    @action(detail=True, methods=["post"], url_path="enforcement-result")
    def enforcement_result(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ReasonDeadlineSerializer, lambda h, d, c:
                         services.record_enforcement_result(h, reason=d["reason"],
                                                            deadline=d["deadline"], **c))

    @_transition_schema(s.NoteSerializer, "Look-back passed (回头看)")
    @action(detail=True, methods=["post"], url_path="look-back-pass")
    def look_back_pass(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.NoteSerializer, lambda h, d, c:
                         services.pass_look_back(h, note=d["note"], **c))

    @_transition_schema(s.ReasonDeadlineSerializer, "Look-back failed: reopen")
    @action(detail=True, methods=["post"], url_path="look-back-fail")
    def look_back_fail(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ReasonDeadlineSerializer, lambda h, d, c:
                         services.fail_look_back(h, reason=d["reason"],
                                                 deadline=d["deadline"], **c))

    @_transition_schema(s.ReasonSerializer, "Void the hazard")
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ReasonSerializer, lambda h, d, c:
                         services.void_hazard(h, reason=d["reason"], **c))

    @_transition_schema(s.RequestExtensionSerializer, "Request an extension (延期申请)")
    @action(detail=True, methods=["post"], url_path="request-extension")
    def request_extension(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.RequestExtensionSerializer, lambda h, d, c:
                         services.request_extension(h, reason=d["reason"],
                                                    requested_deadline=d["requested_deadline"],
                                                    **c))

    @_transition_schema(s.OptionalReasonSerializer, "Approve the pending extension")
    @action(detail=True, methods=["post"], url_path="approve-extension")
    def approve_extension(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.OptionalReasonSerializer, lambda h, d, c:
                         services.decide_extension(h, approve=True, reason=d["reason"], **c))

    @_transition_schema(s.ReasonSerializer, "Refuse the pending extension")
    @action(detail=True, methods=["post"], url_path="refuse-extension")
    def refuse_extension(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.ReasonSerializer, lambda h, d, c:
                         services.decide_extension(h, approve=False, reason=d["reason"], **c))

    @_transition_schema(s.MajorDecisionSerializer, "Record a collective decision: major")
    @action(detail=True, methods=["post"], url_path="decide-major")
    def decide_major(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.MajorDecisionSerializer, lambda h, d, c:
                         services.decide_major(h, confirmed=True, **d, **c))

    @_transition_schema(s.MajorDecisionSerializer, "Record a collective decision: not major")
    @action(detail=True, methods=["post"], url_path="reject-major")
    def reject_major(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.MajorDecisionSerializer, lambda h, d, c:
                         services.decide_major(h, confirmed=False, **d, **c))

    @_transition_schema(s.SupervisionSerializer, "List for supervision (挂牌督办)")
    @action(detail=True, methods=["post"], url_path="list-supervision")
    def list_supervision(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.SupervisionSerializer, lambda h, d, c:
                         services.list_supervision(h, **d, **c))

    @_transition_schema(s.OptionalReasonSerializer, "De-list from supervision (摘牌)")
    @action(detail=True, methods=["post"], url_path="delist-supervision")
    def delist_supervision(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, s.OptionalReasonSerializer, lambda h, d, c:
                         services.delist_supervision(h, reason=d["reason"], **c))

    # ------------------------------------------------------------ the older single endpoint

    @extend_schema(request={"application/json": s.TransitionSerializer},
                   responses={200: s.HazardSerializer, **ERRORS},
                   summary="Any of the older transitions by name (prefer the actions above)")
    @action(detail=True, methods=["post"], serializer_class=s.TransitionSerializer)
    def transition(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        form = s.TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        common = {"actor": request.user, "expected_version": data["expected_version"],
                  "client_ip": client_ip(request)}
        act = A(data["action"])
        reason, deadline = data["reason"], data["deadline"]
        if act == A.CONFIRM:
            services.confirm_report(hazard, requirement=data["requirement"], deadline=deadline,
                                    **common)
        elif act == A.DISMISS:
            services.dismiss_report(hazard, reason=reason, **common)
        elif act == A.VERIFY_PASS:
            services.pass_verification(hazard, note=reason, **common)
        elif act == A.VERIFY_FAIL:
            services.fail_verification(hazard, reason=reason, deadline=deadline, **common)
        elif act == A.HAND_OVER:
            services.hand_over_to_enforcement(hazard, reason=reason, **common)
        elif act == A.ENFORCEMENT_RESULT:
            services.record_enforcement_result(hazard, reason=reason, deadline=deadline,
                                               **common)
        elif act == A.LOOK_BACK_PASS:
            services.pass_look_back(hazard, note=reason, **common)
        elif act == A.LOOK_BACK_FAIL:
            services.fail_look_back(hazard, reason=reason, deadline=deadline, **common)
        elif act == A.VOID:
            services.void_hazard(hazard, reason=reason, **common)
        elif act == A.REQUEST_EXTENSION:
            services.request_extension(hazard, reason=reason, requested_deadline=deadline,
                                       **common)
        elif act in (A.APPROVE_EXTENSION, A.REFUSE_EXTENSION):
            services.decide_extension(hazard, approve=act == A.APPROVE_EXTENSION,
                                      reason=reason, **common)
        hazard.refresh_from_db()
        return Response(s.HazardSerializer(hazard).data)
