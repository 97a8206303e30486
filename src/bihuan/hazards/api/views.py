from typing import Any

from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from bihuan.core.api import ScopedReadOnlyViewSet
from bihuan.hazards import services
from bihuan.hazards.api.serializers import (
    HazardEventSerializer,
    HazardSerializer,
    TransitionSerializer,
)
from bihuan.hazards.choices import HazardAction
from bihuan.hazards.filters import HazardFilterSet
from bihuan.hazards.models import Hazard

A = HazardAction


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class HazardViewSet(ScopedReadOnlyViewSet):
    queryset = Hazard.objects.select_related("area")
    serializer_class = HazardSerializer
    filterset_class = HazardFilterSet
    ordering = ("-registered_at", "-id")

    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        events = hazard.events.select_related("actor").order_by("seq")
        return Response(HazardEventSerializer(events, many=True).data)

    @action(detail=True, methods=["post"], serializer_class=TransitionSerializer)
    def transition(self, request: Request, pk: str | None = None) -> Response:
        hazard = self.get_object()
        form = TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        common = {"actor": request.user, "expected_version": data["expected_version"],
                  "client_ip": _client_ip(request)}
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
        return Response(HazardSerializer(hazard).data)
