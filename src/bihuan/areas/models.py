"""The territorial tree: city → town → village → grid.

Each area stores its materialised ``path`` (codes joined by ``/``, ending in
``/``), so a subtree is one indexed ``path LIKE 'prefix%'`` query, never a
recursion per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.areas.choices import LEVEL_DEPTH, AreaLevel

if TYPE_CHECKING:
    from bihuan.accounts.models import User


class AreaQuerySet(models.QuerySet["Area"]):
    def subtree(self, area: Area) -> AreaQuerySet:
        return self.filter(path__startswith=area.path)

    def under_any(self, paths: list[str]) -> AreaQuerySet:
        if not paths:
            return self.none()
        condition = Q()
        for path in paths:
            condition |= Q(path__startswith=path)
        return self.filter(condition)

    def visible_to(self, user: User) -> AreaQuerySet:
        from bihuan.accounts.scopes import scope_of

        scope = scope_of(user)
        return self.under_any(scope.area_paths + [path for path, _ in scope.kind_grants])


class Area(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        indexes = [
            # LIKE 'prefix%' on PostgreSQL needs the pattern operator class.
            models.Index(fields=["path"], name="area_path_like",
                         opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = self.compute_path()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[AreaLevel(self.level)]

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id and self.parent else ""
        return f"{prefix}{self.code}/"

    def ancestors(self) -> models.QuerySet[Area]:
        codes = [c for c in self.path.split("/") if c]
        return Area.objects.filter(code__in=codes[:-1])

    @property
    def town_path(self) -> str:
        """The path of the town this area is in (its own for a town; the city's for the
        city), from the path alone."""
        return "".join(f"{code}/" for code in self.path.split("/")[:2] if code)

    def town(self) -> Area | None:
        """The town this area is in (itself for a town), ``None`` for the city."""
        if self.town_path.count("/") < 2:
            return None
        return Area.objects.get(path=self.town_path)
