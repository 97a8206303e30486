"""Import of 100,000 places from XLSX and from CSV, end to end, beside the raw floor.

    python bench/import_places.py [--rows 100000] [--formats csv,xlsx]

For each format, in the same run:

* **ours**: ``bihuan.imports.services`` exactly as the page and ``bihuan import``
  use them: store the upload, recognise the header, check every row (the dry
  run: normalisation, validation, duplicates against the file and the
  database), then commit all rows in one transaction (parties and places in
  batches, one audit entry per batch);
* **raw**: read the same file (``csv.reader`` / openpyxl read-only) and COPY the
  same rows into ``places_party`` and ``places_place`` with psycopg
  (``cursor.copy``) in one transaction: no validation, no normalisation, no
  duplicate check, no audit — the floor.

The ratio is raw time / our time (= our rate / raw rate). Targets: ours ≤ 30 s
for 100,000 rows, and ≥ 0.25 of the raw rate for CSV. Rows written by either
side are deleted again afterwards, so each run starts from the same database.

Runs against ``BENCH_DATABASE_URL`` (default for this bench:
``postgres://postgres@127.0.0.1:5432/bihuan_bench_ledgers``); the first run
loads the area tree and creates the importing commander. Duplicates are looked up
among the places already in that database: fill it first with places (e.g.
``BENCH_DATABASE_URL=... python bench/fill.py --hazards 10000 --places 100000``)
for the realistic case; the count is recorded.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("BENCH_DATABASE_URL",
                      "postgres://postgres@127.0.0.1:5432/bihuan_bench_ledgers")

from common import PROJECT_DIR, Row, report, setup_django

HEADER = ["场所名称", "详细地址", "负责人", "联系电话", "场所类型", "所属镇街", "村(社区)",
          "经度", "纬度"]
KINDS = ["出租房", "沿街店面", "三合一场所", "企业", "宾馆", "专业市场", "小区"]
IMPORTER = "bench_importer"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_city() -> Any:
    """The area tree and a commander to import as (created on the first run)."""
    from bihuan.accounts.choices import Role
    from bihuan.accounts.models import Membership, User
    from bihuan.areas.models import Area
    from bihuan.areas.services import load_areas_csv

    if not Area.objects.exists():
        load_areas_csv(PROJECT_DIR / "src" / "bihuan" / "areas" / "data" / "yongkang-areas.csv")
    user = User.objects.filter(username=IMPORTER).first()
    if user is None:
        user = User.objects.create_user(username=IMPORTER, password=None,
                                        display_name=IMPORTER)
        city = Area.objects.get(parent=None)
        Membership.objects.create(user=user, role=Role.COMMAND_STAFF, area=city)
    return user


def ledger_rows(n: int, seed: int = 7) -> list[list[Any]]:
    from bihuan.areas.choices import AreaLevel
    from bihuan.areas.models import Area

    villages = list(Area.objects.filter(level=AreaLevel.VILLAGE).select_related("parent")
                    .order_by("path"))
    rng = random.Random(seed)
    rows: list[list[Any]] = []
    for i in range(n):
        village = villages[i % len(villages)]
        kind = KINDS[i % len(KINDS)]
        rows.append([
            f"{village.short_name or village.name}{kind}{i}",
            f"{village.parent.name}{village.name}{rng.randint(1, 400)}弄{i}号",
            f"户主{i}",
            f"13{rng.randint(0, 999999999):09d}",
            kind,
            village.parent.name,
            village.name,
            round(120.0 + rng.random() * 0.3, 6),
            round(28.8 + rng.random() * 0.3, 6),
        ])
    return rows


def write_files(rows: list[list[Any]], folder: Path) -> dict[str, Path]:
    from openpyxl import Workbook

    csv_path = folder / "places.csv"
    with csv_path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["永康市场所台账"])  # a title row, as officials' files have
        writer.writerow(HEADER)
        writer.writerows(rows)
    xlsx_path = folder / "places.xlsx"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账")
    sheet.append(["永康市场所台账"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(xlsx_path)
    return {"csv": csv_path, "xlsx": xlsx_path}


def read_file(path: Path, fmt: str) -> Any:
    if fmt == "csv":
        with path.open(encoding="gb18030", newline="") as handle:
            yield from csv.reader(handle)
    else:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                yield list(values)
        finally:
            workbook.close()


def raw_import(path: Path, fmt: str) -> int:
    """Read the file and COPY its rows into parties and places: the floor."""
    import secrets

    import psycopg
    from common import psycopg_conninfo
    from django.conf import settings

    from bihuan.areas.models import Area

    village_ids = {(a.parent.name, a.name): a.pk
                   for a in Area.objects.filter(level="village").select_related("parent")}
    kind_of = {"出租房": "rental_house", "沿街店面": "shop", "三合一场所": "three_in_one",
               "企业": "enterprise", "宾馆": "hotel", "专业市场": "market",
               "小区": "residential_compound"}
    del settings
    n = 0
    with psycopg.connect(psycopg_conninfo()) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('places_party', 'id'))")
        first_party = cursor.fetchone()[0]
        rows = read_file(path, fmt)
        next(rows), next(rows)  # title, header
        places: list[tuple[Any, ...]] = []
        with cursor.copy("COPY places_party (id, name, kind, role, phone, created_at) "
                         "FROM STDIN") as copy:
            for values in rows:
                party_id = first_party + n
                copy.write_row((party_id, values[2], "person", "owner", str(values[3]),
                                "now"))
                places.append((values[0], kind_of[values[4]],
                               village_ids[(values[5], values[6])], values[1], values[8],
                               values[7], party_id, secrets.token_urlsafe(16), True, "now"))
                n += 1
        cursor.execute("SELECT setval(pg_get_serial_sequence('places_party', 'id'), %s)",
                       [first_party + n])
        with cursor.copy("COPY places_place (name, kind, area_id, address, latitude, longitude,"
                         " party_id, qr_token, active, created_at) FROM STDIN") as copy:
            for place in places:
                copy.write_row(place)
        conn.commit()
    return n


def our_import_one_pass(path: Path, user: Any) -> Any:
    """``bihuan import places FILE``: upload, then check and write in one pass."""
    from django.core.files import File

    from bihuan.areas.models import Area
    from bihuan.imports import services

    city = Area.objects.get(parent=None)
    with path.open("rb") as handle:
        job = services.start_import(actor=user, kind="places",
                                    file=File(handle, name=path.name), filename=path.name,
                                    area=city)
    job = services.import_at_once(job, actor=user)
    if job.error_rows:
        raise SystemExit(f"bench: {job.error_rows} rows have problems")
    return job


def our_import(path: Path, fmt: str, user: Any, laps: dict[str, float]) -> Any:
    from django.core.files import File

    from bihuan.areas.models import Area
    from bihuan.imports import services

    city = Area.objects.get(parent=None)
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = services.start_import(actor=user, kind="places",
                                    file=File(handle, name=path.name), filename=path.name,
                                    area=city)
    laps["upload"] = time.perf_counter() - started
    job = services.check_import(job, actor=user)
    laps["check"] = time.perf_counter() - started - laps["upload"]
    if job.error_rows:
        raise SystemExit(f"bench: {job.error_rows} rows have problems: "
                         f"{list(job.problems.values_list('row', 'message')[:5])}")
    job = services.commit_import(job, actor=user)
    laps["commit"] = time.perf_counter() - started - laps["upload"] - laps["check"]
    return job


def clean(max_place: int, max_party: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM imports_duplicate")
        cursor.execute("DELETE FROM places_place WHERE id > %s", [max_place])
        cursor.execute("DELETE FROM places_party WHERE id > %s", [max_party])
        cursor.execute("VACUUM ANALYZE places_place")


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args(argv)
    media = tempfile.mkdtemp(prefix="bihuan-bench-import-")
    setup_django(media_root=media)
    from django.db.models import Max

    from bihuan.places.models import Party, Place

    user = ensure_city()
    rows = ledger_rows(args.rows)
    folder = Path(tempfile.mkdtemp(prefix="bihuan-bench-ledger-"))
    files = write_files(rows, folder)
    del rows
    result: list[Row] = []
    extra: dict[str, Any] = {"rows": args.rows, "batch": None}
    from bihuan.imports import services

    extra["batch"] = services.BATCH
    # What the duplicate look-ups search: the places already there (the bench's rows
    # never match them; the cost is in the looking).
    from bihuan.places.models import unkeyed_places_exist

    extra["existing_places"] = Place.objects.count()
    extra["existing_places_without_key"] = unkeyed_places_exist()
    for fmt in args.formats.split(","):
        path = files[fmt]
        max_place = Place.objects.aggregate(m=Max("id"))["m"] or 0
        max_party = Party.objects.aggregate(m=Max("id"))["m"] or 0
        started = time.perf_counter()
        n_raw = raw_import(path, fmt)
        raw_s = time.perf_counter() - started
        clean(max_place, max_party)
        started = time.perf_counter()
        job = our_import_one_pass(path, user)
        one_s = time.perf_counter() - started
        one_created = job.created_count
        clean(max_place, max_party)
        laps: dict[str, float] = {}
        started = time.perf_counter()
        job = our_import(path, fmt, user, laps)
        ours_s = time.perf_counter() - started
        created = job.created_count
        clean(max_place, max_party)
        print(f"  {fmt}: raw {raw_s:.2f} s ({n_raw} rows); one pass (CLI) {one_s:.2f} s "
              f"({one_created} created); dry run + commit (web) {ours_s:.2f} s "
              f"({created} created; upload {laps['upload']:.2f} s, check {laps['check']:.2f} s, "
              f"commit {laps['commit']:.2f} s), peak RSS {peak_rss_mib():.0f} MiB", flush=True)
        extra[fmt] = {"raw_s": raw_s, "one_pass_s": one_s, "two_pass_s": ours_s, "laps": laps,
                      "created": created, "file_mib": round(path.stat().st_size / 2**20, 2)}
        result.append(Row(f"import {args.rows:,} places from {fmt.upper()} (one pass): time",
                          one_s, "s", target_max=30.0,
                          note="bihuan import places FILE: check + write in one transaction"))
        result.append(Row(f"import from {fmt.upper()} (one pass): rate vs read + COPY",
                          one_created / one_s, "rows/s", baseline=n_raw / raw_s,
                          target_ratio=0.25 if fmt == "csv" else None,
                          note="baseline: the same file read and COPYed raw, same run"))
        result.append(Row(f"import from {fmt.upper()} (dry run, then commit): time", ours_s,
                          "s", note=f"the web flow: check {laps['check']:.1f} s + commit "
                                    f"{laps['commit']:.1f} s"))
        result.append(Row(f"import from {fmt.upper()} (dry run, then commit): rate vs raw",
                          created / ours_s, "rows/s", baseline=n_raw / raw_s))
    extra["peak_rss_mib"] = round(peak_rss_mib(), 1)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(media, ignore_errors=True)
    report(result, "import_places", extra=extra, notes=[
        "one pass = upload + header detection + validation, duplicates and writes in one "
        "transaction (the command line); dry run then commit = the web flow (two passes)",
        "writes: COPY of parties and places per batch of 1,000, one audit entry per batch",
        f"duplicates looked up among {extra['existing_places']:,} existing places",
        "XLSX written by openpyxl write-only: texts inline in the cells, no <dimension> "
        "(openpyxl read-only parses such a sheet once more to size it, on every open)",
        f"peak RSS of the whole run {peak_rss_mib():.0f} MiB (includes generating the files)",
    ])
    return result


if __name__ == "__main__":
    main()
