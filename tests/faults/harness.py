"""Real processes for the fault tests: a private PostgreSQL, `bihuan serve`, `bihuan worker`.

The fault tests kill and restart these, so they never touch a server anyone else uses:
PostgreSQL is a throw-away cluster in a temporary directory on a free port.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries (initdb) are not installed")


class PrivatePostgres:
    """A PostgreSQL cluster of our own, so it can be killed and restarted."""

    def __init__(self, base: Path) -> None:
        self.bin = _pg_bin()
        self.dir = base / "pgdata"
        self.sock = base / "pgsock"
        self.port = free_port()
        self.log = base / "postgres.log"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        for d in (self.dir, self.sock):
            d.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(self.dir.parent, "postgres")
            for d in (self.dir, self.sock):
                shutil.chown(d, "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres")
        self._run(self.bin / "initdb", "-D", self.dir, "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        self._run(self.bin / "createdb", "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", "bihuan")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(self.bin / "pg_ctl", "-D", self.dir, "-o", opts, "-l", self.log,
                  "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.bin / "pg_ctl", "-D", self.dir, "-m", mode, "-w", "stop", check=False)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/bihuan"

    def sql(self, query: str) -> str:
        out = self._run(self.bin / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "postgres", "-d", "bihuan", "-At", "-c", query)
        return out.stdout.strip()


@dataclass
class Stack:
    """Environment shared by every process of one fault test."""

    base: Path
    database_url: str
    media_root: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "BIHUAN_VAR_DIR": str(self.base / "var"),
            "MEDIA_ROOT": str(self.media_root),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BIHUAN_ACCESS_LOG": str(self.base / "access.log"),
            "DB_CONN_MAX_AGE": "60",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def bihuan(self, *args: str, timeout: int = 300, check: bool = True
               ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "bihuan"), *args], env=self.env, cwd=self.base,
                              capture_output=True, text=True, timeout=timeout, check=check)

    def seed(self) -> dict[str, object]:
        """Migrate and build the small test city; returns ids the clients need."""
        self.bihuan("migrate", "--no-input", "-v", "0")
        out = subprocess.run([str(BIN / "python"), str(Path(__file__).with_name("seed.py"))],
                             env=self.env, cwd=self.base, capture_output=True, text=True,
                             timeout=300, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    """`bihuan serve` (gunicorn, 2 workers): the master respawns a killed worker."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(stack.base / f"serve-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "bihuan"), "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "2"],
            env=stack.env, cwd=stack.base, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(60)

    def wait_ready(self, within: float) -> float:
        """Seconds until /readyz answers 200 (raises after ``within``)."""
        start = time.monotonic()
        while time.monotonic() - start < within:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - start
            time.sleep(0.2)
        raise AssertionError(f"server not ready within {within} s")

    def workers(self) -> list[psutil.Process]:
        """The master's live workers: a killed one stays a child (a zombie) until the
        master reaps it, and must not count as one of them."""
        live = []
        for child in psutil.Process(self.proc.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.status() != psutil.STATUS_ZOMBIE:
                    live.append(child)
        return live

    def kill_a_worker(self) -> int:
        victim = self.workers()[0]
        victim.send_signal(signal.SIGKILL)
        return victim.pid

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self.log.close()


class Worker:
    """`bihuan worker`: the background task runner."""

    def __init__(self, stack: Stack, name: str = "w") -> None:
        self.log = open(stack.base / f"worker-{name}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "bihuan"), "worker", "--interval", "0.2"],
            env=stack.env, cwd=stack.base, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self.log.close()


INPUT = re.compile(r'<input[^>]*name="(?P<name>[^"]+)"[^>]*>')
VALUE = re.compile(r'value="(?P<value>[^"]*)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="(?P<token>[^"]+)"')


class FieldClient:
    """A grid worker's phone: logs in, submits inspections, retries until acknowledged.

    Every submission carries its own client key; a retry re-sends the same key, as the
    field page does after a lost connection. ``acknowledged`` holds the keys the server
    confirmed (a redirect to the inspection's notice).
    """

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.username, self.password = username, password
        self.acknowledged: dict[str, int] = {}
        self.errors: list[str] = []
        self.attempts = 0
        self._login()

    def _csrf(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=10)
        page.raise_for_status()
        found = CSRF.search(page.text)
        assert found, f"no CSRF token on {path}"
        return found.group("token")

    def _login(self) -> None:
        token = self._csrf("/accounts/login/")
        reply = self.http.post(self.base + "/accounts/login/", data={
            "csrfmiddlewaretoken": token, "username": self.username, "password": self.password,
        }, headers={"Referer": self.base + "/accounts/login/"}, timeout=10,
            allow_redirects=False)
        assert reply.status_code == 302, f"login failed: {reply.status_code}"

    def submit(self, place_id: int, checklist_id: int, item_code: str, photo: bytes,
               deadline: str, give_up_after: float = 90.0) -> str:
        """One inspection with one hazard and a photo, retried until acknowledged."""
        key = str(uuid.uuid4())
        path = f"/inspections/places/{place_id}/walk/{checklist_id}/"
        started = time.monotonic()
        while time.monotonic() - started < give_up_after:
            self.attempts += 1
            try:
                token = self._csrf(path)
                reply = self.http.post(
                    self.base + path,
                    data={"csrfmiddlewaretoken": token, "client_key": key,
                          f"r-{item_code}": "fail", f"deadline-{item_code}": deadline,
                          f"detail-{item_code}": f"故障测试 {key[:8]}",
                          "signed_by_name": "测试"},
                    files={f"before-{item_code}": ("before.jpg", photo, "image/jpeg")},
                    headers={"Referer": self.base + path}, timeout=15, allow_redirects=False,
                )
            except requests.RequestException as error:
                self.errors.append(type(error).__name__)
                time.sleep(0.3)
                continue
            if reply.status_code == 302 and "/notice/" in reply.headers.get("Location", ""):
                inspection_id = int(reply.headers["Location"].rstrip("/").split("/")[-2])
                self.acknowledged[key] = inspection_id
                return key
            self.errors.append(str(reply.status_code))
            if reply.status_code in (400, 403, 404):
                raise AssertionError(f"submission refused: {reply.status_code} {reply.text[:300]}")
            time.sleep(0.3)
        raise AssertionError(f"submission {key} not acknowledged within {give_up_after} s")


def run_clients(clients: list[FieldClient], per_client: int, seed: dict[str, object],
                photo: bytes, stop_when: threading.Event | None = None) -> list[BaseException]:
    failures: list[BaseException] = []

    def loop(client: FieldClient) -> None:
        try:
            for _ in range(per_client):
                if stop_when is not None and stop_when.is_set():
                    return
                client.submit(int(seed["place_id"]), int(seed["checklist_id"]),  # type: ignore[call-overload]
                              str(seed["item_code"]), photo, str(seed["deadline"]))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


@contextlib.contextmanager
def background(target, *args: object) -> Iterator[threading.Thread]:  # type: ignore[no-untyped-def]
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        thread.join(timeout=300)
