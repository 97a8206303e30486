"""Export of 1,000,000 rows to CSV and XLSX in constant memory.

    python bench/export.py [--sizes 200000,1000000] [--formats csv,xlsx] [--keep]

Places (with a responsible party each fifth, so the phone column is masked)
are generated in-bench with COPY into the bench database, first up to the
smallest size, then up to the next, and the place list is exported at each
size through the real view (``places.views.search`` with ``?format=``, as the
commander: the same ``visible_to`` + FilterSet queryset as the page, audited,
masked, formula-safe). The response is consumed chunk by chunk and thrown
away, as a client downloading it would.

Memory: a sampler thread reads the process's resident set (``VmRSS``) every
20 ms; the figure is the peak during the export minus the resident set just
before it. Constant memory means the figure does not grow with the row count
(compare the sizes). Places generated here are deleted at the end unless
``--keep``. Runs against ``BENCH_DATABASE_URL`` (default for this bench:
``postgres://postgres@127.0.0.1:5432/bihuan_bench_ledgers``).

Why places and not hazards: ``bench/fill.py --hazards 1000000`` builds the 1M
hazards with their full history, which takes far longer on a shared 2-core
machine than the export itself; the export code path is the same for every
list (``bihuan.core.exports``).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DATABASE_URL",
                      "postgres://postgres@127.0.0.1:5432/bihuan_bench_ledgers")

from common import PROJECT_DIR, Row, psycopg_conninfo, report, setup_django

PREFIX = "导出基准"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """The peak resident set while a block runs (a thread samples every 20 ms)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self.before = rss_mib()
        self.peak = self.before
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def ensure_city() -> Any:
    from bihuan.accounts.choices import Role
    from bihuan.accounts.models import Membership, User
    from bihuan.areas.models import Area
    from bihuan.areas.services import load_areas_csv

    if not Area.objects.exists():
        load_areas_csv(PROJECT_DIR / "src" / "bihuan" / "areas" / "data" / "yongkang-areas.csv")
    user = User.objects.filter(username="bench_exporter").first()
    if user is None:
        user = User.objects.create_user(username="bench_exporter", password=None,
                                        display_name="bench_exporter")
        Membership.objects.create(user=user, role=Role.COMMAND_STAFF,
                                  area=Area.objects.get(parent=None))
    return user


def bench_places() -> int:
    from bihuan.places.models import Place

    return Place.objects.filter(name__startswith=PREFIX).count()


def fill_to(n: int, seed: int = 11) -> float:
    """COPY places (and a party for every fifth) until the bench has ``n``; seconds taken."""
    import psycopg

    from bihuan.areas.models import Area

    have = bench_places()
    if have >= n:
        return 0.0
    villages = list(Area.objects.filter(level="village").values_list("pk", flat=True))
    kinds = ["rental_house", "shop", "three_in_one", "enterprise", "hotel"]
    rng = random.Random(seed + have)
    started = time.perf_counter()
    with psycopg.connect(psycopg_conninfo()) as conn, conn.cursor() as cursor:
        missing = n - have
        n_parties = missing // 5 + 1
        cursor.execute("SELECT nextval(pg_get_serial_sequence('places_party', 'id')) "
                       "FROM generate_series(1, %s)", [n_parties])
        party_ids = [pk for (pk,) in cursor.fetchall()]
        with cursor.copy("COPY places_party (id, name, kind, role, phone, created_at) "
                         "FROM STDIN") as copy:
            for i, pk in enumerate(party_ids):
                copy.write_row((pk, f"房东{have + i}", "person", "landlord",
                                f"13{rng.randint(0, 999999999):09d}", "now"))
        with cursor.copy("COPY places_place (name, kind, area_id, address, latitude, longitude,"
                         " party_id, qr_token, active, created_at) FROM STDIN") as copy:
            for i in range(missing):
                number = have + i
                name = f"{PREFIX}{number}" if number % 1000 else f"{PREFIX}=CMD{number}"
                copy.write_row((name, kinds[number % 5], villages[number % len(villages)],
                                f"东城街道{number % 900}弄{number}号",
                                round(28.8 + rng.random() * 0.3, 6),
                                round(120.0 + rng.random() * 0.3, 6),
                                party_ids[i // 5], secrets.token_urlsafe(16), True, "now"))
        conn.commit()
        cursor.execute("ANALYZE places_place")
    return time.perf_counter() - started


def export(user: Any, fmt: str) -> dict[str, Any]:
    from django.test import RequestFactory

    from bihuan.places.views import search

    request = RequestFactory().get("/places/", {"format": fmt})
    request.user = user
    started = time.perf_counter()
    size = chunks = 0
    with Sampler() as memory:
        response = search(request)
        first_byte = time.perf_counter() - started
        for chunk in response.streaming_content:
            size += len(chunk)
            chunks += 1
        response.close()
    took = time.perf_counter() - started
    return {"seconds": took, "first_byte_s": first_byte, "bytes": size, "chunks": chunks,
            "streaming": response.streaming, "rss_before_mib": round(memory.before, 1),
            "rss_peak_mib": round(memory.peak, 1),
            "rss_growth_mib": round(memory.peak - memory.before, 1)}


def clean() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM places_place WHERE name LIKE %s", [PREFIX + "%"])
        cursor.execute("DELETE FROM places_party p WHERE p.name LIKE '房东%%' AND NOT EXISTS "
                       "(SELECT 1 FROM places_place x WHERE x.party_id = p.id)")


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200000,1000000")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--keep", action="store_true", help="keep the generated places")
    args = parser.parse_args(argv)
    setup_django()
    from bihuan.places.models import Place

    user = ensure_city()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    others = Place.objects.exclude(name__startswith=PREFIX).count()
    result: list[Row] = []
    extra: dict[str, Any] = {"other_places": others, "runs": {}}
    growth: dict[str, list[float]] = {}
    try:
        for size in sizes:
            filled = fill_to(size)
            print(f"  filled to {size:,} places in {filled:.1f} s", flush=True)
            rows = size + others
            for fmt in args.formats.split(","):
                run = export(user, fmt)
                extra["runs"][f"{fmt}-{size}"] = run
                growth.setdefault(fmt, []).append(run["rss_growth_mib"])
                print(f"  {fmt} {rows:,} rows: {run['seconds']:.1f} s, "
                      f"{run['bytes'] / 2**20:.0f} MiB, first byte {run['first_byte_s']:.1f} s, "
                      f"RSS +{run['rss_growth_mib']:.0f} MiB (peak {run['rss_peak_mib']:.0f})",
                      flush=True)
                rows_of_run = [
                    Row(f"export {rows:,} places to {fmt.upper()}: time", run["seconds"], "s"),
                    Row(f"export {rows:,} places to {fmt.upper()}: rate",
                        rows / run["seconds"], "rows/s"),
                    Row(f"export {rows:,} places to {fmt.upper()}: RSS growth",
                        run["rss_growth_mib"], "MiB", target_max=200.0,
                        note="peak VmRSS during the export minus before it"),
                ]
                result.extend(rows_of_run)
                # Recorded as soon as measured: a long run cut short keeps what it measured.
                report(rows_of_run, "export", extra={"size": size, "format": fmt, **run,
                                                     "other_places": others},
                       notes=["rows are places generated in-bench (COPY), exported through "
                              "places.views.search ?format= as the commander (scoped, "
                              "masked, audited)"])
    finally:
        if not args.keep:
            clean()
    for fmt, values in growth.items():
        print(f"  {fmt}: RSS growth by size {sizes}: {values} MiB")
    return result


if __name__ == "__main__":
    main()
