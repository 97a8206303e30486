"""The one mechanism that limits a queryset to what a user may see.

A model whose rows live in an area and concern a place kind declares where to
find those (``scope_area_path`` and ``scope_place_kind`` lookups) and, for the
responsible party and the citizen, how it relates to them. ``ScopedQuerySet``
turns the user's :class:`~bihuan.accounts.scopes.Scope` into one filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.db import models
from django.db.models import Q

from bihuan.accounts.scopes import Scope, scope_of

if TYPE_CHECKING:
    from bihuan.accounts.models import User

M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[M]):
    """Subclasses set the lookups from the model to its area path, kind, party user."""

    area_path_lookup: ClassVar[str]
    place_kind_lookup: ClassVar[str]
    party_user_lookup: ClassVar[str | None] = None
    citizen_lookup: ClassVar[str | None] = None

    def scope_filter(self, user: User | Any) -> Q | None:
        """The filter for ``user``; ``None`` means nothing at all is visible."""
        return self.scope_condition(scope_of(user))

    def scope_condition(self, scope: Scope) -> Q | None:
        """The filter for a user of ``scope`` (:meth:`scope_filter`)."""
        condition = Q()
        matched = False
        for path in scope.area_paths:
            condition |= Q(**{f"{self.area_path_lookup}__startswith": path})
            matched = True
        for city_path, kinds in scope.kind_grants:
            if kinds:
                condition |= Q(
                    **{
                        f"{self.area_path_lookup}__startswith": city_path,
                        f"{self.place_kind_lookup}__in": sorted(kinds),
                    }
                )
                matched = True
        if scope.is_party and self.party_user_lookup:
            condition |= Q(**{self.party_user_lookup: scope.user_id})
            matched = True
        if scope.is_citizen and self.citizen_lookup:
            condition |= Q(**{self.citizen_lookup: scope.user_id})
            matched = True
        extra = self.own_records(scope)
        if extra is not None:
            condition |= extra
            matched = True
        return condition if matched else None

    def own_records(self, scope: Any) -> Q | None:
        """Rows visible to the user as their own work outside their area scope."""
        return None

    def visible_to(self, user: User | Any) -> ScopedQuerySet[M]:
        condition = self.scope_filter(user)
        if condition is None:
            return self.none()
        return self.filter(condition)
