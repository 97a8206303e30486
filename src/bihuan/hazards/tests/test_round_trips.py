"""A transition's reads and writes go to the database in few round trips, and a
failing write takes the whole transition back (files included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from bihuan.accounts.scopes import scope_of
from bihuan.audit.models import AuditEntry
from bihuan.hazards import services
from bihuan.hazards.choices import HazardState
from bihuan.hazards.models import Evidence, Hazard, HazardEvent
from bihuan.testing import after_photo, before_photo

pytestmark = pytest.mark.django_db


def _register(world):
    place = world.places["baita_rental"]
    item = next(i for i in world.checklist_for(place).items.all() if i.severity == "general")
    return services.register_hazard(actor=world.users["baita_grid_worker"], place=place,
                                     item=item, description="", evidence=[before_photo()])


def test_a_transition_is_one_lock_with_its_reads_and_one_batch_of_writes(world, on_postgres):
    if not on_postgres:
        pytest.skip("SQLite runs the statements one by one (no round trips to save)")
    hazard = _register(world)
    officer = world.users["east_officer"]
    landlord = world.users["landlord"]
    scope_of(officer), scope_of(landlord)  # a request reads the scope once, before
    services.submit_rectification(hazard, actor=landlord, evidence=[after_photo(1)])
    with CaptureQueriesContext(connection) as ctx:
        services.pass_verification(hazard.pk, actor=officer)
    # The test's transaction makes the service's BEGIN/COMMIT a savepoint and its release.
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 4, "\n".join(sql)
    assert "FOR NO KEY UPDATE" in sql[1] and "audit_auditentry" in sql[1]
    assert sql[2].startswith("UPDATE") and "INSERT INTO \"hazards_hazardevent\"" in sql[2]


def test_a_failing_write_rolls_the_transition_back_and_removes_its_files(world, monkeypatch):
    hazard = _register(world)
    landlord = world.users["landlord"]
    before = (HazardEvent.objects.count(), AuditEntry.objects.count(), Evidence.objects.count())
    storage = Evidence._meta.get_field("file").storage
    files_before = {p for p in Path(storage.location).rglob("*") if p.is_file()}

    from bihuan.hazards.statements import Batch

    def fail(self: Batch) -> None:
        raise IntegrityError("simulated")

    monkeypatch.setattr(Batch, "run", fail)
    with pytest.raises(IntegrityError):
        services.submit_rectification(hazard.pk, actor=landlord, evidence=[after_photo(2)])
    monkeypatch.undo()
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.RECTIFYING
    assert (HazardEvent.objects.count(), AuditEntry.objects.count(),
            Evidence.objects.count()) == before
    assert {p for p in Path(storage.location).rglob("*") if p.is_file()} == files_before


def _prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_statements_of_a_transition_are_prepared_on_the_connection(world, on_postgres):
    if not on_postgres:
        pytest.skip("prepared statements are PostgreSQL's")
    hazard = _register(world)
    services.submit_rectification(hazard.pk, actor=world.users["landlord"],
                                  evidence=[after_photo(3)])
    services.pass_verification(hazard.pk, actor=world.users["east_officer"])
    prepared = _prepared()
    assert any("FOR NO KEY UPDATE" in sql for sql in prepared), prepared
    assert any(sql.startswith('INSERT INTO "hazards_hazardevent"') for sql in prepared)
    assert any(sql.startswith('INSERT INTO "audit_auditentry"') for sql in prepared)
    # Parameters are bound on the server ($1), the statements reused for every hazard.
    assert all("$1" in sql for sql in prepared if "hazards_hazardevent" in sql)
    lock = next(sql for sql in prepared if "FOR NO KEY UPDATE" in sql)
    assert '"hazards_hazard"."id" = $' in lock
    assert f'"hazards_hazard"."id" = {hazard.pk}' not in lock


def test_with_preparing_off_a_transition_prepares_nothing(world, on_postgres):
    if not on_postgres:
        pytest.skip("prepared statements are PostgreSQL's")
    pg = connection.connection
    hazard = _register(world)
    before = _prepared()
    saved, pg.prepare_threshold = pg.prepare_threshold, None  # what DB_PREPARE=False sets
    try:
        services.submit_rectification(hazard.pk, actor=world.users["landlord"],
                                      evidence=[after_photo(4)])
        services.pass_verification(hazard.pk, actor=world.users["east_officer"])
    finally:
        pg.prepare_threshold = saved
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.CLOSED
    assert _prepared() == before


def test_a_database_error_in_a_batch_is_djangos_and_takes_the_batch_back(world):
    from django.db import transaction

    from bihuan.hazards.statements import Batch

    hazard = _register(world)
    version = hazard.version
    batch = Batch()
    hazard.version = version + 100
    batch.add_update(hazard, ["version"])
    # Fails after the UPDATE has run: the state is NOT NULL.
    batch.add(("UPDATE hazards_hazard SET state = NULL WHERE id = %s", [hazard.pk]))
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.run()
    assert Hazard.objects.get(pk=hazard.pk).version == version
    # The connection is usable again, for the next statement and the next transition.
    services.submit_rectification(hazard.pk, actor=world.users["landlord"],
                                  evidence=[after_photo(5)])
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.PENDING_VERIFICATION


def test_without_pipeline_mode_the_statements_go_one_by_one_with_the_same_result(
        world, on_postgres, monkeypatch):
    if not on_postgres:
        pytest.skip("pipeline mode is PostgreSQL's")
    from bihuan.hazards import statements

    monkeypatch.setattr(statements, "_PIPELINE", False)  # as with a libpq before 14
    hazard = _register(world)
    events = HazardEvent.objects.filter(hazard=hazard).count()
    services.submit_rectification(hazard.pk, actor=world.users["landlord"],
                                  evidence=[after_photo(6)])
    services.pass_verification(hazard.pk, actor=world.users["east_officer"])
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.CLOSED
    assert HazardEvent.objects.filter(hazard=hazard).count() == events + 2
    assert AuditEntry.objects.filter(stream=f"hazards.hazard:{hazard.pk}").count() == events + 2
