"""The city dashboard at city scale, beside a plain SQL aggregate over the hazard table.

    python bench/dashboard.py [--requests 30] [--warmup 5] [--rebuild] [--name dashboard]

On the filled bench database (``bench/fill.py``) it first makes sure the
dashboard's summary rows exist: ``fill.py`` writes hazards and events with
``COPY``, past the services and their summary hook, so when the summary rows do
not cover every hazard (or with ``--rebuild``) it runs
``bihuan.dashboard.summaries.rebuild()`` (what ``bihuan metrics rebuild``
does) and records how long that took.

Then, as ``commander`` (command staff, city scope), with Django's test
``Client`` against the real view (middleware, session, scope, template;
``DEBUG`` off, ``force_login``), it requests the city's dashboard page
``dashboard:area`` for the whole city, all records (``?campaign=all``): the
headline figures, the figures of the 14 towns and their ranking, the 30-day
trend, the major and longest-overdue lists. ``--warmup`` untimed requests,
then ``--requests`` timed ones, the time taken around ``client.get``. The
dashboard keeps pieces it computed in Django's cache, keyed by the summary
rows they came from (docs/dashboard.md): these requests reuse them, as
repeated views of unchanged figures do. Then ``--requests`` more, each after
renewing the stamp of one grid's total row, as a transition there does (the
pieces read from the day rows recomputed), and ``--requests`` more with the
cache emptied before each one: everything recomputed, the most a request
costs after the figures changed. The metric functions alone (``figures`` +
``ranking`` + ``trend``) are timed the same way as the first series.

Baseline, in the same run: the same figures for the city and each town
computed by one plain SQL aggregate over ``hazards_hazard`` (joined to
``areas_area`` for the path; found, open, overdue, major open, closed,
look-backs, recurrences — without the on-time count, whose per-hazard lookup
of the last submission made one run take ~17 s at 1M), through plain psycopg,
``--requests`` times after the warm-up — what the dashboard would cost without
its summary rows.

Targets (issue): page p95 <= 50 ms; the aggregate at least 20x slower than the
dashboard (the issue sets both at 10M hazards; this records the 1M figure).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from common import Row, percentile, psycopg_conninfo, report, setup_django

TARGET_MS = 50.0
TARGET_SPEEDUP = 20.0

AGGREGATE_SQL = """
WITH h AS (
  SELECT substring(a.path from 1 for %(town_len)s) AS town, h.state, h.severity, h.deadline,
         h.clock_paused_since, h.look_back_count, h.recurrence_count, h.id
  FROM hazards_hazard h JOIN areas_area a ON a.id = h.area_id
  WHERE a.path LIKE %(prefix)s
)
SELECT town,
  count(*) FILTER (WHERE state NOT IN ('dismissed', 'voided')) AS found,
  count(*) FILTER (WHERE state IN ('reported', 'rectifying', 'pending_verification',
                                   'enforcement')) AS open,
  count(*) FILTER (WHERE state = 'rectifying' AND deadline < %(today)s
                   AND clock_paused_since IS NULL) AS overdue,
  count(*) FILTER (WHERE state IN ('reported', 'rectifying', 'pending_verification',
                                   'enforcement') AND severity = 'major') AS major_open,
  count(*) FILTER (WHERE state = 'closed') AS closed,
  sum(look_back_count) AS look_backs,
  sum(recurrence_count) AS recurrences
FROM h GROUP BY ROLLUP (town)
"""


def _timed(fn: Any, warmup: int, requests: int, before: Any = None
           ) -> tuple[list[float], list[float]]:
    """Wall and CPU ms of ``fn`` per call; ``before`` runs untimed ahead of each call."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(requests):
        if before is not None:
            before()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--name", default="dashboard")
    args = parser.parse_args(argv)

    setup_django()
    import psycopg
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from bihuan.accounts.models import User
    from bihuan.areas.models import Area
    from bihuan.core import clock
    from bihuan.dashboard import metrics, summaries
    from bihuan.dashboard.models import AreaStats, HazardMetricState, new_stamp
    from bihuan.hazards.models import Hazard

    hazards = Hazard.objects.count()
    if hazards == 0:
        raise SystemExit("bench: the bench database is empty; run bench/fill.py first.")
    rows: list[Row] = []
    notes: list[str] = []
    extra: dict[str, Any] = {"hazards": hazards}
    covered = HazardMetricState.objects.count()
    if args.rebuild or covered != hazards:
        print(f"  summary rows cover {covered:,} of {hazards:,} hazards: rebuilding…",
              flush=True)
        started = time.perf_counter()
        result = summaries.rebuild()
        took = time.perf_counter() - started
        print(f"  rebuild: {took:.1f} s {result}", flush=True)
        extra["rebuild"] = result
        rows.append(Row(f"rebuild summary rows ({hazards:,} hazards)", took, "s",
                        note="replay of every hazard's events, once after a bulk load"))

    city = Area.objects.get(parent__isnull=True)
    commander = User.objects.get(username="commander")
    today = clock.today()
    url = reverse("dashboard:area", args=[city.code]) + "?campaign=all"
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts):
        client = Client()
        client.force_login(commander)
        first = client.get(url)
        assert first.status_code == 200, first.status_code
        # The statements of one request (the test client's request_started signal
        # empties connection.queries, so count them with a wrapper instead).
        def statements(into: list[str]) -> Any:
            def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
                into.append(sql)
                return execute(sql, params, many, context)
            return connection.execute_wrapper(record)

        queries: list[str] = []
        with statements(queries):
            client.get(url)
        page_ms, page_cpu = _timed(lambda: client.get(url), args.warmup, args.requests)
        # After a transition somewhere in the city: its commit renewed the stamp of
        # one grid's total row, so the pieces keyed by the city's rows are computed
        # again (the same renewal here, stamp only: the figures stay as they are, so
        # the rendered parts, keyed by what they show, are still reused).
        grid_row = AreaStats.objects.filter(campaign_key=0).order_by("-found").first()
        assert grid_row is not None

        def one_transition() -> None:
            AreaStats.objects.filter(pk=grid_row.pk).update(stamp=new_stamp())

        moved_ms, moved_cpu = _timed(lambda: client.get(url), 0, args.requests,
                                     before=one_transition)
        # What a request costs when nothing is cached (the rendered parts too): the
        # most a request costs after the figures changed.
        cold_ms, cold_cpu = _timed(lambda: client.get(url), 0, args.requests, before=cache.clear)
        cold_queries: list[str] = []
        cache.clear()
        with statements(cold_queries):
            client.get(url)

    def metrics_only() -> None:
        metrics.figures(city, today)
        metrics.ranking(None, city, today)
        metrics.trend(city, today.replace(day=1), today)

    metric_ms, _cpu = _timed(metrics_only, args.warmup, args.requests)

    town_len = len(city.path) + len(Area.objects.filter(parent=city).first().code) + 1
    params = {"prefix": city.path + "%", "today": today, "town_len": town_len}
    with psycopg.connect(psycopg_conninfo()) as conn:
        def aggregate() -> None:
            conn.execute(AGGREGATE_SQL, params).fetchall()

        agg_ms, _c = _timed(aggregate, min(args.warmup, 2), args.requests)
    # The check of exactness: the aggregate and the dashboard's figures (its
    # cached pieces included) read in one snapshot, so that writes by others
    # between the two reads cannot make them differ.
    # Once with the pieces this process has cached, once recomputed: a difference
    # in the first only would be a stale piece (or a writer running code from
    # before the stamps, which does not renew them).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(AGGREGATE_SQL, params)
        raw_rows = cursor.fetchall()
        shown = metrics.figures(city, today)
        cache.clear()
        fresh = metrics.figures(city, today)
    city_row = next(r for r in raw_rows if r[0] is None)
    raw = (city_row[1], city_row[2], city_row[3], city_row[5])
    for label, figures in (("cached pieces", shown), ("recomputed", fresh)):
        seen = (figures.hazards_found, figures.open, figures.open_overdue, figures.closed)
        notes.append(f"city figures ({label}) equal the plain aggregate's in one snapshot: "
                     f"{seen == raw} (found, open, overdue, closed: {seen}"
                     + ("" if seen == raw else f"; aggregate {raw}") + ")")
    page_p95, agg_p95 = percentile(page_ms, 95), percentile(agg_ms, 95)
    rows += [
        Row("city dashboard page p95 (whole request)", page_p95, "ms", baseline=agg_p95,
            target_max=TARGET_MS,
            note=f"p50 {percentile(page_ms, 50):.1f} ms, client CPU p50 "
                 f"{percentile(page_cpu, 50):.1f} ms, {len(queries)} SQL per page"),
        Row("city dashboard page p95, one grid's rows changed before each request",
            percentile(moved_ms, 95), "ms", baseline=agg_p95,
            note=f"p50 {percentile(moved_ms, 50):.1f} ms, client CPU p50 "
                 f"{percentile(moved_cpu, 50):.1f} ms; the pieces read from the day rows "
                 "recomputed, the rendered parts reused"),
        Row("city dashboard page p95, cache emptied before each request", percentile(cold_ms, 95),
            "ms", baseline=agg_p95,
            note=f"p50 {percentile(cold_ms, 50):.1f} ms, client CPU p50 "
                 f"{percentile(cold_cpu, 50):.1f} ms, {len(cold_queries)} SQL per page; "
                 "every cached piece recomputed, as after a change of the figures"),
        Row("metric functions p95 (figures, ranking, trend)", percentile(metric_ms, 95), "ms",
            baseline=agg_p95, note=f"p50 {percentile(metric_ms, 50):.1f} ms"),
        Row("plain SQL aggregate over hazards p95", agg_p95, "ms",
            note=f"p50 {percentile(agg_ms, 50):.1f} ms; city + 14 towns, same figures"),
        Row("speed-up: aggregate p95 / dashboard page p95", agg_p95 / page_p95, "x",
            target_min=TARGET_SPEEDUP),
    ]
    extra["queries"] = [sql[:300] for sql in queries]
    extra["cold_queries"] = [sql[:300] for sql in cold_queries]
    extra["page_ms"] = [round(x, 2) for x in page_ms]
    extra["one_grid_changed_page_ms"] = [round(x, 2) for x in moved_ms]
    extra["cold_page_ms"] = [round(x, 2) for x in cold_ms]
    extra["aggregate_ms"] = [round(x, 2) for x in agg_ms]
    report(rows, args.name, extra=extra, notes=notes)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
