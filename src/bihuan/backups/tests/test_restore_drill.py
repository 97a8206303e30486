"""The restore drill: back up a (scaled-down) demo city, restore it into an empty
database in a separate process, and prove the same records came back.

The demo city here has ``DRILL_PLACES`` places instead of 20,000 (the generator's
``places`` knob): every area, person and kind of record is there, in fewer rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bihuan.areas.models import Area
from bihuan.audit.models import AuditEntry
from bihuan.backups.services import MANIFEST, read_manifest, table_fingerprints
from bihuan.demo.generator import generate
from bihuan.tenants.models import Tenant

DRILL_PLACES = 80
TODAY = dt.date(2026, 9, 14)


def bihuan(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bihuan.cli", *args], env=env,  # noqa: S603
                          capture_output=True, text=True, check=False, timeout=300)


class Target:
    """An empty database for the restore: a new SQLite file, or a new PostgreSQL database."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.name = name
        self.vendor = connection.vendor
        self.media = tmp_path / f"{name}-media"
        if self.vendor == "sqlite":
            self.url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        else:
            db = connection.settings_dict
            suffix = os.environ.get("BIHUAN_TEST_DB_SUFFIX", "main")
            self.database = f"restore_{name}_{suffix}"
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
                cursor.execute(f'CREATE DATABASE "{self.database}"')
            password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
            self.url = (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{self.database}")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(DATABASE_URL=self.url, MEDIA_ROOT=str(self.media),
                   DJANGO_SETTINGS_MODULE="bihuan.settings")
        return env

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


@pytest.fixture
def targets(tmp_path: Path) -> Any:
    made: list[Target] = []

    def make(name: str) -> Target:
        target = Target(tmp_path, name)
        made.append(target)
        return target

    yield make
    for target in made:
        target.drop()


@pytest.mark.django_db(transaction=True)
def test_a_restore_into_an_empty_database_gives_back_the_same_records(tmp_path, targets):
    generate(seed=11, places=DRILL_PLACES, today=TODAY)
    assert Tenant.objects.exists() and AuditEntry.objects.exists()
    backup_dir = tmp_path / "backup"
    call_command("backup", out=backup_dir, stdout=open(os.devnull, "w"))  # noqa: SIM115
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    assert manifest["tables"] == table_fingerprints()
    assert manifest["tables"]["tenants_tenant"]["rows"] == Tenant.objects.count()
    media = [name for name in manifest["files"] if name.startswith("media/")]
    assert media, "the demo city has uploaded evidence"

    target = targets("drill")
    restored = bihuan("restore", str(backup_dir), env=target.env())
    assert restored.returncode == 0, restored.stderr
    assert "row counts and checksums match" in restored.stdout

    # In the restored database (one more process): `bihuan audit verify`, then a backup of
    # it in turn, which must list the same tables, rows, checksums and files.
    again = tmp_path / "again"
    script = ("from django.core.management import call_command; "
              "call_command('audit', 'verify'); "
              f"call_command('backup', out={str(again)!r})")
    checked = bihuan("shell", "-c", script, env=target.env())
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert f"audit trail intact: {AuditEntry.objects.count()} entries verified" in checked.stdout
    assert read_manifest(again).tables == manifest["tables"]
    assert {k: v for k, v in read_manifest(again).files.items() if k.startswith("media/")} \
        == {k: v for k, v in manifest["files"].items() if k.startswith("media/")}

    # A database that is not empty (this one) is refused, before anything is touched.
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup_dir), stdout=open(os.devnull, "w"))  # noqa: SIM115


def _damage_photo(copy: Path) -> None:
    (copy / "media/evidence/x.jpg").write_bytes(b"not the photo")


def _lose_photo(copy: Path) -> None:
    (copy / "media/evidence/x.jpg").unlink()


def _add_file(copy: Path) -> None:
    (copy / "media/extra.txt").write_text("x")


@pytest.mark.django_db(transaction=True)
def test_a_backup_that_does_not_match_its_manifest_is_refused(tmp_path, world):
    from django.conf import settings

    from bihuan.testing import tiny_jpeg

    photo = Path(settings.MEDIA_ROOT) / "evidence" / "x.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(tiny_jpeg(1))
    areas = Area.objects.count()
    backup_dir = tmp_path / "backup"
    call_command("backup", out=backup_dir, stdout=open(os.devnull, "w"))  # noqa: SIM115
    for damage, complaint in ((_damage_photo, "checksum mismatch"), (_lose_photo, "missing"),
                              (_add_file, "not in the manifest")):
        copy = tmp_path / damage.__name__
        shutil.copytree(backup_dir, copy)
        damage(copy)
        # Refused while reading the manifest, before the database is looked at.
        with pytest.raises(CommandError, match=complaint):
            call_command("restore", str(copy), "--force")
    assert Area.objects.count() == areas
