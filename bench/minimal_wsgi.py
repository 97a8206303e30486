"""The submission bench's baseline: the least a WSGI server can do for a form POST.

Parses the urlencoded body, INSERTs one row with plain psycopg (one connection per
thread, kept), answers 302. No Django, no session, no validation, no audit.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import parse_qs

import psycopg

_local = threading.local()
_DDL = ("CREATE TABLE IF NOT EXISTS bench_minimal_submission "
        "(id bigserial PRIMARY KEY, client_key uuid UNIQUE, body text)")


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = psycopg.connect(os.environ["BENCH_DATABASE_URL"], autocommit=True)
        conn.execute(_DDL)
        _local.conn = conn
    return conn


def application(environ, start_response):  # type: ignore[no-untyped-def]
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(size).decode()
    form = parse_qs(body)
    _connection().execute(
        "INSERT INTO bench_minimal_submission (client_key, body) VALUES (%s, %s)",
        [form.get("client_key", [None])[0], body],
    )
    start_response("302 Found", [("Location", "/done"), ("Content-Length", "0")])
    return [b""]
