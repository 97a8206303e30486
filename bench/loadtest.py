"""Load test: 200 simulated users in the campaign's mix against `bihuan serve` on PostgreSQL.

    python bench/loadtest.py [--users 200] [--spawn-rate 20] [--minutes 5] [--workers 2]

On the filled bench database (``bench/fill.py``): sets passwords for a sample of grid
workers (each with a place in their grid), town officers and the commander; starts
``bihuan serve`` on a free loopback port; runs locust headless (``locustfile.py``) for
``--minutes``, bounded in time; then prints, per request type, the count, failures,
requests/s and p50/p95/p99 (ms), and appends them to ``bench/results/loadtest.json``.
Loopback only: nothing leaves the machine.

Baseline, same run: a minimal WSGI view (``minimal_wsgi.py``) on the same gunicorn
settings under the same locust concurrency answering a GET (the server's own floor).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import BENCH_DIR, Row, database_url, report, setup_django
from submission import BIN, PASSWORD, Server, pick_grid_workers


def prepare_users(grid_workers: int, seed: int) -> dict[str, object]:
    from bihuan.accounts.models import Membership, User
    from bihuan.areas.models import Area

    workers = pick_grid_workers(grid_workers, seed)
    officers = list(Membership.objects.filter(role="town_officer").values_list(
        "user__username", flat=True).order_by("id")[:28])
    commanders = list(Membership.objects.filter(role="command_staff").values_list(
        "user__username", flat=True).order_by("id")[:4])
    for user in User.objects.filter(username__in=officers + commanders):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    towns = list(Area.objects.filter(level="town").values_list("pk", flat=True))
    return {
        "password": PASSWORD,
        "grid_workers": [{"username": u, "place_id": p, "checklist_id": c}
                         for u, p, c in workers],
        "officers": [{"username": u} for u in officers],
        "commanders": [{"username": u} for u in commanders],
        "towns": [str(t) for t in towns],
    }


def run_locust(host: str, users: int, rate: int, minutes: float, out: Path,
               env: dict[str, str], locustfile: Path) -> list[dict[str, str]]:
    prefix = out / "stats"
    cmd = [str(BIN / "locust"), "-f", str(locustfile), "--headless", "-u", str(users),
           "-r", str(rate), "-t", f"{int(minutes * 60)}s", "--host", host, "--csv",
           str(prefix), "--only-summary", "--stop-timeout", "10", "--exit-code-on-error", "0"]
    subprocess.run(cmd, env=env, check=True, timeout=int(minutes * 60) + 180)  # noqa: S603
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grid-workers", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="loadtest")
    args = parser.parse_args(argv)
    media = tempfile.mkdtemp(prefix="bihuan-loadtest-media-")
    setup_django(media_root=media)
    out = Path(tempfile.mkdtemp(prefix="bihuan-loadtest-"))
    users_file = out / "users.json"
    users_file.write_text(json.dumps(prepare_users(args.grid_workers, args.seed)),
                          encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": database_url(), "MEDIA_ROOT": media,
           "ALLOWED_HOSTS": "127.0.0.1", "BIHUAN_ACCESS_LOG": os.devnull,
           "DB_CONN_MAX_AGE": "60", "BIHUAN_LOADTEST_USERS": str(users_file),
           # Every simulated citizen comes from 127.0.0.1: lift the per-address limit.
           "BIHUAN_REPORTS_PER_HOUR": "100000", "BIHUAN_REPORTS_PER_DAY": "100000"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = Server([str(BIN / "bihuan"), "serve", "--workers", str(args.workers)], env)
    try:
        stats = run_locust(server.url, args.users, args.spawn_rate, args.minutes, out, env,
                           BENCH_DIR / "locustfile.py")
    finally:
        server.stop()
    base_dir = out / "baseline"
    base_dir.mkdir()
    (base_dir / "locustfile.py").write_text(
        "from locust import HttpUser, between, task\n\n\n"
        "class Floor(HttpUser):\n    wait_time = between(1, 3)\n\n"
        "    @task\n    def get(self):\n        self.client.get('/', name='minimal view')\n",
        encoding="utf-8")
    gunicorn = [str(BIN / "gunicorn"), "--chdir", str(BENCH_DIR), "--workers",
                str(args.workers), "--threads", "4", "minimal_wsgi:application"]
    base = Server(gunicorn, {**env, "BENCH_DATABASE_URL": database_url()})
    try:
        floor = run_locust(base.url, args.users, args.spawn_rate, min(args.minutes, 1.0),
                           base_dir, env, base_dir / "locustfile.py")
    finally:
        base.stop()
    floor_total = next(r for r in floor if r["Name"] == "Aggregated")
    rows: list[Row] = []
    for r in stats:
        name = r["Name"]
        if name in ("login page", "login"):
            continue
        count, failures = int(r["Request Count"]), int(r["Failure Count"])
        note = (f"{count} requests, {failures} failures, {float(r['Requests/s']):.1f}/s, "
                f"p50 {r['50%']} ms, p99 {r['99%']} ms")
        rows.append(Row(f"load: {name} p95", float(r["95%"]), "ms",
                        baseline=float(floor_total["95%"]) if name == "Aggregated" else None,
                        note=note))
        if name == "Aggregated":
            rows.append(Row("load: errors", failures, "requests", target_max=0, note=note))
            rows.append(Row("load: throughput", float(r["Requests/s"]), "requests/s",
                            baseline=float(floor_total["Requests/s"])))
    report(rows, args.name, extra={"users": args.users, "minutes": args.minutes,
                                   "workers": args.workers, "stats": stats, "floor": floor})
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
