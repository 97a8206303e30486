"""Retention: PostgreSQL lets the purge delete audit entries older than 180 days, only.

The audit table's statement trigger refused every UPDATE and DELETE. Now:

- UPDATE stays refused (statement trigger, as before);
- DELETE is refused row by row unless the session has switched the purge on
  (``SET LOCAL bihuan.audit_purge = 'on'``, which ``bihuan audit purge`` does) AND
  the row is older than 180 days by the database's own clock. So even the purge
  switch cannot remove an entry inside the retention period.

A superuser can still disable triggers; the hash chain (``bihuan audit verify``)
catches what that allows.
"""

from django.db import migrations

TABLE = "audit_auditentry"

RETENTION_FUNCTION = """
CREATE OR REPLACE FUNCTION bihuan_audit_retention() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('bihuan.audit_purge', true), '') = 'on'
       AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'table % is append-only (entries are kept at least 180 days)',
        TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};")
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION bihuan_refuse_change();"
    )
    schema_editor.execute(RETENTION_FUNCTION, params=None)
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_retention BEFORE DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION bihuan_audit_retention();"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_retention ON {TABLE};")
    schema_editor.execute("DROP FUNCTION IF EXISTS bihuan_audit_retention();")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};")
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION bihuan_refuse_change();"
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_checkpoint")]

    operations = [migrations.RunPython(create, drop)]
