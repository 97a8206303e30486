"""Run every benchmark at a chosen scale on PostgreSQL; one table, JSON and a chart.

    python bench/run.py [--scale small|city|province] [--skip-fill] [--refill]
                        [--only NAME,NAME] [--skip NAME,NAME] [--with-loadtest]
                        [--wait-quiet 1.0]

Scales: ``small`` 100,000 hazards (a quick check), ``city`` about 10^5 places and
10^6 hazards, ``province`` 10^7 hazards. The fill (``fill.py``) is skipped when the
bench database already holds exactly that many hazards, rebuilt when it holds another
number or with ``--refill``: the bench database is dedicated to the bench.

Workloads, in order (each its own script, runnable alone; see README.md): inspection
submission over HTTP; hazard list page 1 and page 100 with filters; city dashboard;
briefing in three formats; import 100,000 places; export 1,000,000 rows; ``bihuan
metrics verify`` and ``bihuan audit verify`` on the full data set; loop transitions
through the services (last: its raw baseline moves hazards around the dashboard's
summary hooks); with ``--with-loadtest``, the 5-minute locust load test. A workload
that fails is reported as a note, and the others still run.

Prints one table (workload, ours, baseline from the same run, ratio, target, pass
or falls short), appends it to ``results/run-<scale>.json`` and draws
``results/run-<scale>.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable

import fill
from common import RESULTS_DIR, Row, report, setup_django

SCALES = {
    "small": {"hazards": 100_000, "loops": 500, "export": "100000"},
    "city": {"hazards": 1_000_000, "loops": 3_000, "export": "1000000"},
    "province": {"hazards": 10_000_000, "loops": 3_000, "export": "1000000"},
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


def latest_rows(name: str) -> tuple[str, list[Row]] | None:
    """(date, rows) of the last run recorded in results/<name>.json, if any."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return None
    runs = json.loads(path.read_text(encoding="utf-8"))
    if not runs:
        return None
    fields = {f.name for f in dataclasses.fields(Row)}
    run = runs[-1]
    return (str(run.get("machine", {}).get("date", "?")),
            [Row(**{k: v for k, v in row.items() if k in fields}) for row in run["rows"]])


def workloads(scale: dict[str, object], args: argparse.Namespace
              ) -> list[tuple[str, str, list[str]]]:
    """(name, module, argv): the benchmarks run.py runs, in order."""
    steps = [
        ("submission", "submission", ["--clients", "16", "--seconds", "30"]),
        ("hazard_list", "hazard_list", ["--requests", str(args.list_requests)]),
        ("dashboard", "dashboard", []),
        ("briefing", "briefing", []),
        ("import_places", "import_places", ["--rows", "100000"]),
        ("export", "export", ["--sizes", str(scale["export"])]),
        ("verify", "verify", []),
        # After everything that reads the dashboard's summaries: its raw baseline moves
        # hazards around the application (and so around the summary hooks).
        ("transitions", "transitions", ["--hazards", str(args.loops or scale["loops"]),
                                        "--seed", str(args.seed)]),
    ]
    if args.with_loadtest:
        steps.append(("loadtest", "loadtest", []))
    return steps


def chart(rows: list[Row], path: os.PathLike[str] | str, title: str) -> None:
    """Ours beside the baseline per workload (log scale), targets marked; a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.baseline not in (None, 0) and r.ours not in (None, 0)]
    if not shown:
        return
    height = max(3.0, 0.42 * len(shown) + 1.2)
    fig, ax = plt.subplots(figsize=(11, height))
    names = [f"{r.workload} [{r.unit}]" for r in shown]
    y = range(len(shown))
    ax.barh([i + 0.2 for i in y], [r.ours for r in shown], height=0.4, label="ours",
            color=["#2e7d32" if r.verdict == "pass" else "#c62828" if r.verdict ==
                   "falls short" else "#546e7a" for r in shown])
    ax.barh([i - 0.2 for i in y], [r.baseline for r in shown], height=0.4,
            label="baseline (same run)", color="#b0bec5")
    for i, r in enumerate(shown):
        for bound in (r.target_min, r.target_max):
            if bound is not None:
                ax.plot([bound, bound], [i - 0.45, i + 0.45], color="black", linewidth=1.2)
    ax.set_yticks(list(y), names, fontsize=8)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_title(title + "  (green: target met, red: falls short, |: target)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--skip-fill", action="store_true", help="use the database as it is")
    parser.add_argument("--refill", action="store_true",
                        help="rebuild the bench database even if it already has the size")
    parser.add_argument("--loops", type=int, default=None,
                        help="hazards whose loops the transition bench runs (default by scale)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated workloads to run")
    parser.add_argument("--skip", default="", help="comma-separated workloads to leave out")
    parser.add_argument("--skip-list", action="store_true", help="same as --skip hazard_list")
    parser.add_argument("--list-requests", type=int, default=30)
    parser.add_argument("--with-loadtest", action="store_true")
    parser.add_argument("--from-results", default="", metavar="NAME,NAME",
                        help="add the last recorded rows of these workloads (results/NAME.json) "
                             "to the table instead of running them again")
    parser.add_argument("--wait-quiet", type=float, default=None, metavar="LOAD",
                        help="before each timed bench, wait (<= 15 min) until the 1-minute "
                             "load average is below LOAD (a shared machine skews latencies)")
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
            fill_rows = recorded_fill(int(scale["hazards"]))  # type: ignore[call-overload]
            notes.append(f"fill skipped: the database already holds {existing:,} hazards; "
                         "fill rows are from the last recorded fill of that size")
        rows += fill_rows
    else:
        recorded = recorded_fill(int(scale["hazards"]))  # type: ignore[call-overload]
        if recorded:
            rows += recorded
            notes.append("fill skipped (--skip-fill): fill rows are from the last recorded "
                         "fill of this size")
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n} | ({"hazard_list"} if args.skip_list else set())
    for name, module_name, step_argv in workloads(scale, args):
        if (only and name not in only) or name in skip:
            continue
        if args.wait_quiet is not None:
            load = wait_quiet(args.wait_quiet, 900)
            notes.append(f"load average before {name}: {load:.2f}")
        print(f"\n== {name} ==", flush=True)
        # Some benches default BENCH_DATABASE_URL to their own database when imported
        # (import and export write to a ledgers database): the next one must not inherit it.
        saved_url = os.environ.get("BENCH_DATABASE_URL")
        try:
            module = importlib.import_module(module_name)
            runner: Callable[[list[str]], list[Row]] = module.main
            rows += runner(step_argv) or []
        except (Exception, SystemExit) as error:  # one broken workload must not hide the rest
            traceback.print_exc()
            notes.append(f"{name} did not run: {error!r}")
        finally:
            if saved_url is None:
                os.environ.pop("BENCH_DATABASE_URL", None)
            else:
                os.environ["BENCH_DATABASE_URL"] = saved_url
    for name in [n for n in args.from_results.split(",") if n]:
        recorded = latest_rows(name)
        if recorded is None:
            notes.append(f"{name}: no recorded results to reuse")
            continue
        when, reused = recorded
        rows += reused
        notes.append(f"{name}: rows reused from results/{name}.json, recorded {when}")
    print("\n== combined ==")
    report(rows, f"run-{args.scale}", notes=notes, extra={"scale": args.scale})
    png = RESULTS_DIR / f"run-{args.scale}.png"
    chart(rows, png, f"bihuan bench, scale {args.scale}")
    print(f"  chart: {png.relative_to(RESULTS_DIR.parent.parent)}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
