"""Inspection submission over HTTP: grid workers' phones against `bihuan serve`.

    python bench/submission.py [--clients 16] [--seconds 30] [--workers 2] [--photo-share 0.2]

On the filled bench database (``bench/fill.py``) it starts ``bihuan serve``
(gunicorn, ``--workers`` processes, 4 threads each, no keep-alive unless
``BIHUAN_KEEPALIVE`` says otherwise: as in production) on a free loopback port, logs
``--clients`` grid workers in (each its own session, each in its own grid, each at a
place with no open hazard when the run starts), and has each submit whole inspections
through the field page (the walk form: every item of the place's checklist, one in
five with a hazard and its photo, a fresh client key each) for ``--seconds``; time is
taken around each POST (client side: the whole request over HTTP, the server's
queueing included).

Baseline, same run, same gunicorn settings and clients: a minimal WSGI application
(``minimal_wsgi.py``) that reads the form and INSERTs one row with plain psycopg —
what the same server does for a POST with nothing of Django in it.

Targets (issue 8): >= 200 submissions/s on two cores, p95 <= 500 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from common import BENCH_DIR, Row, database_url, percentile, report, setup_django

BIN = Path(sys.executable).parent
PASSWORD = "bench-submission-1"  # noqa: S105 (set on the bench database only)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ITEM = re.compile(r'name="r-([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pick_grid_workers(n: int, seed: int) -> list[tuple[str, int, int]]:
    """(username, place id, checklist id) for ``n`` grid workers, each with a place.

    Each place has no open hazard when the run starts. The bench registers hazards
    (one submission in five): a place used before carries them into every later
    visit, so a run on the same places as the last one would walk a longer form and
    write more carried rows than the run before, and runs would not compare.
    """
    from django.db.models import Exists, OuterRef

    from bihuan.accounts.models import Membership, User
    from bihuan.checklists.models import Checklist
    from bihuan.hazards.models import Hazard
    from bihuan.places.models import Place

    checklists = {
        kind: c.pk for c in Checklist.objects.active().filter(domain="fire")
        for kind in c.place_kinds
    }
    grants = list(Membership.objects.filter(role="grid_worker", user__username__startswith=
                                            "grid_worker_").select_related("user", "area")
                  .order_by("id")[:5000])
    random.Random(seed).shuffle(grants)
    chosen = []
    for grant in grants:
        still_open = Hazard.objects.filter(place=OuterRef("pk")).open()
        place = (Place.objects.filter(area__path__startswith=grant.area.path,
                                      kind__in=list(checklists))
                 .filter(~Exists(still_open)).order_by("id").first())
        if place is None:
            continue
        chosen.append((grant.user.username, place.pk, checklists[place.kind]))
        if len(chosen) == n:
            break
    users = User.objects.filter(username__in=[c[0] for c in chosen])
    for user in users:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return chosen


class Server:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(  # noqa: S603
            [*argv, "--bind", f"127.0.0.1:{self.port}"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/readyz", timeout=2)
                return
            time.sleep(0.3)
        raise SystemExit("bench: the server did not start")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)


def photo(seed: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (seed % 256, 80, 120)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def drive(url: str, make_request, clients: int, seconds: float  # type: ignore[no-untyped-def]
          ) -> tuple[list[float], int, float]:
    """Prepare ``clients`` senders (log in, open the page), then run them for ``seconds``."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    senders: list = []  # type: ignore[type-arg]

    def prepare(i: int) -> None:
        try:
            send = make_request(i)
        except Exception as error:  # a client that cannot even start is a failed run
            print(f"  client {i} could not start: {error!r}", flush=True)
            with lock:
                errors[0] += 1
            return
        with lock:
            senders.append(send)

    starting = [threading.Thread(target=prepare, args=(i,)) for i in range(clients)]
    for t in starting:
        t.start()
    for t in starting:
        t.join()
    stop = time.monotonic() + seconds

    def loop(send) -> None:  # type: ignore[no-untyped-def]
        while time.monotonic() < stop:
            started = time.perf_counter()
            ok = send()
            took = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=loop, args=(send,)) for send in senders]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.monotonic() - began


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--photo-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="submission")
    args = parser.parse_args(argv)
    import requests

    media = tempfile.mkdtemp(prefix="bihuan-bench-media-")
    setup_django(media_root=media)
    workers = pick_grid_workers(args.clients, args.seed)
    if len(workers) < args.clients:
        raise SystemExit("bench: not enough grid workers with places; run fill.py first")
    env = {**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": media,
           "ALLOWED_HOSTS": "127.0.0.1", "BIHUAN_ACCESS_LOG": os.devnull,
           "DB_CONN_MAX_AGE": "60", "BIHUAN_THREADS": "4"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    pictures = [photo(i) for i in range(8)]
    rows: list[Row] = []

    # -- ours: the real field page
    server = Server([str(BIN / "bihuan"), "serve", "--workers", str(args.workers)], env)
    try:
        def make(i: int):  # type: ignore[no-untyped-def]
            username, place_id, checklist_id = workers[i]
            http = requests.Session()
            login = server.url + "/accounts/login/"
            token = CSRF.search(http.get(login, timeout=30).text).group(1)  # type: ignore[union-attr]
            reply = http.post(login, data={"csrfmiddlewaretoken": token, "username": username,
                                           "password": PASSWORD},
                              headers={"Referer": login}, allow_redirects=False, timeout=30)
            assert reply.status_code == 302, f"login of {username}: {reply.status_code}"
            path = f"{server.url}/inspections/places/{place_id}/walk/{checklist_id}/"
            page = http.get(path, timeout=30).text
            token = CSRF.search(page).group(1)  # type: ignore[union-attr]
            items = sorted(set(ITEM.findall(page)))
            rng = random.Random(args.seed * 1000 + i)

            def send() -> bool:
                data = {"csrfmiddlewaretoken": token, "client_key": str(uuid.uuid4()),
                        "signed_by_name": "压测"}
                files = {}
                if items and rng.random() < args.photo_share:
                    code = rng.choice(items)
                    data[f"r-{code}"] = "fail"
                    data[f"detail-{code}"] = "压测发现的隐患"
                    files[f"before-{code}"] = ("before.jpg", rng.choice(pictures), "image/jpeg")
                try:
                    r = http.post(path, data=data, files=files or None,
                                  headers={"Referer": path}, allow_redirects=False, timeout=60)
                except requests.RequestException:
                    return False
                return r.status_code == 302 and "/notice/" in r.headers.get("Location", "")
            return send

        ours, our_errors, our_time = drive(server.url, make, args.clients, args.seconds)
    finally:
        server.stop()

    # -- baseline: a minimal WSGI view on the same server settings
    gunicorn = [str(BIN / "gunicorn"), "--chdir", str(BENCH_DIR), "--workers",
                str(args.workers), "--threads", "4", "--keep-alive",
                os.environ.get("BIHUAN_KEEPALIVE", "0"), "minimal_wsgi:application"]
    base = Server(gunicorn, {**env, "BENCH_DATABASE_URL": database_url()})
    try:
        def make_base(i: int):  # type: ignore[no-untyped-def]
            http = requests.Session()

            def send() -> bool:
                try:
                    r = http.post(base.url + "/submit", data={"client_key": str(uuid.uuid4()),
                                  "r-x": "pass"}, allow_redirects=False, timeout=60)
                except requests.RequestException:
                    return False
                return r.status_code == 302
            return send

        theirs, base_errors, base_time = drive(base.url, make_base, args.clients, args.seconds)
    finally:
        base.stop()

    our_rate = len(ours) / our_time
    base_rate = len(theirs) / base_time
    rows.append(Row(f"inspection submission, {args.clients} phones (throughput)", our_rate,
                    "submissions/s", baseline=base_rate, target_min=200,
                    note=f"{len(ours)} in {our_time:.1f} s, {our_errors} errors; baseline "
                         f"{len(theirs)}, {base_errors} errors"))
    rows.append(Row("inspection submission p50", percentile(ours, 50) * 1000, "ms",
                    baseline=percentile(theirs, 50) * 1000))
    rows.append(Row("inspection submission p95", percentile(ours, 95) * 1000, "ms",
                    baseline=percentile(theirs, 95) * 1000, target_max=500))
    report(rows, args.name, extra={"clients": args.clients, "seconds": args.seconds,
                                   "workers": args.workers, "photo_share": args.photo_share})
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
