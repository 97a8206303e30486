"""Run the bench: fill the bench database, the transition and hazard-list benchmarks; one table.

    python bench/run.py [--scale small|city] [--skip-fill] [--refill] [--wait-quiet 1.0]
                        [--skip-list] [--list-requests 30]

``--scale small`` is a quick check (100,000 hazards, 500 loops); ``--scale city``
is the real figure (1,000,000 hazards, 3,000 loops). The fill is skipped when the
database already holds exactly that many hazards (the table then shows the last
recorded fill of that size), and rebuilt (``--reset``) when it holds another
number or with ``--refill``: the bench database is dedicated to the bench.
The hazard list (``hazard_list.py``: first page and page 100 of two filtered
lists, as a city and a town user) runs last; ``--skip-list`` leaves it out.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import fill
import hazard_list
import transitions
from common import RESULTS_DIR, Row, report, setup_django

SCALES = {
    "small": {"hazards": 100_000, "loops": 500},
    "city": {"hazards": 1_000_000, "loops": 3_000},
}


def wait_quiet(threshold: float, limit: float) -> float:
    """Wait (up to ``limit`` s) for the 1-minute load average to fall below ``threshold``."""
    deadline = time.monotonic() + limit
    load = os.getloadavg()[0]
    while load >= threshold and time.monotonic() < deadline:
        print(f"run: load average {load:.2f} >= {threshold}; waiting ...", flush=True)
        time.sleep(15)
        load = os.getloadavg()[0]
    return load


def recorded_fill(hazards: int) -> list[Row]:
    """The rows of the last fill of ``hazards`` recorded in results/fill.json."""
    path = RESULTS_DIR / "fill.json"
    if not path.exists():
        return []
    for run in reversed(json.loads(path.read_text(encoding="utf-8"))):
        if run.get("extra", {}).get("hazards") == hazards:
            fields = {f.name for f in dataclasses.fields(Row)}
            return [Row(**{k: v for k, v in row.items() if k in fields})
                    for row in run["rows"]]
    return []


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--skip-fill", action="store_true",
                        help="use the database as it is")
    parser.add_argument("--refill", action="store_true",
                        help="rebuild the bench database even if it already has the size")
    parser.add_argument("--loops", type=int, default=None,
                        help="hazards whose loops the transition bench runs (default by scale)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wait-quiet", type=float, default=None, metavar="LOAD",
                        help="before each timed bench, wait (<= 15 min) until the 1-minute "
                             "load average is below LOAD (a shared machine skews latencies)")
    parser.add_argument("--skip-list", action="store_true", help="no hazard list bench")
    parser.add_argument("--list-requests", type=int, default=30,
                        help="timed requests per page in the hazard list bench (default 30)")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    setup_django()
    rows: list[Row] = []
    notes: list[str] = []
    if not args.skip_fill:
        fill_args = ["--hazards", str(scale["hazards"]), "--seed", str(args.seed)]
        existing = fill.current_hazards()
        if existing and (existing != scale["hazards"] or args.refill):
            print(f"run: the bench database holds {existing:,} hazards; rebuilding it for "
                  f"{scale['hazards']:,}", flush=True)
            fill_args.append("--reset")
        fill_rows = fill.main(fill_args)
        if not fill_rows:
            fill_rows = recorded_fill(scale["hazards"])
            notes.append(f"fill skipped: the database already holds {existing:,} hazards; "
                         "fill rows are from the last recorded fill of that size")
        rows += fill_rows
    if args.wait_quiet is not None:
        load = wait_quiet(args.wait_quiet, 900)
        notes.append(f"load average before the transition bench: {load:.2f}")
    rows += transitions.main(["--hazards", str(args.loops or scale["loops"]),
                              "--seed", str(args.seed)])
    if not args.skip_list:
        if args.wait_quiet is not None:
            load = wait_quiet(args.wait_quiet, 900)
            notes.append(f"load average before the hazard list bench: {load:.2f}")
        rows += hazard_list.main(["--requests", str(args.list_requests)])
    print("\n== combined ==")
    report(rows, f"run-{args.scale}", notes=notes, extra={"scale": args.scale})
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
