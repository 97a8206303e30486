"""Killing ``bihuan import`` in the middle of its commit leaves the database as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bihuan.imports.services import PAUSE_ENV
from bihuan.imports.tests.ledgers import plain_rows, write_csv

ROWS = 1500
PAUSE_AFTER = 500


def _database_copy(tmp_path: Path) -> tuple[str, Any]:
    """A database URL the subprocess can reach holding the test's committed world,
    and a function that counts rows of a table there."""
    if connection.vendor == "sqlite":
        target = tmp_path / "kill.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)

        def count(table: str) -> int:
            with sqlite3.connect(target) as db:
                return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        return f"sqlite:///{target}", count
    settings = connection.settings_dict
    url = (f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
           f"{settings['PORT'] or 5432}/{settings['NAME']}")

    def count(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            return int(cursor.fetchone()[0])

    return url, count


@pytest.mark.django_db(transaction=True)
def test_killing_the_import_mid_way_leaves_the_database_as_before(tmp_path: Path) -> None:
    from bihuan.testing import build_world

    build_world(with_checklists=False)
    url, count = _database_copy(tmp_path)
    # The upload itself is on the record (outside the commit): count everything else.
    tables = ("places_place", "places_party",
              "audit_auditentry WHERE action <> 'import.upload'")
    before = {table: count(table) for table in tables}
    ledger = write_csv(tmp_path / "big.csv", plain_rows(ROWS), encoding="gb18030")
    env = {**os.environ, "DATABASE_URL": url, PAUSE_ENV: str(PAUSE_AFTER),
           "MEDIA_ROOT": str(tmp_path / "media"), "BIHUAN_VAR_DIR": str(tmp_path / "var")}
    env.pop("BIHUAN_TEST_DB_SUFFIX", None)
    command = [sys.executable, "-m", "bihuan.cli", "import", "places", str(ledger),
               "--area", "330784001000", "--user", "east_officer"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,  # noqa: S603
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        paused = False
        assert process.stderr is not None
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            if line.startswith("import: paused after"):
                paused = True
                break
        assert paused, process.stdout.read() if process.stdout else ""
        # The rows so far are written, inside the open transaction: now pull the plug.
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert {table: count(table) for table in tables} == before
    # Run to its end without the pause, the same import writes every row.
    env.pop(PAUSE_ENV)
    done = subprocess.run(command, env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert count("places_place") == before["places_place"] + ROWS
