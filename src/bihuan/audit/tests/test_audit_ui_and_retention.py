"""Reading the trail (the audit administrator alone), exporting it, keeping it 180 days."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from bihuan.audit import services as audit
from bihuan.audit.models import AuditCheckpoint, AuditEntry
from bihuan.core import clock

pytestmark = pytest.mark.django_db


def _client(world, persona: str) -> Client:
    client = Client()
    client.force_login(world.users[persona])
    return client


@pytest.fixture
def entries(world):
    cmd = world.users["commander"]
    audit.record("place.update", actor=cmd, obj=world.places["baita_rental"],
                 data={"name": "=HYPERLINK(\"http://evil\")"}, client_ip="10.0.0.5")
    audit.record("membership.grant", actor=world.users["security_admin"],
                 obj=world.users["east_officer"], stream="permissions")
    clock.advance(dt.timedelta(days=2))
    audit.record("place.update", actor=world.users["east_officer"],
                 obj=world.places["baita_shop"], data={"name": "-2+3"})
    return world


@pytest.mark.parametrize("persona", ["commander", "east_officer", "system_admin",
                                     "security_admin", "landlord", "citizen"])
def test_only_the_audit_administrator_reads_the_trail(entries, persona):
    client = _client(entries, persona)
    entry = AuditEntry.objects.first()
    assert client.get("/audit/").status_code == 404
    assert client.get(f"/audit/{entry.pk}/").status_code == 404
    assert client.get("/audit/?format=csv").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(entries):
    response = Client().get("/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_filters_by_actor_action_stream_and_date(entries):
    client = _client(entries, "audit_admin")
    shop = entries.places["baita_shop"]

    def ids(query: str) -> set[str]:
        response = client.get(f"/audit/?{query}")
        assert response.status_code == 200
        return {f"{e.action}@{e.object_id}" for e in response.context["entries"]}

    assert ids("actor=east_officer") == {f"place.update@{shop.pk}"}
    assert ids("action=membership.") == {f"membership.grant@{entries.users['east_officer'].pk}"}
    assert ids(f"stream=places.place:{shop.pk}") == {f"place.update@{shop.pk}"}
    today = clock.today().isoformat()
    assert ids(f"action=place.&date_from={today}&date_to={today}") == {
        f"place.update@{shop.pk}"}
    earlier = (clock.today() - dt.timedelta(days=2)).isoformat()
    assert len(ids(f"action=place.&date_to={earlier}")) == 1
    assert {"membership.grant", "place.update"} <= {
        i.split("@")[0] for i in ids(f"date_from={earlier}&date_to={earlier}")}


def test_the_detail_shows_the_chain(entries):
    entry = AuditEntry.objects.filter(action="place.update").first()
    page = _client(entries, "audit_admin").get(f"/audit/{entry.pk}/")
    assert page.status_code == 200
    assert entry.hash in page.content.decode() and entry.prev_hash in page.content.decode()


def test_the_export_is_formula_safe_and_itself_audited(entries):
    client = _client(entries, "audit_admin")
    response = client.get("/audit/?format=csv&action=place.")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3  # header + two place updates
    data_cells = [row[9] for row in rows[1:]]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert any("HYPERLINK" in cell for cell in data_cells)
    export = AuditEntry.objects.filter(action="export").last()
    assert export.actor_id == entries.users["audit_admin"].pk
    assert export.data["list"] == "audit" and export.data["rows"] == 2


# ---------------------------------------------------------------- retention


def _old_entries(world, days: int, count: int = 3) -> None:
    now = clock.now()
    clock.freeze(now - dt.timedelta(days=days))
    for n in range(count):
        audit.record("place.update", actor=None, obj=world.places["baita_rental"],
                     data={"n": n})
    clock.freeze(now)


def test_the_purge_refuses_anything_younger_than_180_days(world):
    _old_entries(world, 200)
    before = AuditEntry.objects.count()
    with pytest.raises(CommandError, match="180"):
        call_command("audit", "purge", "--older-than-days", "179")
    assert AuditEntry.objects.count() == before


def test_a_purge_keeps_the_chain_verifiable(world, capsys):
    _old_entries(world, 200, count=3)
    audit.record("place.update", actor=None, obj=world.places["baita_rental"], data={"n": 9})
    call_command("audit", "purge", "--older-than-days", "190")
    stream = f"places.place:{world.places['baita_rental'].pk}"
    assert list(AuditEntry.objects.filter(stream=stream).values_list("seq", flat=True)) == [4]
    assert AuditCheckpoint.objects.get(stream=stream).seq == 3
    assert AuditEntry.objects.filter(action="audit.purge").exists()
    call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out


def test_postgres_refuses_to_delete_a_young_entry_even_with_the_purge_switch(world,
                                                                              on_postgres):
    if not on_postgres:
        pytest.skip("the retention trigger is PostgreSQL's")
    entry = audit.record("place.update", actor=None, obj=world.places["baita_rental"])
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL bihuan.audit_purge = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


# ---------------------------------------------------------------- tampering, by command


def _tamper(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As a superuser would: triggers off for this transaction.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.mark.parametrize("how", ["update", "delete", "reorder"])
def test_verify_names_the_tampered_entry(world, how, capsys):
    place = world.places["baita_rental"]
    made = [audit.record("place.update", actor=None, obj=place, data={"n": n})
            for n in range(3)]
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    target = made[1]
    if how == "update":
        _tamper(f"UPDATE {table} SET data = %s WHERE id = %s",
                ['{"n": 99}', target.pk])
    elif how == "delete":
        _tamper(f"DELETE FROM {table} WHERE id = %s", [target.pk])
    else:
        _tamper(f"UPDATE {table} SET seq = 99 WHERE id = %s", [made[0].pk])
        _tamper(f"UPDATE {table} SET seq = 1 WHERE id = %s", [made[1].pk])
        _tamper(f"UPDATE {table} SET seq = 2 WHERE id = %s", [made[0].pk])
    with pytest.raises(CommandError, match="problem"):
        call_command("audit", "verify")
    out = capsys.readouterr().out
    stream = f"places.place:{place.pk}"
    named = made[2] if how == "delete" else target
    assert f"{stream} #" in out and f"(id {named.pk})" in out
