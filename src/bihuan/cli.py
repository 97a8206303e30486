"""The ``bihuan`` command: demo, serve, worker, and Django's management commands."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def _setup(database_url: str | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bihuan.settings")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


def _serve(bind: str, workers: int) -> None:
    import gc

    from django.conf import settings
    from gunicorn.app.base import BaseApplication

    if settings.WHITENOISE_USE_FINDERS:
        # Outside production the files come from the apps (no collectstatic); WhiteNoise
        # still warns at start when the collected files' directory is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

    from bihuan.wsgi import application

    # Django, its models and everything imported so far live as long as the workers:
    # frozen before the fork, the collector no longer walks them in every full
    # collection (a request allocates enough to trigger several collections), and
    # the workers keep sharing their memory pages with this process.
    gc.collect()
    gc.freeze()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", int(os.environ.get("BIHUAN_THREADS", "4")))
            # No keep-alive by default. The server runs behind the reverse proxy, which
            # holds the phones' connections; a connection kept open to gunicorn pins
            # every request on it to the worker that accepted it, and a worker runs
            # Python on one core at a time (the GIL). Under load the pinned worker
            # queues while another idles (measured with 16 kept-alive clients: 8.0 s of
            # CPU in one worker, 2.2 s in the other; with four workers two got none).
            # Closed after each response, the next request goes to a worker that is
            # free to accept it. A loopback connect costs far less than the queueing.
            self.cfg.set("keepalive", int(os.environ.get("BIHUAN_KEEPALIVE", "0")))
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("accesslog", os.environ.get("BIHUAN_ACCESS_LOG", "-"))

        def load(self) -> object:
            return application

    Server().run()


def demo(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bihuan demo",
                                     description="Build the demo city and serve it.")
    parser.add_argument("--no-serve", action="store_true", help="stop after the data")
    parser.add_argument("--bind", default="127.0.0.1:8000")
    parser.add_argument("--seed", type=int, default=20220918)
    parser.add_argument("--places", type=int, default=20000)
    args = parser.parse_args(argv)
    if os.environ.get("BIHUAN_ENV") == "production":
        # The demo creates shared logins with printed passwords: never in production.
        sys.exit("bihuan demo refuses to run with BIHUAN_ENV=production "
                 "(it creates shared demo accounts).")
    var_dir = Path(os.environ.get("BIHUAN_VAR_DIR", Path.cwd() / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    database = var_dir / "demo.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    # The old demo's uploads belong to the database just deleted.
    shutil.rmtree(var_dir / "media", ignore_errors=True)
    os.environ["BIHUAN_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    _setup(f"sqlite:///{database}")
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from bihuan.demo.generator import generate

    logins = generate(seed=args.seed, places=args.places, stdout=sys.stdout)
    logins_file = var_dir / "demo-logins.txt"
    lines = [f"{role:16} {username:22} {password}" for role, username, password in logins]
    logins_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logins_file.chmod(0o600)
    print("\nDemo logins (also in var/demo-logins.txt):")
    print("\n".join(lines))
    if not args.no_serve:
        print(f"\nServing on http://{args.bind}/ (Ctrl+C stops).", flush=True)
        _serve(args.bind, workers=1)


def serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bihuan serve")
    parser.add_argument("--bind", default=os.environ.get("BIHUAN_BIND", "127.0.0.1:8000"))
    parser.add_argument("--workers", type=int,
                        default=int(os.environ.get("BIHUAN_WORKERS", "2")))
    args = parser.parse_args(argv)
    _setup()
    _serve(args.bind, args.workers)


def worker(argv: list[str]) -> None:
    _setup()
    from django.core.management import call_command

    from bihuan.core.taskrecovery import requeue_orphaned_tasks, worker_id

    # Tasks a killed worker had claimed run again (they are idempotent); the id
    # "host:pid" lets the next worker on this host tell whose claims are dead.
    requeue_orphaned_tasks()
    if not any(a.startswith("--worker-id") for a in argv):
        argv = [*argv, "--worker-id", worker_id()]
    # Beside the task queue: the deadline sweep every minute and the notification
    # outbox (bihuan.notifications.scheduler), safe with any number of workers.
    # "--no-scheduler" runs the task queue alone; under --reload only the child ticks.
    if "--no-scheduler" in argv:
        argv = [a for a in argv if a != "--no-scheduler"]
    elif "--reload" not in argv or os.environ.get("RUN_MAIN") == "true":
        import threading

        from bihuan.notifications.scheduler import run_forever

        threading.Thread(target=run_forever, args=(worker_id(), threading.Event()),
                         name="bihuan-scheduler", daemon=True).start()
    call_command("db_worker", *argv)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command == "demo":
        demo(rest)
    elif command == "serve":
        serve(rest)
    elif command == "worker":
        worker(rest)
    else:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bihuan.settings")
        from django.core.management import execute_from_command_line

        # Spelled with a dash on the command line, like the other bihuan commands.
        aliases = {"api-token": "api_token"}
        execute_from_command_line(["bihuan", aliases.get(command, command), *rest])


if __name__ == "__main__":
    main()
