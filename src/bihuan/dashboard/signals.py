"""Place counts follow every saved or deleted place, in the same transaction.

A derived count, not an audit record: ``bulk_create``/``update()`` slip past
signals, so bulk loads end with ``bihuan metrics rebuild`` and ``bihuan metrics
verify`` compares the counts with the place table.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from bihuan.dashboard.models import AreaPlaceCount
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
                cursor.execute(
                    f"INSERT INTO {table} (area_id, kind, places) VALUES (%s, %s, %s) "  # noqa: S608
                    f"ON CONFLICT (area_id, kind) DO UPDATE SET places = {table}.places + "
                    "excluded.places",
                    [area_id, kind, amount],
                )


@receiver(pre_save, sender=Place)
def _remember(sender: Any, instance: Place, raw: bool = False, **kwargs: Any) -> None:
    old = None
    if instance.pk is not None and not instance._state.adding:
        row = Place.objects.filter(pk=instance.pk).values("area_id", "kind", "active").first()
        if row is not None and row["active"]:
            old = (row["area_id"], row["kind"])
    setattr(instance, _OLD, old)


@receiver(post_save, sender=Place)
def _count(sender: Any, instance: Place, raw: bool = False, **kwargs: Any) -> None:
    old = getattr(instance, _OLD, None)
    new = _key(instance)
    if old == new:
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
