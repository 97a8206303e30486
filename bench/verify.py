"""`bihuan audit verify` and `bihuan metrics verify` over the whole bench database.

    python bench/verify.py [--skip-metrics]

Each verifier runs as the command an operator types (a subprocess on the bench
database), timed end to end. Baselines, same run, through plain psycopg:

- audit: reading every audit entry in stream order (``COPY (SELECT ...) TO STDOUT``)
  and SHA-256 over each row's bytes: the I/O and hashing floor of any chain check;
- metrics: one plain SQL aggregate of the hazard table by area and state (the
  floor of recomputing the figures from raw records).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time

from common import Row, database_url, psycopg_conninfo, report, setup_django
from submission import BIN


def _command(*args: str) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "bihuan"), *args], env=env, capture_output=True,  # noqa: S603
                          text=True, check=False)
    return time.perf_counter() - started, done.returncode, (done.stdout + done.stderr)[-400:]


def audit_floor() -> tuple[float, int]:
    import psycopg

    started = time.perf_counter()
    rows = 0
    with psycopg.connect(psycopg_conninfo()) as conn, conn.cursor() as cur, cur.copy(
        "COPY (SELECT * FROM audit_auditentry ORDER BY stream, seq) TO STDOUT"
    ) as copy:
        digest = hashlib.sha256()
        for block in copy:  # blocks of rows as the server sends them
            data = bytes(block)
            digest.update(data)
            rows += data.count(b"\n")
    return time.perf_counter() - started, rows


def metrics_floor() -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(psycopg_conninfo()) as conn:
        conn.execute("SELECT area_id, state, severity, count(*), "
                     "count(*) FILTER (WHERE deadline < current_date) "
                     "FROM hazards_hazard GROUP BY 1, 2, 3").fetchall()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-metrics", action="store_true")
    parser.add_argument("--name", default="verify")
    args = parser.parse_args(argv)
    setup_django()
    from bihuan.audit.models import AuditEntry

    entries = AuditEntry.objects.count()
    rows: list[Row] = []
    took, code, tail = _command("audit", "verify")
    floor, _n = audit_floor()
    rows.append(Row(f"audit verify, {entries:,} entries", took, "s", baseline=floor,
                    note=f"exit {code}" + ("" if code == 0 else f": {tail}")))
    if not args.skip_metrics:
        took, code, tail = _command("metrics", "verify")
        rows.append(Row("metrics verify, every area", took, "s", baseline=metrics_floor(),
                        note=f"exit {code}" + ("" if code == 0 else f": {tail}")))
    report(rows, args.name, extra={"audit_entries": entries})
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
