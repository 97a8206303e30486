"""Place counts follow every saved or deleted place, in the same transaction;
area moves and field roles renew the stamps that key the dashboard's cached pieces.

A derived count, not an audit record: ``bulk_create``/``update()`` slip past
signals, so bulk loads end with ``bihuan metrics rebuild`` (which renews every
stamp) and ``bihuan metrics verify`` compares the counts with the place table.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from bihuan.accounts.models import Membership
from bihuan.areas.models import Area
from bihuan.dashboard.models import AreaPlaceCount, new_stamp
from bihuan.places.models import Place

_OLD = "_dashboard_counted_as"


def _key(place: Any) -> tuple[int, str] | None:
    """What the place counts toward: (area, kind) when active, else nothing."""
    return (place.area_id, place.kind) if place.active and place.area_id else None


def add_place_counts(changes: dict[tuple[int, str], int]) -> None:
    table = connection.ops.quote_name(AreaPlaceCount._meta.db_table)
    with connection.cursor() as cursor:
        for (area_id, kind), amount in sorted(changes.items()):
            if amount:
                # A new stamp with every change: the dashboard's cached place counts
                # are keyed by the stamps (AreaStats.stamp explains why).
                cursor.execute(
                    f"INSERT INTO {table} (area_id, kind, places, stamp) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s) "
                    f"ON CONFLICT (area_id, kind) DO UPDATE SET places = {table}.places + "
                    "excluded.places, stamp = excluded.stamp",
                    [area_id, kind, amount, new_stamp()],
                )


_OLD_LOCATION = "_dashboard_located_at"


def _location(place: Any) -> tuple[Any, Any]:
    return (place.latitude, place.longitude)


@receiver(pre_save, sender=Place)
def _remember(sender: Any, instance: Place, raw: bool = False, **kwargs: Any) -> None:
    old = None
    location = None
    if instance.pk is not None and not instance._state.adding:
        row = (Place.objects.filter(pk=instance.pk)
               .values("area_id", "kind", "active", "latitude", "longitude").first())
        if row is not None and row["active"]:
            old = (row["area_id"], row["kind"])
            location = (row["latitude"], row["longitude"])
    setattr(instance, _OLD, old)
    setattr(instance, _OLD_LOCATION, location)


@receiver(post_save, sender=Place)
def _count(sender: Any, instance: Place, raw: bool = False, **kwargs: Any) -> None:
    old = getattr(instance, _OLD, None)
    new = _key(instance)
    if old == new:
        if new is not None and getattr(instance, _OLD_LOCATION, None) != _location(instance):
            # Same count, new location: the map's area outlines (convex hulls of the
            # places, cached under the place-count stamps) must be drawn again.
            AreaPlaceCount.objects.filter(area_id=new[0], kind=new[1]).update(stamp=new_stamp())
            setattr(instance, _OLD_LOCATION, _location(instance))
        return
    changes: dict[tuple[int, str], int] = {}
    if old is not None:
        changes[old] = changes.get(old, 0) - 1
    if new is not None:
        changes[new] = changes.get(new, 0) + 1
    add_place_counts(changes)
    setattr(instance, _OLD, new)


@receiver(post_delete, sender=Place)
def _uncount(sender: Any, instance: Place, **kwargs: Any) -> None:
    key = _key(instance)
    if key is not None:
        add_place_counts({key: -1})


def touch_areas(area_ids: set[int | None]) -> None:
    """New stamps on the areas' overall total rows (created, all zero, if missing).

    For changes the summary rows do not count but the dashboard's cached pieces
    depend on (an area moved, a field role granted or revoked): the stamps key
    those pieces (``bihuan.dashboard.metrics``), so the next request recomputes.
    """
    from bihuan.dashboard.summaries import upsert_totals

    upsert_totals({(area_id, 0): {} for area_id in area_ids if area_id})


@receiver(post_save, sender=Area)
def _area_saved(sender: Any, instance: Area, created: bool = False, raw: bool = False,
                **kwargs: Any) -> None:
    """An area saved again may have moved: its rows now count toward other parents.

    (A new area has no rows yet.)
    """
    if created or raw:
        return
    AreaPlaceCount.objects.filter(area_id=instance.pk).update(stamp=new_stamp())
    touch_areas({instance.pk})


_OLD_ROLE = "_dashboard_role_was"


def _field_role(role: str | None) -> bool:
    from bihuan.dashboard.metrics import FIELD_ROLES

    return role in FIELD_ROLES


@receiver(pre_save, sender=Membership)
def _remember_role(sender: Any, instance: Membership, raw: bool = False, **kwargs: Any
                   ) -> None:
    old = None
    if instance.pk is not None and not instance._state.adding:
        old = Membership.objects.filter(pk=instance.pk).values("area_id", "role").first()
    setattr(instance, _OLD_ROLE, old)


@receiver(post_save, sender=Membership)
def _role_saved(sender: Any, instance: Membership, raw: bool = False, **kwargs: Any) -> None:
    """The inspectors per area (the ranking's workload) follow field roles."""
    old = getattr(instance, _OLD_ROLE, None)
    areas: set[int | None] = set()
    if _field_role(instance.role):
        areas.add(instance.area_id)
    if old is not None and _field_role(old["role"]):
        areas.add(old["area_id"])
    touch_areas(areas)


@receiver(post_delete, sender=Membership)
def _role_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    if _field_role(instance.role):
        touch_areas({instance.area_id})
