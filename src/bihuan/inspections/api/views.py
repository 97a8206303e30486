from bihuan.core.api import ScopedReadOnlyViewSet
from bihuan.inspections.api.serializers import InspectionSerializer
from bihuan.inspections.filters import InspectionFilterSet
from bihuan.inspections.models import Inspection


class InspectionViewSet(ScopedReadOnlyViewSet):
    queryset = Inspection.objects.select_related("checklist", "inspector")
    serializer_class = InspectionSerializer
    filterset_class = InspectionFilterSet
    ordering = "-id"
