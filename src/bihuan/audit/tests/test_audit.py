"""The audit trail is append-only and tamper-evident."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from bihuan.audit import services as audit
from bihuan.audit.models import AuditEntry
from bihuan.hazards import services as hazard_services
from bihuan.hazards.models import HazardEvent
from bihuan.testing import after_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world):
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").first()
    hazard = hazard_services.register_hazard(actor=world.users["baita_grid_worker"],
                                             place=place, item=item, description="")
    hazard_services.submit_rectification(hazard, actor=world.users["landlord"],
                                         evidence=[after_photo()])
    hazard_services.pass_verification(hazard, actor=world.users["east_officer"])
    return hazard


def _table() -> str:
    return connection.ops.quote_name(AuditEntry._meta.db_table)


def _problems() -> list[str]:
    return [p.problem for p in audit.verify()]


def test_an_intact_trail_verifies_clean(history, capsys):
    assert _problems() == []
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out


def test_the_orm_refuses_to_change_or_delete_history(history):
    entry = AuditEntry.objects.first()
    event = HazardEvent.objects.first()
    for obj in (entry, event):
        with pytest.raises(TypeError):
            obj.save()
        with pytest.raises(TypeError):
            obj.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(TypeError):
        HazardEvent.objects.all().delete()


def _raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can bypass the trigger; that is exactly what verify must catch.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_an_edit_made_directly_in_the_database_is_reported(history):
    entry = AuditEntry.objects.filter(stream=f"hazards.hazard:{history.pk}").order_by("seq")[1]
    _raw(f"UPDATE {_table()} SET actor_repr = %s WHERE id = %s", ["someone else", entry.pk])
    assert "content changed" in _problems()
    with pytest.raises(CommandError):
        call_command("audit", "verify")


def test_a_deletion_made_directly_in_the_database_is_reported(history):
    entry = AuditEntry.objects.filter(stream=f"hazards.hazard:{history.pk}").order_by("seq")[1]
    _raw(f"DELETE FROM {_table()} WHERE id = %s", [entry.pk])
    problems = _problems()
    assert any("sequence gap" in p for p in problems)
    assert "broken chain link" in problems


def test_a_reordering_made_directly_in_the_database_is_reported(history):
    first, second = AuditEntry.objects.filter(
        stream=f"hazards.hazard:{history.pk}").order_by("seq")[:2]
    # Swap the two entries' positions in the stream.
    _raw(f"UPDATE {_table()} SET seq = %s WHERE id = %s", [1000, first.pk])
    _raw(f"UPDATE {_table()} SET seq = %s WHERE id = %s", [first.seq, second.pk])
    _raw(f"UPDATE {_table()} SET seq = %s WHERE id = %s", [second.seq, first.pk])
    assert _problems()


def test_postgres_refuses_update_and_delete(history, on_postgres):
    if not on_postgres:
        pytest.skip("the append-only trigger is PostgreSQL's")
    entry = AuditEntry.objects.first()
    for sql in (f"UPDATE {_table()} SET action = 'x' WHERE id = %s",
                f"DELETE FROM {_table()} WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, action=entry.action).exists()
