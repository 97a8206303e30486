"""PostgreSQL refuses UPDATE and DELETE on the append-only history tables.

TRUNCATE stays allowed: it is how a test database is emptied, and needs table
ownership anyway; the hash chain of `bihuan audit verify` catches it.

SQLite (the embedded demo) has no such guard beyond the ORM; the hash chain
still exposes a change there.
"""

from django.db import migrations

TABLES = ["audit_auditentry", "hazards_hazardevent"]

FUNCTION = """
CREATE OR REPLACE FUNCTION bihuan_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bihuan_refuse_change();"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS bihuan_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("hazards", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
