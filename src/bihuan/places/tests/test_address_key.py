"""Place.address_key: kept on every ORM write, filled by the migration, found by key."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from bihuan.imports import normalize as norm
from bihuan.places import models as place_models
from bihuan.places.choices import PlaceKind
from bihuan.places.models import Place, places_at_addresses, unkeyed_places_exist
from bihuan.places.services import register_place

pytestmark = pytest.mark.django_db


def stored_key(place: Place) -> str:
    return Place.objects.values_list("address_key", flat=True).get(pk=place.pk)


def new_place(world: Any, address: str, name: str = "出租房") -> Place:
    return Place.objects.create(name=name, kind=PlaceKind.RENTAL_HOUSE,
                                area=world.grids["baita-1"], address=address)


def found(queryset: Any, addresses: list[str], **kwargs: Any) -> list[int]:
    return sorted(p.pk for qs in places_at_addresses(queryset, addresses, **kwargs)
                  for p in qs)


def test_every_orm_write_keeps_the_key(world: Any) -> None:
    typed = "白塔村 １２号—3（东）"
    created = new_place(world, typed)
    assert stored_key(created) == norm.address_key(typed) == "白塔村12号3东"
    built = Place.objects.bulk_create([
        Place(name="甲", kind=PlaceKind.SHOP, area=world.grids["baita-1"], address="白塔村 ７号"),
        Place(name="乙", kind=PlaceKind.SHOP, area=world.grids["baita-1"], address="白塔村8号"),
    ])
    assert [stored_key(p) for p in built] == ["白塔村7号", "白塔村8号"]
    # Saving only the address still saves its key.
    created.address = "白塔村 ９号"
    created.save(update_fields=["address"])
    assert stored_key(created) == "白塔村9号"
    registered = register_place(actor=world.users["east_officer"], area=world.grids["baita-1"],
                                name="白塔村出租房丙", kind=PlaceKind.RENTAL_HOUSE,
                                address="  白塔村 ２０号 ")
    assert stored_key(registered) == "白塔村20号"


def test_places_are_found_by_key_and_unkeyed_ones_by_their_address(world: Any,
                                                                   monkeypatch: Any) -> None:
    keyed = new_place(world, "白塔村 １２号")
    unkeyed = new_place(world, "白塔村15号")
    other = new_place(world, "白塔村99号")
    # As COPY or raw SQL leaves it: no key.
    Place.objects.filter(pk=unkeyed.pk).update(address_key="")
    assert unkeyed_places_exist()
    wanted = ["白塔村12号", "白塔村15号", "白塔村-16号"]
    assert found(Place.objects.all(), wanted) == sorted([keyed.pk, unkeyed.pk])
    assert found(Place.objects.all(), wanted, unkeyed=False) == [keyed.pk]
    # The caller's own keys are used as given.
    assert found(Place.objects.all(), ["x"], keys={"x": "白塔村99号"}) == [other.pk]
    # In chunks, each place comes once.
    monkeypatch.setattr(place_models, "ADDRESS_LOOKUP_CHUNK", 1)
    chunks = list(places_at_addresses(Place.objects.all(), [*wanted, "白塔村 12 号"]))
    assert len(chunks) == 3  # three distinct keys
    assert found(Place.objects.all(), [*wanted, "白塔村 12 号"]) == sorted([keyed.pk,
                                                                          unkeyed.pk])


def test_any_of_matches_like_in(world: Any) -> None:
    a = new_place(world, "白塔村1号")
    b = new_place(world, "白塔村2号")
    assert sorted(Place.objects.filter(address_key__any_of=["白塔村1号", "白塔村2号", "无"])
                  .values_list("pk", flat=True)) == sorted([a.pk, b.pk])
    assert not Place.objects.filter(address_key__any_of=[]).exists()
    # A value with the separator the PostgreSQL form joins on still matches exactly.
    assert not Place.objects.filter(address_key__any_of=["白塔村1号\x1f白塔村2号"]).exists()
    assert list(Place.objects.filter(address_key__any_of=["白塔村1号\x1f", "白塔村2号"])
                .values_list("pk", flat=True)) == [b.pk]


def test_the_migration_fills_the_keys_of_existing_places(world: Any) -> None:
    places = [new_place(world, f"白塔村 {n} 号") for n in range(7)]
    Place.objects.update(address_key="")
    migration = importlib.import_module("bihuan.places.migrations.0002_place_address_key")
    # What the function uses of a schema editor (SQLite has none inside a test's
    # transaction).
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    migration.fill_address_keys(apps, editor)
    assert [stored_key(p) for p in places] == [f"白塔村{n}号" for n in range(7)]
    assert not unkeyed_places_exist()
