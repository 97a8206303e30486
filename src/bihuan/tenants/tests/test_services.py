from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.core.management import call_command

from bihuan.audit.models import AuditEntry
from bihuan.core import crypto
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.tenants import services
from bihuan.tenants.models import ID_NUMBER_PURPOSE, Tenant
from bihuan.tenants.tests.helpers import id_number, with_wrong_check_digit

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 9, 14)


def register(world, *, actor="baita_grid_worker", place="baita_rental", serial=1, room="101",
             moved_in_on=dt.date(2026, 3, 1), **extra):
    values = {"name": "租客甲", "id_number": id_number(serial), "phone": "13812345678",
              "room": room, "moved_in_on": moved_in_on, **extra}
    return services.register_tenant(actor=world.users[actor],
                                    place_pk=world.places[place].pk, **values)


def test_a_grid_worker_registers_a_tenant_sealed_and_audited(world):
    tenant = register(world)
    stored = Tenant.objects.values().get(pk=tenant.pk)
    assert id_number(1) not in str(stored)
    assert "13812345678" not in str(stored)
    assert tenant.id_number() == id_number(1)
    assert tenant.masked_id_number == id_number(1)[:6] + "********" + id_number(1)[-4:]
    assert tenant.masked_phone == "138****5678"
    entry = AuditEntry.objects.get(action="tenants.register")
    assert entry.object_id == str(tenant.pk)
    assert id_number(1) not in str(entry.data)


def test_the_landlord_registers_tenants_of_their_own_place_only(world):
    assert register(world, actor="landlord").place == world.places["baita_rental"]
    with pytest.raises(NotFound):
        register(world, actor="shopkeeper", serial=2)


def test_nobody_registers_tenants_out_of_scope_or_in_a_shop(world):
    with pytest.raises(NotFound):
        register(world, actor="west_officer")
    with pytest.raises(NotFound):
        register(world, actor="market_inspector")
    with pytest.raises(PermissionDenied):
        register(world, place="baita_shop")
    assert not Tenant.objects.exists()


def test_bad_input_writes_nothing(world):
    for bad in ({"id_number": with_wrong_check_digit(id_number(1))}, {"phone": "12345"},
                {"room": " "}, {"name": ""}, {"moved_in_on": TODAY + dt.timedelta(days=1)}):
        with pytest.raises(ValidationFailed):
            register(world, **bad)
    assert not Tenant.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="tenants.").exists()


def test_the_same_person_lives_once_in_a_place_until_moving_out(world):
    first = register(world)
    with pytest.raises(ValidationFailed):
        register(world, room="102")
    services.record_move_out(actor=world.users["baita_grid_worker"], tenant_pk=first.pk,
                             moved_out_on=TODAY)
    assert register(world, room="102").pk != first.pk


def test_moving_out_is_checked_and_audited(world):
    tenant = register(world)
    worker = world.users["baita_grid_worker"]
    with pytest.raises(ValidationFailed):
        services.record_move_out(actor=worker, tenant_pk=tenant.pk,
                                 moved_out_on=dt.date(2026, 2, 1))
    with pytest.raises(NotFound):
        services.record_move_out(actor=world.users["loutang_grid_worker"], tenant_pk=tenant.pk,
                                 moved_out_on=TODAY)
    services.record_move_out(actor=worker, tenant_pk=tenant.pk, moved_out_on=TODAY)
    with pytest.raises(ValidationFailed):
        services.record_move_out(actor=worker, tenant_pk=tenant.pk, moved_out_on=TODAY)
    assert AuditEntry.objects.filter(action="tenants.move_out").count() == 1


def test_exact_lookup_finds_by_the_keyed_hash_within_scope(world):
    tenant = register(world)
    assert services.find_by_id_number(world.users["east_officer"], id_number(1)) == [tenant]
    assert services.find_by_id_number(world.users["west_officer"], id_number(1)) == []
    assert services.find_by_id_number(world.users["east_officer"], id_number(2)) == []


def test_occupancy_counts_people_living_there_per_room_and_flags_overcrowding(world, settings):
    settings.BIHUAN_TENANTS_MAX_PER_ROOM = 2
    for serial in (1, 2, 3):
        register(world, serial=serial, room="101")
    register(world, serial=4, room="102")
    gone = register(world, serial=5, room="102")
    services.record_move_out(actor=world.users["baita_grid_worker"], tenant_pk=gone.pk,
                             moved_out_on=dt.date(2026, 9, 1))
    place = world.places["baita_rental"]
    rooms = {r.room: r.people for r in services.occupancy(place)}
    assert rooms == {"101": 3, "102": 1}
    assert [r.room for r in services.overcrowded_rooms(place)] == ["101"]
    # On a day before the fifth tenant left, room 102 had two.
    assert {r.room: r.people for r in services.occupancy(place, dt.date(2026, 8, 1))}["102"] == 2
    settings.BIHUAN_TENANTS_MAX_PER_ROOM = 3
    assert services.overcrowded_rooms(place) == []


def test_moved_out_tenants_are_purged_after_the_retention_period(world, settings):
    settings.BIHUAN_TENANTS_RETENTION_DAYS = 180
    worker = world.users["baita_grid_worker"]
    old = register(world, serial=1, moved_in_on=dt.date(2025, 1, 1))
    recent = register(world, serial=2, moved_in_on=dt.date(2025, 1, 1))
    staying = register(world, serial=3, moved_in_on=dt.date(2025, 1, 1))
    services.record_move_out(actor=worker, tenant_pk=old.pk, moved_out_on=dt.date(2026, 3, 1))
    services.record_move_out(actor=worker, tenant_pk=recent.pk,
                             moved_out_on=dt.date(2026, 6, 1))
    call_command("tenants", "purge", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(Tenant.objects.values_list("pk", flat=True)) == {recent.pk, staying.pk}
    entry = AuditEntry.objects.get(action="tenants.purge")
    assert entry.data["tenants"] == [old.pk]
    assert entry.data["moved_out_before"] == "2026-03-18"
    assert services.purge_moved_out() == 0
    assert AuditEntry.objects.filter(action="tenants.purge").count() == 1


def test_the_purge_task_runs_the_same_service(world, settings):
    from bihuan.tenants.tasks import purge_moved_out_tenants

    settings.BIHUAN_TENANTS_RETENTION_DAYS = 10
    tenant = register(world, moved_in_on=dt.date(2026, 1, 1))
    services.record_move_out(actor=world.users["baita_grid_worker"], tenant_pk=tenant.pk,
                             moved_out_on=dt.date(2026, 8, 1))
    assert purge_moved_out_tenants.call() == 1
    assert not Tenant.objects.exists()


def _key(letter: bytes) -> str:
    return base64.b64encode(letter * 32).decode()


def test_rotation_re_encrypts_every_row_under_the_new_key(world, settings):
    settings.BIHUAN_PII_KEYS = f"old:{_key(b'o')},hash:{_key(b'h')}"
    first = register(world, serial=1)
    second = register(world, serial=2, phone="")
    assert crypto.key_id(first.id_number_sealed) == "old"
    settings.BIHUAN_PII_KEYS = f"new:{_key(b'n')},old:{_key(b'o')},hash:{_key(b'h')}"
    # Before rotating, old rows still read under the old key id.
    assert Tenant.objects.get(pk=first.pk).id_number() == id_number(1)
    call_command("pii", "rotate-key", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for tenant, serial in ((first, 1), (second, 2)):
        tenant.refresh_from_db()
        assert crypto.key_id(tenant.id_number_sealed) == "new"
        assert tenant.id_number() == id_number(serial)
    assert crypto.key_id(first.phone_sealed) == "new"
    assert first.phone() == "13812345678" and second.phone() == ""
    entry = AuditEntry.objects.get(action="pii.rotate_key")
    assert entry.data == {"key_id": "new", "rows": 2, "reencrypted": 2}
    # The old key can now leave the keyring.
    settings.BIHUAN_PII_KEYS = f"new:{_key(b'n')},hash:{_key(b'h')}"
    assert Tenant.objects.get(pk=first.pk).id_number() == id_number(1)
    assert services.find_by_id_number(world.users["commander"], id_number(1)) == [first]
    assert services.rotate_keys().reencrypted == 0


def test_a_new_lookup_key_rehashes_on_rotation(world, settings):
    settings.BIHUAN_PII_KEYS = f"k1:{_key(b'a')},hash:{_key(b'h')}"
    tenant = register(world)
    settings.BIHUAN_PII_KEYS = f"k1:{_key(b'a')},hash:{_key(b'g')}"
    assert services.find_by_id_number(world.users["commander"], id_number(1)) == []
    assert services.rotate_keys().reencrypted == 1
    assert services.find_by_id_number(world.users["commander"], id_number(1)) == [tenant]
    assert Tenant.objects.get().id_number_hash == crypto.lookup_hash(
        id_number(1), purpose=ID_NUMBER_PURPOSE)
