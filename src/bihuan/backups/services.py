"""Backing up and restoring the database and the uploaded files, with a manifest.

A backup is a directory:

- the database: ``database.sqlite3`` (SQLite's online backup API, a consistent
  copy while the application runs), ``database.pgdump`` (``pg_dump`` custom
  format, when it is on the PATH) or ``database.xml`` (Django ``dumpdata``,
  the portable fallback and the way between SQLite and PostgreSQL);
- ``media/``: every uploaded file (evidence photos, signatures, documents);
- ``manifest.json``: the SHA-256 of every file above, and per table its row
  count and a checksum of its rows (primary-key order, values normalised), so
  a restore can prove it gave back the same records.

``restore`` checks the manifest before touching anything (a changed, missing or
extra file refuses), loads only into an empty database unless forced, then
re-counts and re-checksums every table against the manifest and re-verifies
the audit trail's hash chains.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, models

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_DIR = "media"
SQLITE_FILE = "database.sqlite3"
PGDUMP_FILE = "database.pgdump"
# XML, not JSON: Django's JSON encoder cuts datetimes to milliseconds, which would change
# the rows (and break the audit trail's hashes); XML keeps every microsecond.
DUMP_FILE = "database.xml"
CHUNK = 1 << 20
# Rows created by ``migrate`` itself: not "data" when deciding whether a database is empty.
SCHEMA_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})

Say = Callable[[str], None]


class BackupError(Exception):
    """A refused backup or restore: the message says why; nothing was restored."""


@dataclass
class Manifest:
    method: str
    database_file: str
    vendor: str
    created_at: str
    tables: dict[str, dict[str, Any]]
    files: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "method": self.method, "database_file": self.database_file,
                "vendor": self.vendor, "created_at": self.created_at, "tables": self.tables,
                "files": self.files, **self.extra}


# ---------------------------------------------------------------- checksums


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[Path]:
    for directory, _dirs, files in os.walk(root):
        for name in sorted(files):
            yield Path(directory) / name


def _normalise(value: Any) -> Any:
    """One spelling per value whichever database returned it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def _models() -> list[type[models.Model]]:
    found = [m for m in apps.get_models(include_auto_created=True)
             if m._meta.managed and not m._meta.proxy]
    return sorted(found, key=lambda m: m._meta.db_table)


def table_fingerprints() -> dict[str, dict[str, Any]]:
    """Per table: its row count and the SHA-256 of its rows in primary-key order."""
    existing = set(connection.introspection.table_names())
    result: dict[str, dict[str, Any]] = {}
    for model in _models():
        table = model._meta.db_table
        if table not in existing:
            continue
        columns = [f.attname for f in model._meta.concrete_fields]
        digest = hashlib.sha256()
        rows = 0
        queryset = model._base_manager.order_by("pk").values_list(*columns)
        for row in queryset.iterator(chunk_size=2000):
            rows += 1
            line = json.dumps([_normalise(v) for v in row], ensure_ascii=False,
                              sort_keys=True, default=str, separators=(",", ":"))
            digest.update(line.encode())
            digest.update(b"\n")
        result[table] = {"rows": rows, "sha256": digest.hexdigest()}
    return result


def _renumbered_tables() -> frozenset[str]:
    """Tables whose ids ``migrate`` assigns, and the tables that point at them by id."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    renumbered = {ContentType, Permission}
    tables = {m._meta.db_table for m in renumbered}
    for model in _models():
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model in renumbered:
                tables.add(model._meta.db_table)
    return frozenset(tables)


def database_is_empty() -> bool:
    """No table holds a row, apart from what ``migrate`` writes itself."""
    existing = set(connection.introspection.table_names())
    for model in _models():
        table = model._meta.db_table
        if table in existing and table not in SCHEMA_TABLES and \
                model._base_manager.exists():
            return False
    return True


# ---------------------------------------------------------------- backup


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[name] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def _backup_sqlite(target: Path) -> None:
    if connection.in_atomic_block:
        # The backup waits for the connection's own write lock and would never finish.
        raise BackupError("A SQLite backup cannot run inside a transaction.")
    connection.ensure_connection()
    source = connection.connection
    destination = sqlite3.connect(target)
    try:
        # The online backup API copies a consistent snapshot page by page.
        source.backup(destination)
    finally:
        destination.close()


def _backup_pg_dump(target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not on the PATH (use --method dumpdata).")
    # Our own arguments, no shell: the database name travels in the environment.
    result = subprocess.run(  # noqa: S603
        [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
        env=_pg_env(), capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def _backup_dumpdata(target: Path) -> None:
    # Content types and permissions are re-created by ``migrate`` (perhaps under other
    # ids); natural foreign keys let the rows that point at them find them again. Every
    # other row keeps its primary key: the audit trail names objects by id.
    call_command("dumpdata", "--natural-foreign", "--format=xml",
                 "--exclude=contenttypes", "--exclude=auth.permission",
                 f"--output={target}", verbosity=0)


def choose_method(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    if connection.vendor == "sqlite":
        return "sqlite"
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        return "pg_dump"
    return "dumpdata"


DATABASE_FILES = {"sqlite": SQLITE_FILE, "pg_dump": PGDUMP_FILE, "dumpdata": DUMP_FILE}


def backup(out: Path, *, method: str = "auto", say: Say | None = None) -> Manifest:
    """Write a backup of the database and ``MEDIA_ROOT`` into the new directory ``out``."""
    say = say or (lambda line: None)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: a backup goes into a new directory.")
    method = choose_method(method)
    if method == "sqlite" and connection.vendor != "sqlite":
        raise BackupError("The SQLite backup method needs a SQLite database.")
    if method == "pg_dump" and connection.vendor != "postgresql":
        raise BackupError("pg_dump needs a PostgreSQL database.")
    out.mkdir(parents=True, exist_ok=True)
    database_file = out / DATABASE_FILES[method]
    say(f"database ({connection.vendor}, {method}) → {database_file.name}")
    {"sqlite": _backup_sqlite, "pg_dump": _backup_pg_dump,
     "dumpdata": _backup_dumpdata}[method](database_file)
    media_root = Path(settings.MEDIA_ROOT)
    media_out = out / MEDIA_DIR
    media_out.mkdir()
    copied = 0
    if media_root.is_dir():
        for path in _walk(media_root):
            target = media_out / path.relative_to(media_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    say(f"media: {copied} file(s)")
    tables = table_fingerprints()
    files = {str(p.relative_to(out)): file_sha256(p) for p in _walk(out)}
    manifest = Manifest(method=method, database_file=database_file.name,
                        vendor=connection.vendor,
                        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        tables=tables, files=files)
    (out / MANIFEST).write_text(json.dumps(manifest.as_json(), indent=1, sort_keys=True,
                                           ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"manifest: {len(files)} file(s), {len(tables)} table(s), "
        f"{sum(t['rows'] for t in tables.values())} row(s)")
    return manifest


# ---------------------------------------------------------------- restore


def read_manifest(source: Path) -> Manifest:
    """The manifest of ``source`` once every file matches it; ``BackupError`` otherwise."""
    path = source / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"no readable manifest in {source}: {error}") from None
    if data.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {data.get('format')!r}")
    files: dict[str, str] = data["files"]
    present = {str(p.relative_to(source)) for p in _walk(source)} - {MANIFEST}
    problems = [f"missing: {name}" for name in sorted(set(files) - present)]
    problems += [f"not in the manifest: {name}" for name in sorted(present - set(files))]
    for name in sorted(set(files) & present):
        if file_sha256(source / name) != files[name]:
            problems.append(f"checksum mismatch: {name}")
    if data["database_file"] not in files:
        problems.append(f"missing: {data['database_file']}")
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    return Manifest(method=data["method"], database_file=data["database_file"],
                    vendor=data["vendor"], created_at=data["created_at"],
                    tables=data["tables"], files=files)


def _restore_sqlite(path: Path) -> None:
    if connection.vendor != "sqlite":
        raise BackupError("This backup is a SQLite database: restore it into SQLite, or "
                          "make a portable backup with --method dumpdata.")
    connection.ensure_connection()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_pg_dump(path: Path) -> None:
    if connection.vendor != "postgresql":
        raise BackupError("This backup is a pg_dump archive: restore it into PostgreSQL.")
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore is not on the PATH.")
    connection.close()
    result = subprocess.run(  # noqa: S603
        [pg_restore, "--no-owner", "--no-privileges", "--clean", "--if-exists",
         "--single-transaction", "--exit-on-error",
         f"--dbname={connection.settings_dict['NAME']}", str(path)],
        env=_pg_env(), capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def _restore_dumpdata(path: Path) -> None:
    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    if connection.vendor != "postgresql":
        call_command("loaddata", str(path), verbosity=0)
        return
    # loaddata tries an UPDATE before each INSERT, which the append-only triggers of the
    # audit trail refuse: load with triggers off, as pg_restore --disable-triggers does
    # (needs a superuser, like any restore of a database with such triggers).
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        call_command("loaddata", str(path), verbosity=0)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


@dataclass
class Restored:
    tables: int
    rows: int
    media_files: int
    audit_entries: int


def restore(source: Path, *, force: bool = False, say: Say | None = None) -> Restored:
    """Restore the backup in ``source`` into the configured (empty) database and media."""
    from bihuan.audit.models import AuditEntry
    from bihuan.audit.services import verify

    say = say or (lambda line: None)
    manifest = read_manifest(source)
    say(f"manifest verified: {len(manifest.files)} file(s) match")
    if not database_is_empty() and not force:
        raise BackupError("The database is not empty: restore into an empty database "
                          "(or pass --force to replace its contents).")
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.is_dir() and any(_walk(media_root)) and not force:
        raise BackupError(f"{media_root} is not empty (pass --force to replace its files).")
    database_file = source / manifest.database_file
    {"sqlite": _restore_sqlite, "pg_dump": _restore_pg_dump,
     "dumpdata": _restore_dumpdata}[manifest.method](database_file)
    say(f"database restored ({manifest.method})")
    copied = 0
    media_source = source / MEDIA_DIR
    if media_source.is_dir():
        for path in _walk(media_source):
            target = media_root / path.relative_to(media_source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    say(f"media: {copied} file(s)")
    found = table_fingerprints()
    # After a dumpdata load, content types and permissions (and rows naming them by id)
    # may carry other ids: for those tables the row counts must match, not the checksums.
    count_only = _renumbered_tables() if manifest.method == "dumpdata" else frozenset()
    differences = [
        f"{table}: {found.get(table)} != {expected}"
        for table, expected in sorted(manifest.tables.items())
        if (found.get(table, {}).get("rows") != expected["rows"] if table in count_only
            else found.get(table) != expected)
    ]
    if differences:
        raise BackupError("the restored data differ from the backup: " + "; ".join(differences))
    say(f"{len(found)} table(s): row counts and checksums match the manifest")
    problems = list(verify())
    if problems:
        raise BackupError(f"the restored audit trail does not verify: {len(problems)} problem(s)")
    entries = AuditEntry.objects.count()
    say(f"audit trail intact: {entries} entries verified")
    return Restored(tables=len(found), rows=sum(t["rows"] for t in found.values()),
                    media_files=copied, audit_entries=entries)
