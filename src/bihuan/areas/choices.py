from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    CITY = "city", _("City")
    TOWN = "town", _("Town / subdistrict")
    VILLAGE = "village", _("Village / community")
    GRID = "grid", _("Grid")


LEVEL_DEPTH = {AreaLevel.CITY: 0, AreaLevel.TOWN: 1, AreaLevel.VILLAGE: 2, AreaLevel.GRID: 3}
