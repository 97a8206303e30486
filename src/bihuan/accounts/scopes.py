"""What a user may see: the one place that turns memberships into a scope.

Every ``visible_to(user)`` queryset method asks :func:`scope_of` and nothing
else, so lists, details, the API, exports and the dashboard agree.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from bihuan.accounts.choices import ADMIN_ROLES, AREA_ROLES, Role
from bihuan.core.compiled import Compiled


@dataclass(frozen=True)
class RoleGrant:
    """One role held over an area subtree (``area_path``) or place kinds city-wide."""

    role: str
    area_path: str | None
    place_kinds: frozenset[str] = frozenset()
    area_level: str | None = None


@dataclass(frozen=True)
class Scope:
    grants: tuple[RoleGrant, ...] = ()
    # Area subtrees in which the user sees every place.
    area_paths: list[str] = field(default_factory=list)
    # (city path, place kinds): departments see their kinds in the whole city.
    kind_grants: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    city_wide_paths: list[str] = field(default_factory=list)
    user_id: int | None = None
    is_party: bool = False
    is_citizen: bool = False
    admin_roles: frozenset[str] = frozenset()

    @property
    def sees_nothing(self) -> bool:
        return not (self.area_paths or self.kind_grants or self.is_party or self.is_citizen)

    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def grants_for(self, area_path: str, place_kind: str) -> list[RoleGrant]:
        """The grants that cover an object in ``area_path`` of ``place_kind``."""
        found = []
        for grant in self.grants:
            if grant.area_path is None or not area_path.startswith(grant.area_path):
                continue
            if grant.role == Role.DEPT_INSPECTOR and place_kind not in grant.place_kinds:
                continue
            found.append(grant)
        return found


_CACHE_ATTR = "_bihuan_scope"


def scope_of(user: Any) -> Scope:
    """The user's scope, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached: Scope | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    grants: list[RoleGrant] = []
    area_paths: list[str] = []
    kind_grants: list[tuple[str, frozenset[str]]] = []
    admin_roles: set[str] = set()
    is_party = is_citizen = False
    for role, area_path, area_level, org_unit_id, place_kinds, org_path, org_level in (
        _memberships(user.pk)
    ):
        if role in AREA_ROLES and area_path is not None:
            grants.append(RoleGrant(role, area_path, area_level=area_level))
            area_paths.append(area_path)
        elif role == Role.DEPT_INSPECTOR and org_unit_id is not None:
            kinds = frozenset(place_kinds or [])
            grants.append(RoleGrant(role, org_path, kinds, org_level))
            kind_grants.append((org_path, kinds))
        elif role == Role.PARTY:
            is_party = True
            grants.append(RoleGrant(role, None))
        elif role == Role.CITIZEN:
            is_citizen = True
            grants.append(RoleGrant(role, None))
        elif role in ADMIN_ROLES:
            admin_roles.add(role)
            grants.append(RoleGrant(role, None))
    scope = Scope(
        grants=tuple(grants),
        area_paths=_minimal_paths(area_paths),
        kind_grants=kind_grants,
        city_wide_paths=[],
        user_id=user.pk,
        is_party=is_party,
        is_citizen=is_citizen,
        admin_roles=frozenset(admin_roles),
    )
    setattr(user, _CACHE_ATTR, scope)
    return scope


# Stands for the user's id in the compiled membership query; no user has a negative id.
_ANY_USER = -7_340_912_658_131


@functools.cache
def _memberships_query() -> Compiled:
    from bihuan.accounts.models import Membership

    return Compiled.of(
        Membership.objects.filter(user_id=_ANY_USER, active=True).order_by().values_list(
            "role", "area__path", "area__level", "org_unit_id", "org_unit__place_kinds",
            "org_unit__area__path", "org_unit__area__level"),
        required=("user",), user=_ANY_USER,
    )


def _memberships(user_id: int) -> list[tuple[Any, ...]]:
    """The user's active memberships, with their areas' and departments' paths and levels.

    Every request of a logged-in user asks this once: the query is compiled once.
    """
    from django.db import connection

    query = _memberships_query()
    with connection.cursor() as cursor:
        cursor.execute(*query.statement(user=user_id))
        return query.rows(cursor.fetchall())


def forget_scope(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _minimal_paths(paths: list[str]) -> list[str]:
    """Drop paths already covered by an ancestor path (fewer OR terms in SQL)."""
    result: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(p) for p in result):
            result.append(path)
    return result
