from rest_framework.routers import DefaultRouter

from bihuan.areas.api.views import AreaViewSet
from bihuan.hazards.api.views import HazardViewSet
from bihuan.inspections.api.views import InspectionViewSet
from bihuan.places.api.views import PlaceViewSet

router = DefaultRouter()
router.register("areas", AreaViewSet, basename="area")
router.register("places", PlaceViewSet, basename="place")
router.register("inspections", InspectionViewSet, basename="inspection")
router.register("hazards", HazardViewSet, basename="hazard")

urlpatterns = router.urls
