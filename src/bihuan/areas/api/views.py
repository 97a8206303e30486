from bihuan.areas.api.serializers import AreaSerializer
from bihuan.areas.filters import AreaFilterSet
from bihuan.areas.models import Area
from bihuan.core.api import ScopedReadOnlyViewSet


class AreaViewSet(ScopedReadOnlyViewSet):
    queryset = Area.objects.select_related("parent")
    serializer_class = AreaSerializer
    filterset_class = AreaFilterSet
    ordering = "path"
