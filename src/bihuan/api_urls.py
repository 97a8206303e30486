"""The REST API (``/api/``): one router, the OpenAPI schema and its local docs page."""

from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from bihuan.areas.api.views import AreaViewSet
from bihuan.campaigns.api.views import CampaignTaskViewSet, CampaignViewSet
from bihuan.hazards.api.views import HazardViewSet
from bihuan.inspections.api.views import InspectionViewSet
from bihuan.places.api.views import PartyViewSet, PlaceViewSet
from bihuan.reports.api.views import CitizenReportViewSet

router = DefaultRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("places", PlaceViewSet, basename="place")
router.register("parties", PartyViewSet, basename="party")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("hazards", HazardViewSet, basename="hazard")
router.register("reports", CitizenReportViewSet, basename="citizen-report")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("campaign-tasks", CampaignTaskViewSet, basename="campaign-task")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", ensure_csrf_cookie(TemplateView.as_view(template_name="core/api_docs.html")),
         name="api-docs"),
    *router.urls,
]
