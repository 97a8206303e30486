"""Fault tests: kill and restart real processes during the evening sweep (`make test-faults`).

Each test runs `bihuan serve` (gunicorn, two workers) on a private PostgreSQL cluster,
drives grid workers' phones (FieldClient) that submit inspections with a hazard and a
photo and retry with the same client key until the server confirms, provokes one
fault, and then checks what the brief asks for: no partial rows, no lost submission
the client was told succeeded, no duplicate from a retry, the service answering again
within 10 s, and `bihuan audit verify` (and `bihuan metrics verify` where present)
clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bihuan.testing import tiny_jpeg

from .harness import (
    FieldClient,
    PrivatePostgres,
    Server,
    Stack,
    Worker,
    run_clients,
)

CLIENTS = 4
PER_CLIENT = 12


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's temporary directory: that is private to us, and the
    # cluster runs as the postgres user when we are root.
    base = Path(tempfile.mkdtemp(prefix="bihuan-faults-pg-"))
    os.chmod(base, 0o755)
    pg = PrivatePostgres(base)
    try:
        pg.init()
        yield pg
    finally:
        pg.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def stack(postgres: PrivatePostgres, tmp_path: Path, request: pytest.FixtureRequest
          ) -> Iterator[Stack]:
    name = request.node.name.replace("test_", "")[:40]
    postgres.sql(f"DROP DATABASE IF EXISTS {name}")
    postgres.sql(f"CREATE DATABASE {name}")
    url = postgres.url.rsplit("/", 1)[0] + f"/{name}"
    media = tmp_path / "media"
    media.mkdir()
    yield Stack(base=tmp_path, database_url=url, media_root=media)


def sql(stack: Stack, query: str) -> str:
    out = stack.bihuan("dbshell", "--", "-At", "-c", query)
    return out.stdout.strip()


def check_records(stack: Stack, clients: list[FieldClient]) -> None:
    """What the clients were told happened, happened once; nothing is half-written."""
    acknowledged = {k: v for c in clients for k, v in c.acknowledged.items()}
    keys = ",".join(f"'{k}'" for k in acknowledged)
    rows = sql(stack, f"SELECT client_key, id FROM inspections_inspection "
                      f"WHERE client_key IN ({keys})").splitlines()
    stored = {k: int(v) for k, v in (r.split("|") for r in rows)}
    assert stored == acknowledged, "a confirmed submission is lost"
    # Retries never made a second inspection: every inspection in the database has a key
    # a client was told about (the clients make no other submissions).
    total = int(sql(stack, "SELECT count(*) FROM inspections_inspection"))
    assert total == len(acknowledged), f"{total} inspections for {len(acknowledged)} confirmed"
    # Each inspection made its one hazard, with its photo on disk.
    per_inspection = sql(stack, "SELECT i.id, count(DISTINCT h.id), count(e.id) "
                                "FROM inspections_inspection i "
                                "LEFT JOIN hazards_hazard h ON h.inspection_id = i.id "
                                "LEFT JOIN hazards_evidence e ON e.hazard_id = h.id "
                                "GROUP BY i.id").splitlines()
    for row in per_inspection:
        _id, hazards, photos = row.split("|")
        assert (hazards, photos) == ("1", "1"), f"partial submission: inspection {row}"
    files = sql(stack, "SELECT file FROM hazards_evidence").splitlines()
    missing = [f for f in files if not (stack.media_root / f).is_file()]
    assert not missing, f"evidence rows without their file: {missing[:3]}"
    # No hazard or event without its inspection's transaction having committed.
    orphans = sql(stack, "SELECT count(*) FROM hazards_hazard WHERE inspection_id IS NULL")
    assert orphans == "0"


def check_verifiers(stack: Stack) -> None:
    audit = stack.bihuan("audit", "verify", check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    listed = stack.bihuan("help", "metrics", check=False)
    if listed.returncode == 0:  # the dashboard's summaries, once that command exists
        metrics = stack.bihuan("metrics", "verify", check=False)
        assert metrics.returncode == 0, metrics.stdout + metrics.stderr


def clients_for(server: Server, seed: dict[str, object], n: int = CLIENTS) -> list[FieldClient]:
    return [FieldClient(server.url, str(seed["username"]), str(seed["password"]))
            for _ in range(n)]


def test_web_worker_killed_mid_submissions(stack: Stack) -> None:
    seed = stack.seed()
    server = Server(stack)
    try:
        clients = clients_for(server, seed)
        killed: list[int] = []

        def killer() -> None:
            for delay in (1.5, 3.0):
                time.sleep(delay)
                killed.append(server.kill_a_worker())

        chaos = threading.Thread(target=killer)
        chaos.start()
        failures = run_clients(clients, PER_CLIENT, seed, tiny_jpeg(7))
        chaos.join()
        assert not failures, failures
        assert len(killed) == 2
        # The master replaced the killed workers (within the same 10 s: the clients
        # may finish just after the second kill); the service answers.
        assert server.wait_ready(10) < 10
        deadline = time.monotonic() + 10
        workers = server.workers()
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = server.workers()
        assert len(workers) == 2, workers
        assert not {w.pid for w in workers} & set(killed)
        check_records(stack, clients)
        assert sum(c.attempts for c in clients) >= CLIENTS * PER_CLIENT
    finally:
        server.stop()
    check_verifiers(stack)


def test_postgres_restarted_immediately_under_load(stack: Stack, postgres: PrivatePostgres
                                                   ) -> None:
    seed = stack.seed()
    server = Server(stack)
    try:
        clients = clients_for(server, seed)
        recovery: list[float] = []

        def restart() -> None:
            time.sleep(1.5)
            postgres.stop("immediate")  # a crash: no checkpoint, clients cut off
            time.sleep(2)
            postgres.start()
            recovery.append(server.wait_ready(10))

        chaos = threading.Thread(target=restart)
        chaos.start()
        failures = run_clients(clients, PER_CLIENT, seed, tiny_jpeg(8))
        chaos.join()
        assert not failures, failures
        assert recovery and recovery[0] < 10, f"service answered again after {recovery} s"
        check_records(stack, clients)
        # The restart really cut requests off: some attempts failed and were retried.
        assert any(c.errors for c in clients), "the restart went unnoticed; test is not testing"
    finally:
        server.stop()
    check_verifiers(stack)


def test_task_worker_killed_mid_tasks(stack: Stack) -> None:
    seed = stack.seed()
    server = Server(stack)
    try:
        clients = clients_for(server, seed, n=2)
        failures = run_clients(clients, PER_CLIENT, seed, tiny_jpeg(9))
        assert not failures, failures
        pending = int(sql(stack, "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                                 "WHERE status = 'READY'"))
        assert pending >= len(clients) * PER_CLIENT  # one notice task per registration
        # Kill the worker while it works through the queue, then start another.
        first = Worker(stack, "first")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = int(sql(stack, "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                                  "WHERE status = 'SUCCESSFUL'"))
            if done >= 3:
                break
            time.sleep(0.05)
        first.kill()
        second = Worker(stack, "second")
        try:
            deadline = time.monotonic() + 120
            left = -1
            while time.monotonic() < deadline:
                left = int(sql(stack, "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                                      "WHERE status IN ('READY', 'RUNNING', 'FAILED')"))
                if left == 0:
                    break
                time.sleep(0.5)
            assert left == 0, sql(stack, "SELECT status, count(*), max(exception_class_path) "
                                         "FROM django_tasks_database_dbtaskresult GROUP BY status")
        finally:
            second.stop()
        # Every registration reached the responsible party, once.
        missing = sql(stack, """
            SELECT count(*) FROM hazards_hazardevent e
            JOIN hazards_hazard h ON h.id = e.hazard_id
            JOIN places_place p ON p.id = h.place_id
            JOIN places_party y ON y.id = p.party_id
            WHERE e.action = 'register' AND NOT EXISTS (
                SELECT 1 FROM notifications_notification n
                WHERE n.event_id = e.id AND n.user_id = y.user_id)""")
        assert missing == "0", f"{missing} registrations never notified"
        twice = sql(stack, "SELECT count(*) FROM (SELECT event_id, user_id FROM "
                           "notifications_notification GROUP BY 1, 2 HAVING count(*) > 1) d")
        assert twice == "0"
        check_records(stack, clients)
    finally:
        server.stop()
    check_verifiers(stack)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small disk needs root")


@needs_root
def test_upload_disk_full(stack: Stack, tmp_path: Path) -> None:
    small = tmp_path / "small-disk"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        stack.media_root = small
        stack.env["MEDIA_ROOT"] = str(small)
        seed = stack.seed()
        server = Server(stack)
        try:
            client = clients_for(server, seed, n=1)[0]
            photo = _large_jpeg()
            # Fill the disk so that the photo no longer fits.
            filler = small / "filler"
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            path = (f"/inspections/places/{seed['place_id']}/walk/{seed['checklist_id']}/")
            item = seed["item_code"]
            token_page = client.http.get(server.url + path, timeout=10).text
            token = token_page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
            key = "6d1f0c4e-8a52-4d6b-9d0e-3c1f1b2a9e77"
            reply = client.http.post(
                server.url + path,
                data={"csrfmiddlewaretoken": token, "client_key": key, f"r-{item}": "fail",
                      f"deadline-{item}": seed["deadline"], "signed_by_name": "测试"},
                files={f"before-{item}": ("before.jpg", photo, "image/jpeg")},
                headers={"Referer": server.url + path, "Accept-Language": "zh-hans"},
                timeout=15, allow_redirects=False,
            )
            # A clear, translated refusal; not a crash page.
            assert reply.status_code == 507, reply.status_code
            assert "存储空间" in reply.text
            assert sql(stack, "SELECT count(*) FROM inspections_inspection") == "0"
            assert sql(stack, "SELECT count(*) FROM hazards_hazard") == "0"
            # The storage may have made its directory; no file but the filler may be left.
            left = sorted(str(p.relative_to(small)) for p in small.rglob("*") if p.is_file())
            assert left == ["filler"], f"partial file left: {left}"
            # Space comes back: the same submission, retried, goes through once.
            filler.unlink()
            client.submit(int(seed["place_id"]), int(seed["checklist_id"]), str(item), photo,
                          str(seed["deadline"]))
            assert server.wait_ready(10) < 10
            check_records(stack, [client])
        finally:
            server.stop()
        check_verifiers(stack)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def _large_jpeg() -> bytes:
    """A real photo of a few hundred kilobytes (noise does not compress)."""
    import io
    import random

    from PIL import Image

    rng = random.Random(3)
    image = Image.frombytes("RGB", (500, 500), rng.randbytes(750000))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    assert buffer.tell() > 200_000
    return buffer.getvalue()
