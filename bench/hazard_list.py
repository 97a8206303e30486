"""The hazard list page at city scale: filtered keyset pages through the real view.

    python bench/hazard_list.py [--requests 30] [--warmup 5] [--town CODE] [--page 100]
                                [--explain] [--name hazard_list]

On the filled bench database (``bench/fill.py``, 1M hazards) it requests
``hazards:list`` (``/hazards/``) with Django's test ``Client`` against the real
view, middleware, session, scope, filter set and template (``force_login``,
``DEBUG`` off, ``testserver`` added to ``ALLOWED_HOSTS``), as two users:

* ``commander`` — command staff, city scope;
* ``town_officer_<town>_1`` — town officer, the town's subtree;

each with two filter combinations over one town (default: the town with the
most hazards):

* A: ``area=<town>&state=closed&place_kind=rental_house``;
* B: ``area=<town>&overdue=true&severity=general``.

For each (user, combination) it times the first page, then follows the page's
``rel="next"`` link 99 times (as a user clicking "Next") to reach page 100,
records that page's URL (with its cursor) once, and times repeated requests of
that exact URL: ``--warmup`` untimed requests, then ``--requests`` timed ones;
the time is taken around ``client.get`` (server time: the whole request in
process, the database round trips included).

Baseline, in the same run: the page's main list query (the ``SELECT ... FROM
hazards_hazard ... LIMIT 51`` captured with ``CaptureQueriesContext`` on one
request of that page) run as the exact SQL text through plain psycopg on the
same database, ``--requests`` times after the warm-up. The other queries of the
page (session, user, scope, the filter's area lookup, the form's choices) are
listed, and the whole set is also replayed raw as a second floor.

Target: <= 150 ms (p95) for page 100. With ``--explain`` the EXPLAIN (ANALYZE,
BUFFERS) of each list query is printed (always kept in the results JSON).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from common import Row, percentile, psycopg_conninfo, report, setup_django

TARGET_MS = 150.0
PAGE_SIZE = 50
NEXT_LINK = re.compile(r'href="([^"]*)" rel="next"')
FROM_TABLE = re.compile(r'\bFROM\s+"?([a-z_][a-z0-9_]*)"?', re.IGNORECASE)


def combinations(town: str) -> dict[str, dict[str, str]]:
    return {
        "A area+state+kind": {"area": town, "state": "closed", "place_kind": "rental_house"},
        "B area+overdue+severity": {"area": town, "overdue": "true", "severity": "general"},
    }


@dataclass
class PageRun:
    """One page of one (user, combination): its URL, timings, queries and baseline."""

    page: int
    url: str
    ours: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rows: int = 0
    queries: list[dict[str, str]] = field(default_factory=list)
    list_sql: str = ""
    raw_list: list[float] = field(default_factory=list)
    raw_all: list[float] = field(default_factory=list)
    explain: str = ""


# ---------------------------------------------------------------- requests


def ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000


def table_of(sql: str) -> str:
    found = FROM_TABLE.search(sql)
    return found.group(1) if found else sql.split(None, 1)[0].upper()


def is_list_query(sql: str) -> bool:
    return table_of(sql) == "hazards_hazard" and f"LIMIT {PAGE_SIZE + 1}" in sql


def get(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"hazard_list: GET {url} returned {response.status_code}")
    return response


def next_url(response: Any, path: str) -> str | None:
    found = NEXT_LINK.search(response.content.decode())
    return path + html.unescape(found.group(1)) if found else None


def rows_on(response: Any) -> int:
    return response.content.decode().count('<tr>') - 1  # less the header row


def capture(client: Any, url: str) -> tuple[Any, list[dict[str, str]]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = get(client, url)
    return response, list(ctx.captured_queries)


def time_requests(client: Any, run: PageRun, n: int, warmup: int) -> None:
    for _ in range(warmup):
        get(client, run.url)
    perf, cpu = time.perf_counter, time.process_time
    for _ in range(n):
        c, t = cpu(), perf()
        client.get(run.url)
        run.ours.append(perf() - t)
        run.cpu.append(cpu() - c)


def describe(run: PageRun) -> None:
    lists = [q for q in run.queries if is_list_query(q["sql"])]
    if len(lists) != 1:
        raise SystemExit(f"hazard_list: {len(lists)} list queries on {run.url}; expected 1")
    run.list_sql = lists[0]["sql"]


# ---------------------------------------------------------------- baseline: raw SQL


def time_raw(conn: Any, run: PageRun, n: int, warmup: int) -> None:
    perf = time.perf_counter
    others = [q["sql"] for q in run.queries]
    for _ in range(warmup):
        conn.execute(run.list_sql).fetchall()
    for _ in range(n):
        t = perf()
        conn.execute(run.list_sql).fetchall()
        run.raw_list.append(perf() - t)
    for _ in range(n):
        t = perf()
        for sql in others:
            cursor = conn.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
        run.raw_all.append(perf() - t)
    run.explain = "\n".join(
        r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + run.list_sql).fetchall())


def explain_summary(plan: str) -> str:
    lines = plan.splitlines()
    execution = next((ln.strip() for ln in lines if ln.startswith("Execution Time")), "")
    top_buffers = next((ln.strip() for ln in lines if "Buffers:" in ln), "")
    nodes = []
    for ln in lines:
        text = ln.strip().removeprefix("->  ")
        if "(cost=" in text:
            node = text.split("  (cost=")[0]
            if node not in nodes:
                nodes.append(node)
    return f"{execution}; {top_buffers}; nodes: " + " | ".join(nodes[:8])


# ---------------------------------------------------------------- the world


def pick_town() -> str:
    """The town with the most hazards (the biggest lists)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT split_part(a.path, '/', 2) AS town, count(*) FROM hazards_hazard h "
            "JOIN areas_area a ON a.id = h.area_id GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        row = cursor.fetchone()
    if row is None:
        raise SystemExit("hazard_list: no hazard; fill the bench database first (fill.py)")
    return str(row[0])


def matching(user: Any, params: dict[str, str]) -> int:
    from django.http import QueryDict

    from bihuan.hazards.forms import HazardListFilterSet
    from bihuan.hazards.models import Hazard

    data = QueryDict(mutable=True)
    data.update(params)
    qs = Hazard.objects.visible_to(user)
    return HazardListFilterSet(data, queryset=qs, user=user).qs.count()


# ---------------------------------------------------------------- the bench


def bench(args: argparse.Namespace) -> list[Row]:
    import psycopg
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from bihuan.accounts.models import User
    from bihuan.hazards.models import Hazard

    total = Hazard.objects.count()
    if not total:
        raise SystemExit("hazard_list: the bench database is empty; run bench/fill.py first")
    town = args.town or pick_town()
    users = {
        "command staff (city)": "commander",
        "town officer": f"town_officer_{town}_1",
    }
    found = {u.username: u for u in User.objects.filter(username__in=users.values())}
    missing = set(users.values()) - set(found)
    if missing:
        raise SystemExit(f"hazard_list: users missing: {sorted(missing)}")
    path = reverse("hazards:list")
    combos = combinations(town)
    print(f"hazard_list: {total:,} hazards; town {town}; {args.requests} timed requests per "
          f"page after {args.warmup} warm-up; page {args.page}", flush=True)

    rows: list[Row] = []
    extra: dict[str, Any] = {"town": town, "hazards": total, "requests": args.requests,
                             "warmup": args.warmup, "page": args.page, "scenarios": []}
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts), \
            psycopg.connect(psycopg_conninfo(), autocommit=True) as raw:
        counts = {name: matching(found["commander"], params) for name, params in combos.items()}
        for name, count in counts.items():
            print(f"  {name}: {count:,} matching hazards = {-(-count // PAGE_SIZE):,} pages",
                  flush=True)
        for label, username in users.items():
            user = found[username]
            for combo, params in combos.items():
                print(f"  {label} ({username}), {combo}", flush=True)
                client = Client()
                client.force_login(user)
                try:
                    runs, walked = scenario(client, raw, path, params, args)
                finally:
                    client.logout()
                tag = f"{label}, {combo}"
                info: dict[str, Any] = {"user": username, "combination": combo,
                                        "params": params, "matching": counts[combo],
                                        "walk_s": walked, "pages": {}}
                for run in runs:
                    nq = len(run.queries)
                    page_label = f"page {run.page}"
                    if run.page != 1 and run.page != args.page:
                        page_label += " (last)"
                    others = [table_of(q["sql"]) for q in run.queries
                              if q["sql"] != run.list_sql]
                    rows.append(Row(
                        f"{tag}: {page_label} p95 ({nq} SQL)", ms(run.ours, 95), "ms",
                        baseline=ms(run.raw_list, 95),
                        target_max=TARGET_MS if run.page != 1 else None,
                        note=(f"p50 {ms(run.ours, 50):.1f} ms (client CPU p50 "
                              f"{ms(run.cpu, 50):.1f} ms) vs list SQL raw p50 "
                              f"{ms(run.raw_list, 50):.1f} ms; all {nq} SQL raw p50 "
                              f"{ms(run.raw_all, 50):.1f} / p95 {ms(run.raw_all, 95):.1f} ms; "
                              f"{run.rows} rows"),
                    ))
                    info["pages"][run.page] = {
                        "url": run.url, "rows": run.rows, "queries": nq,
                        "other_queries": others,
                        "ours_p50_ms": ms(run.ours, 50), "ours_p95_ms": ms(run.ours, 95),
                        "cpu_p50_ms": ms(run.cpu, 50),
                        "raw_list_p50_ms": ms(run.raw_list, 50),
                        "raw_list_p95_ms": ms(run.raw_list, 95),
                        "raw_all_p50_ms": ms(run.raw_all, 50),
                        "raw_all_p95_ms": ms(run.raw_all, 95),
                        "list_sql": run.list_sql, "explain": run.explain,
                    }
                    print(f"    {page_label}: {nq} SQL ({', '.join(others)} + list query); "
                          f"ours p50/p95 {ms(run.ours, 50):.1f}/{ms(run.ours, 95):.1f} ms; "
                          f"list SQL raw {ms(run.raw_list, 50):.1f}/"
                          f"{ms(run.raw_list, 95):.1f} ms", flush=True)
                    print(f"      EXPLAIN: {explain_summary(run.explain)}", flush=True)
                    if args.explain:
                        print(f"      list SQL: {run.list_sql}")
                        print("      " + run.explain.replace("\n", "\n      "), flush=True)
                extra["scenarios"].append(info)

    notes = [
        f"{total:,} hazards; town {town}; A = {urlencode(combos['A area+state+kind'])} "
        f"({counts['A area+state+kind']:,} rows), B = "
        f"{urlencode(combos['B area+overdue+severity'])} "
        f"({counts['B area+overdue+severity']:,} rows); {PAGE_SIZE} rows a page",
        "ours: django.test.Client GET of hazards:list (real view, middleware, session, "
        "template), DEBUG off, time around client.get; page 100 reached by following the "
        f"rel=next links, its URL then requested {args.requests} times after "
        f"{args.warmup} warm-up",
        "baseline: the page's list query (captured SQL text) run raw through plain psycopg on "
        "the same database; 'all SQL raw' replays every query of the page",
        "the test client keeps the database connection between requests (as with "
        "DB_CONN_MAX_AGE > 0); a fresh connection per request would add its connect time",
    ]
    report(rows, args.name, notes=notes, extra=extra)
    return rows


def scenario(client: Any, raw: Any, path: str, params: dict[str, str],
             args: argparse.Namespace) -> tuple[list[PageRun], float]:
    """Page 1 and page ``args.page`` (or the last one) of one list, timed, with baseline."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"{path}?{urlencode(params)}"
    print(f"    {url}", flush=True)
    first = PageRun(page=1, url=url)
    for _ in range(args.warmup):
        get(client, url)
    response, first.queries = capture(client, url)
    first.rows = rows_on(response)
    describe(first)

    # Walk to page N as a user would: each page's "Next" link.
    counts = {len(first.queries)}
    page, current = 1, response
    started = time.perf_counter()
    while page < args.page:
        link = next_url(current, path)
        if link is None:
            break
        with CaptureQueriesContext(connection) as ctx:
            current = get(client, link)
        counts.add(len(ctx.captured_queries))
        page += 1
        url = link
    walked = time.perf_counter() - started
    print(f"    walked to page {page} in {walked:.1f} s ({walked / max(page - 1, 1) * 1000:.0f} "
          f"ms a page); queries per page on the way: {sorted(counts)}", flush=True)
    deep = PageRun(page=page, url=url)
    for _ in range(args.warmup):
        get(client, url)
    response, deep.queries = capture(client, url)
    deep.rows = rows_on(response)
    describe(deep)

    runs = [first, deep] if page > 1 else [first]
    for run in runs:
        time_requests(client, run, args.requests, args.warmup)
        time_raw(raw, run, args.requests, args.warmup)
    return runs, walked


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30,
                        help="timed requests per page (and raw executions), default 30")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument("--town", help="town code of the area filter (default: biggest town)")
    parser.add_argument("--page", type=int, default=100, help="the deep page (default 100)")
    parser.add_argument("--explain", action="store_true",
                        help="print each list query and its EXPLAIN (ANALYZE, BUFFERS)")
    parser.add_argument("--name", default="hazard_list",
                        help="results file: bench/results/NAME.json (default: hazard_list)")
    args = parser.parse_args(argv)
    setup_django()
    return bench(args)


if __name__ == "__main__":
    main(sys.argv[1:])
