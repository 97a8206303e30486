"""The ID number stays sealed: not in the database file, a dump, a log line, a URL or
an ordinary role's page; a reveal needs the permission and a reason, and is audited."""

from __future__ import annotations

import io
import logging
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bihuan.audit.models import AuditEntry
from bihuan.tenants.models import Tenant
from bihuan.tenants.tests.helpers import id_number_ending_in_x, with_wrong_check_digit

ID = id_number_ending_in_x()
PHONE = "13912345678"
MASKED_ID = ID[:6] + "********" + ID[-4:]


def clear_forms(value: str) -> list[bytes]:
    return [value.encode(), value.encode("utf-16-le"), value.lower().encode()]


def register_through_the_page(client, world, user="baita_grid_worker", **extra):
    client.force_login(world.users[user])
    place = world.places["baita_rental"]
    data = {"name": "租客乙", "id_number": ID, "phone": PHONE, "room": "201",
            "moved_in_on": "2026-09-01", **extra}
    return client.post(reverse("tenants:register", args=[place.pk]), data,
                       HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def reveal_roles(settings):
    settings.BIHUAN_PERSONAL_DATA_ROLES = frozenset({"town_officer"})


@pytest.mark.django_db
def test_registration_redirects_to_the_place_and_no_url_carries_the_number(client, world):
    response = register_through_the_page(client, world)
    assert response.status_code == 302
    assert ID not in response["Location"] and PHONE not in response["Location"]
    assert Tenant.objects.count() == 1


@pytest.mark.django_db
def test_a_bad_check_digit_is_a_clear_error_and_writes_nothing(client, world):
    response = register_through_the_page(client, world, id_number=with_wrong_check_digit(ID))
    assert response.status_code == 400
    assert b"check digit is wrong" in response.content
    assert not Tenant.objects.exists()
    # The form asks for the number anew instead of sending it back.
    assert with_wrong_check_digit(ID).encode() not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["baita_grid_worker", "baita_cadre", "landlord",
                                  "east_officer", "commander", "fire_inspector"])
def test_ordinary_roles_see_the_numbers_masked_everywhere(client, world, user, reveal_roles):
    register_through_the_page(client, world)
    tenant = Tenant.objects.get()
    client.force_login(world.users[user])
    place = world.places["baita_rental"]
    pages = [
        client.get(reverse("places:detail", args=[place.pk])),
        client.get(reverse("tenants:place", args=[place.pk])),
        client.post(reverse("tenants:lookup"), {"id_number": ID}),
        client.get(reverse("tenants:reveal", args=[tenant.pk])),
    ]
    tenants_page = pages[1]
    assert tenants_page.status_code == 200
    assert MASKED_ID.encode() in tenants_page.content
    assert b"139****5678" in tenants_page.content
    for response in pages:
        for form in clear_forms(ID) + clear_forms(PHONE):
            assert form not in response.content, response.request["PATH_INFO"]


@pytest.mark.django_db
def test_roles_without_the_place_see_no_tenant_at_all(client, world, reveal_roles):
    register_through_the_page(client, world)
    tenant = Tenant.objects.get()
    place = world.places["baita_rental"]
    for user in ("west_officer", "loutang_grid_worker", "shopkeeper", "market_inspector",
                 "citizen", "system_admin", "audit_admin", "nobody"):
        client.force_login(world.users[user])
        assert client.get(reverse("tenants:place", args=[place.pk])).status_code == 404, user
        assert client.get(reverse("tenants:reveal", args=[tenant.pk])).status_code == 404, user
        response = client.post(reverse("tenants:lookup"), {"id_number": ID})
        assert MASKED_ID.encode() not in response.content, user


@pytest.mark.django_db
def test_the_lookup_never_reads_a_number_from_the_url(client, world):
    register_through_the_page(client, world)
    client.force_login(world.users["east_officer"])
    response = client.get(reverse("tenants:lookup"), {"id_number": ID})
    assert response.status_code == 200
    assert MASKED_ID.encode() not in response.content
    assert b'method="post"' in response.content


@pytest.mark.django_db
def test_a_reveal_needs_a_reason_shows_the_number_once_and_is_audited(client, world,
                                                                     reveal_roles):
    register_through_the_page(client, world)
    tenant = Tenant.objects.get()
    client.force_login(world.users["east_officer"])
    url = reverse("tenants:reveal", args=[tenant.pk])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400 and ID.encode() not in refused.content
    assert not AuditEntry.objects.filter(action="tenants.reveal").exists()
    response = client.post(url, {"reason": "派出所核查身份"})
    assert response.status_code == 200
    assert ID.encode() in response.content and PHONE.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="tenants.reveal")
    assert entry.actor == world.users["east_officer"]
    assert entry.object_id == str(tenant.pk)
    assert entry.data["reason"] == "派出所核查身份"
    assert ID not in str(entry.data)
    # Once: the page shows the masked number again afterwards.
    again = client.get(url)
    assert ID.encode() not in again.content and MASKED_ID.encode() in again.content


@pytest.mark.django_db
def test_a_reveal_without_the_permission_is_refused_and_reveals_nothing(client, world,
                                                                       reveal_roles):
    register_through_the_page(client, world)
    tenant = Tenant.objects.get()
    url = reverse("tenants:reveal", args=[tenant.pk])
    for user, status in (("baita_grid_worker", 403), ("landlord", 403), ("commander", 403),
                         ("west_officer", 404)):
        client.force_login(world.users[user])
        response = client.post(url, {"reason": "想看看"})
        assert response.status_code == status, user
        assert ID.encode() not in response.content
    assert not AuditEntry.objects.filter(action="tenants.reveal").exists()


@pytest.mark.django_db
def test_no_log_line_carries_the_number_even_with_sql_logging(client, world, reveal_roles,
                                                             caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    try:
        with CaptureQueriesContext(connection) as queries:
            register_through_the_page(client, world)
            tenant = Tenant.objects.get()
            client.force_login(world.users["east_officer"])
            client.get(reverse("tenants:place", args=[world.places["baita_rental"].pk]))
            client.post(reverse("tenants:lookup"), {"id_number": ID})
            client.post(reverse("tenants:reveal", args=[tenant.pk]), {"reason": "核查"})
            register_through_the_page(client, world, id_number=with_wrong_check_digit(ID))
    finally:
        logging.getLogger("django.db.backends").setLevel(logging.INFO)
    sql_lines = [q["sql"] for q in queries.captured_queries]
    assert any("tenants_tenant" in line for line in sql_lines)
    logged = [r.getMessage() + " " + str(getattr(r, "params", "")) + " " + str(r.args)
              for r in caplog.records]
    assert any("INSERT" in line and "tenants_tenant" in line for line in logged)
    for line in logged + sql_lines:
        assert ID not in line and ID.lower() not in line
        assert with_wrong_check_digit(ID) not in line
        assert PHONE not in line


@pytest.mark.django_db(transaction=True)
def test_the_number_is_not_in_the_database_file_or_a_dump(client, world, tmp_path):
    register_through_the_page(client, world)
    assert Tenant.objects.get().id_number() == ID
    dump = io.StringIO()
    call_command("dumpdata", "tenants", "audit", stdout=dump)
    assert "tenants.tenant" in dump.getvalue()
    assert ID not in dump.getvalue() and PHONE not in dump.getvalue()
    if connection.vendor == "sqlite":
        # The database's own bytes: the online backup API copies every page.
        copy = tmp_path / "copy.sqlite3"
        target = sqlite3.connect(copy)
        connection.connection.backup(target)
        target.close()
        data = copy.read_bytes()
    else:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            pytest.skip("pg_dump is not installed")
        from bihuan.backups.services import _pg_env

        with tempfile.TemporaryDirectory() as directory:
            plain = Path(directory) / "plain.sql"
            subprocess.run([pg_dump, "--format=plain", f"--file={plain}"], env=_pg_env(),  # noqa: S603
                           check=True)
            data = plain.read_bytes()
    assert b"tenants_tenant" in data
    for form in clear_forms(ID) + clear_forms(PHONE):
        assert form not in data
