"""Shared helpers for the bench scripts: Django on the bench database, timing, reporting.

The bench scripts are run as files (``python bench/fill.py``), so this module is
imported as ``common`` from the ``bench`` directory.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bihuan_bench"

_ready = False


def database_url() -> str:
    """The bench database: ``BENCH_DATABASE_URL`` or the dedicated ``bihuan_bench``.

    ``DATABASE_URL`` is deliberately ignored so a bench never fills the dev database.
    """
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def setup_django(*, media_root: str | None = None) -> None:
    """Point Django at the bench database and set it up (once per process)."""
    global _ready
    if _ready:
        return
    url = database_url()
    if url.startswith("sqlite") or "sqlite" in url.split(":", 1)[0]:
        raise SystemExit(f"bench: refusing to run on SQLite ({url}); use PostgreSQL.")
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bihuan.settings"
    if media_root is not None:
        os.environ["MEDIA_ROOT"] = media_root
    # BENCH_SRC: measure a candidate change on a scratch copy of src/ without touching it.
    src = os.environ.get("BENCH_SRC") or str(PROJECT_DIR / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django
    from django.conf import settings

    django.setup()
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        raise SystemExit(f"bench: refusing to run on {engine}; the bench needs PostgreSQL.")
    _ready = True


def psycopg_conninfo() -> str:
    """The same database as Django's, as a libpq URI for plain psycopg."""
    url = database_url()
    if url.startswith("postgis://"):
        url = "postgres://" + url.removeprefix("postgis://")
    return url


# ---------------------------------------------------------------- timing


@dataclass
class Stopwatch:
    started: float = field(default_factory=time.perf_counter)
    laps: dict[str, float] = field(default_factory=dict)
    _last: float = 0.0

    def __post_init__(self) -> None:
        self._last = self.started

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        took = now - self._last
        self.laps[name] = self.laps.get(name, 0.0) + took
        self._last = now
        return took

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


@contextmanager
def timed(label: str, *, rows: int | None = None, out: dict[str, float] | None = None
          ) -> Iterator[None]:
    """Print how long a block took (and its rows/s when ``rows`` is given)."""
    start = time.perf_counter()
    yield
    took = time.perf_counter() - start
    if out is not None:
        out[label] = took
    if rows:
        print(f"  {label:<38} {took:8.2f} s  {rows:>10,} rows  {rows / took:>11,.0f} rows/s",
              flush=True)
    else:
        print(f"  {label:<38} {took:8.2f} s", flush=True)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) with linear interpolation; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# ---------------------------------------------------------------- machine


def commit_probe(n: int = 200) -> dict[str, float]:
    """Median and p95 (ms) of a one-row INSERT + COMMIT with synchronous_commit on.

    The WAL flush is the floor of every transition; on a shared disk it moves
    (0.1 ms quiet, several ms when other work fsyncs), so each run records it.
    """
    import psycopg

    latencies = []
    with psycopg.connect(psycopg_conninfo(), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (x integer)")
        try:
            for i in range(n):
                started = time.perf_counter()
                conn.execute("INSERT INTO bench_commit_probe VALUES (%s)", [i])
                latencies.append(time.perf_counter() - started)
        finally:
            conn.execute("DROP TABLE IF EXISTS bench_commit_probe")
    return {"commit_p50_ms": round(percentile(latencies, 50) * 1000, 3),
            "commit_p95_ms": round(percentile(latencies, 95) * 1000, 3)}


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def postgres_info() -> dict[str, Any]:
    from django.db import connection

    info: dict[str, Any] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        info["version"] = cursor.fetchone()[0]
        for name in ("server_version", "shared_buffers", "synchronous_commit", "fsync",
                     "wal_sync_method", "max_wal_size", "checkpoint_timeout",
                     "wal_compression", "work_mem"):
            cursor.execute(f"SHOW {name}")
            info[name] = cursor.fetchone()[0]
    return info


def code_info() -> dict[str, Any]:
    """Which bihuan was measured: its path (BENCH_SRC?), git commit, changed files."""
    import subprocess

    info: dict[str, Any] = {}
    try:
        import bihuan

        package = Path(bihuan.__file__).resolve().parent
        # Relative to the repository when measured in place: no machine paths in results.
        try:
            info["bihuan"] = str(package.relative_to(BENCH_DIR.parent))
        except ValueError:
            info["bihuan"] = "BENCH_SRC copy"
    except ImportError:
        pass
    git = shutil.which("git")
    if git is None:
        return info
    try:
        head = subprocess.run([git, "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR,  # noqa: S603
                              capture_output=True, text=True, check=False)
        status = subprocess.run([git, "status", "--short", "src"], cwd=PROJECT_DIR,  # noqa: S603
                                capture_output=True, text=True, check=False)
        info["commit"] = head.stdout.strip()
        info["src_changes"] = status.stdout.splitlines()
    except OSError:
        pass
    return info


def machine_info() -> dict[str, Any]:
    memory = _memory_bytes()
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        nproc = os.cpu_count() or 0
    info: dict[str, Any] = {
        "host": socket.gethostname(),
        "nproc": nproc,
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # Other work on the machine skews a bench: record how busy it was.
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    info["code"] = code_info()
    try:
        info["postgresql"] = postgres_info()
    except Exception as exc:  # the report must not fail for lack of a detail
        info["postgresql"] = {"error": str(exc)}
    return info


# ---------------------------------------------------------------- reporting


@dataclass
class Row:
    """One line of the result table.

    ``target_min`` / ``target_max`` bound ``ours``; ``target_ratio`` bounds
    ``ours / baseline`` from below. A row without any target is informational.
    """

    workload: str
    ours: float
    unit: str
    baseline: float | None = None
    target_min: float | None = None
    target_max: float | None = None
    target_ratio: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.ours is None:
            return None
        return self.ours / self.baseline

    @property
    def target(self) -> str:
        parts = []
        if self.target_min is not None:
            parts.append(f">= {_num(self.target_min)} {self.unit}")
        if self.target_max is not None:
            parts.append(f"<= {_num(self.target_max)} {self.unit}")
        if self.target_ratio is not None:
            parts.append(f"ratio >= {self.target_ratio:g}")
        return "; ".join(parts) or "-"

    @property
    def verdict(self) -> str:
        checks = []
        if self.target_min is not None:
            checks.append(self.ours >= self.target_min)
        if self.target_max is not None:
            checks.append(self.ours <= self.target_max)
        if self.target_ratio is not None:
            ratio = self.ratio
            checks.append(ratio is not None and ratio >= self.target_ratio)
        if not checks:
            return "-"
        return "pass" if all(checks) else "falls short"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio=self.ratio, target=self.target, verdict=self.verdict)
        return data


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


COLUMNS = ("workload", "ours", "baseline", "unit", "ratio", "target", "verdict")


def format_table(rows: Sequence[Row]) -> str:
    cells = [COLUMNS]
    for row in rows:
        cells.append((
            row.workload,
            _num(row.ours),
            _num(row.baseline),
            row.unit,
            "-" if row.ratio is None else f"{row.ratio:.3f}",
            row.target,
            row.verdict,
        ))
    widths = [max(len(str(line[i])) for line in cells) for i in range(len(COLUMNS))]
    numeric = {1, 2, 4}
    lines = []
    for n, line in enumerate(cells):
        text = "  ".join(
            str(v).rjust(widths[i]) if i in numeric and n else str(v).ljust(widths[i])
            for i, v in enumerate(line)
        )
        lines.append(text.rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(rows: Sequence[Row], name: str, *, extra: dict[str, Any] | None = None,
           notes: Sequence[str] = ()) -> dict[str, Any]:
    """Print the table and append this run to ``bench/results/<name>.json``."""
    print()
    print(format_table(rows))
    for note in notes:
        print(f"  note: {note}")
    for row in rows:
        if row.note:
            print(f"  {row.workload}: {row.note}")
    run = {
        "name": name,
        "machine": machine_info(),
        "rows": [row.as_dict() for row in rows],
        "notes": list(notes),
        "extra": extra or {},
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    runs: list[Any] = []
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            runs = loaded if isinstance(loaded, list) else [loaded]
        except json.JSONDecodeError:
            runs = []
    runs.append(run)
    path.write_text(json.dumps(runs, ensure_ascii=False, indent=2, default=str) + "\n",
                    encoding="utf-8")
    m = run["machine"]
    pg = m.get("postgresql", {})
    print(f"\n  machine: {m['nproc']} cpu, {m['memory_gib']} GiB, PostgreSQL "
          f"{pg.get('server_version', '?')} (shared_buffers {pg.get('shared_buffers', '?')}, "
          f"checkpoint_timeout {pg.get('checkpoint_timeout', '?')}, max_wal_size "
          f"{pg.get('max_wal_size', '?')}), Python {m['python']}; results appended to "
          f"{path.relative_to(PROJECT_DIR)}")
    return run
