"""Briefing bench: the whole city's briefing in PDF, DOCX and XLSX, beside today's way.

    python bench/briefing.py [--database-url URL] [--date YYYY-MM-DD] [--repeat 3]

Ours: ``bihuan.documents`` assembles the city's briefing once (figures from the
dashboard's summary rows, ranking of the towns, trend, overdue and major lists,
charts and map) and writes all three formats. Target: ≤ 5 s.

Baseline, "what an official does today": the hazard ledger (台账) exported to a
DataFrame (every hazard row of the city with its town, state, severity,
deadline), grouped by town with pandas for found / closed / open / overdue and
the closure rate, written to an Excel sheet. It makes one table of counts, no
ranking, no charts, no Word or PDF, so it is the cheaper job; the bench also
checks that its per-town counts equal the briefing's ranking rows.

Unlike the loop benches this one only reads, so it also runs on the demo city in
SQLite (``bihuan demo --no-serve`` writes ``var/demo.sqlite3``):

    BENCH_DATABASE_URL=sqlite:///var/demo.sqlite3 python bench/briefing.py

Results are appended to ``bench/results/briefing.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PROJECT_DIR, Row, database_url, report

TARGET_SECONDS = 5.0


def setup(url: str) -> None:
    """Django on ``url``; already set up (called from run.py) means the bench database."""
    from django.apps import apps

    if apps.ready:
        return
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bihuan.settings"
    src = os.environ.get("BENCH_SRC") or str(PROJECT_DIR / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()


def ours(area: Any, day: dt.date, user: Any, campaign: Any) -> dict[str, float]:
    from bihuan.documents import writers
    from bihuan.documents.briefing import build_briefing

    laps: dict[str, float] = {}
    cpu_started = time.process_time()
    started = time.perf_counter()
    data = build_briefing(user=user, area=area, day=day, campaign=campaign)
    laps["assemble"] = time.perf_counter() - started
    for fmt in writers.FORMATS:
        t = time.perf_counter()
        content = writers.render(data, fmt)
        laps[fmt] = time.perf_counter() - t
        laps[f"{fmt}_bytes"] = len(content)
    laps["total"] = time.perf_counter() - started
    # CPU seconds of this process: what the work costs whatever else the machine runs.
    laps["cpu"] = time.process_time() - cpu_started
    return laps


def baseline(area: Any, day: dt.date, campaign: Any) -> tuple[float, Any]:
    """Export the ledger, group by town with pandas, write the sheet an official sends."""
    import pandas as pd

    from bihuan.areas.models import Area
    from bihuan.hazards.models import Hazard

    started = time.perf_counter()
    hazards = Hazard.objects.filter(area__path__startswith=area.path)
    if campaign is not None:
        hazards = hazards.filter(campaign=campaign)
    rows = hazards.values_list("id", "area__path", "state", "severity", "deadline",
                               "clock_paused_since", "registered_at", "closed_at")
    frame = pd.DataFrame.from_records(
        list(rows), columns=["id", "path", "state", "severity", "deadline", "paused",
                             "registered_at", "closed_at"])
    depth = area.path.count("/")
    frame["town"] = frame["path"].str.split("/").str[depth]
    frame = frame[frame["registered_at"].dt.date <= day] if len(frame) else frame
    frame["found"] = ~frame["state"].isin(["dismissed", "voided"])
    frame["closed"] = frame["state"] == "closed"
    frame["open"] = frame["state"].isin(["reported", "rectifying", "pending_verification",
                                         "enforcement"])
    deadline = pd.to_datetime(frame["deadline"])
    frame["overdue"] = ((frame["state"] == "rectifying") & frame["paused"].isna()
                        & (deadline < pd.Timestamp(day)))
    table = frame.groupby("town")[["found", "closed", "open", "overdue"]].sum()
    table["closure_rate"] = table["closed"] / table["found"]
    names = dict(Area.objects.filter(parent=area).values_list("code", "name"))
    table.index = [names.get(code, code) for code in table.index]
    buffer = io.BytesIO()
    table.to_excel(buffer, sheet_name="ledger")
    return time.perf_counter() - started, table


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=database_url(),
                        help="the filled database (default: BENCH_DATABASE_URL, else the "
                             "PostgreSQL bench database); SQLite is fine: this bench reads")
    parser.add_argument("--date", default="", help="briefing day (default: the last day "
                        "with a registered hazard)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--name", default="briefing")
    args = parser.parse_args(argv)
    setup(args.database_url)

    from django.conf import settings
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone, translation

    from bihuan.areas.models import Area
    from bihuan.documents.briefing import default_campaign, default_user_for
    from bihuan.hazards.models import Hazard

    translation.activate("zh-hans")
    city = Area.objects.get(code=settings.BIHUAN_CITY_CODE)
    last = Hazard.objects.aggregate(m=Max("registered_at"))["m"]
    day = (dt.date.fromisoformat(args.date) if args.date
           else timezone.localtime(last).date() if last else dt.date.today())
    user = default_user_for(city)
    campaign = default_campaign(city, day)
    hazards = Hazard.objects.filter(area__path__startswith=city.path).count()
    print(f"briefing bench: {city.name}, {day}, {hazards:,} hazards, campaign "
          f"{campaign.name if campaign else '-'}, {connection.vendor}")

    ours(city, day, user, campaign)  # warm-up: fonts, stylesheets, templates
    runs = [ours(city, day, user, campaign) for _ in range(args.repeat)]
    baseline(city, day, campaign)
    base_runs = [baseline(city, day, campaign) for _ in range(args.repeat)]
    ours_s = statistics.median(r["total"] for r in runs)
    base_s = statistics.median(t for t, _ in base_runs)

    # Reconcile: the pandas ledger's per-town counts equal the briefing's ranking rows.
    from bihuan.dashboard import metrics

    ledger = base_runs[-1][1]
    mismatches = []
    for row in metrics.ranking(campaign, city, day):
        f = row.figures
        if row.area.name not in ledger.index:
            if f.hazards_found:
                mismatches.append(f"{row.area.name}: missing in the ledger")
            continue
        got = ledger.loc[row.area.name]
        if (int(got["found"]), int(got["closed"]), int(got["open"]), int(got["overdue"])) != (
                f.hazards_found, f.closed, f.open, f.open_overdue):
            mismatches.append(f"{row.area.name}: ledger {got.to_dict()} vs briefing "
                              f"{(f.hazards_found, f.closed, f.open, f.open_overdue)}")

    laps = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    rows = [
        Row("city briefing, PDF + DOCX + XLSX", ours_s, "s", baseline=base_s,
            target_max=TARGET_SECONDS,
            note="baseline: pandas groupby per town over the exported ledger, one XLSX"),
        Row("  CPU time of this process (same runs)", laps["cpu"], "s",
            target_max=TARGET_SECONDS,
            note="wall time depends on the machine's load; CPU time much less"),
        Row("  assemble (figures, lists, charts, map)", laps["assemble"], "s"),
        Row("  PDF", laps["pdf"], "s"),
        Row("  DOCX", laps["docx"], "s"),
        Row("  XLSX", laps["xlsx"], "s"),
    ]
    notes = [
        f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"database: {connection.vendor}; {hazards:,} hazards in the city; day {day}",
        f"ours / baseline = {ours_s / base_s:.2f} (the baseline makes one table of counts: "
        "no ranking, charts, map, Word or PDF)",
        f"sizes: PDF {int(laps['pdf_bytes']):,} B, DOCX {int(laps['docx_bytes']):,} B, "
        f"XLSX {int(laps['xlsx_bytes']):,} B",
        "ledger reconciles with the briefing per town" if not mismatches
        else "MISMATCH: " + "; ".join(mismatches[:5]),
    ]
    report(rows, args.name, notes=notes,
           extra={"day": day.isoformat(), "hazards": hazards, "vendor": connection.vendor,
                  "runs": runs, "baseline_runs": [t for t, _ in base_runs],
                  "mismatches": mismatches})
    return rows


if __name__ == "__main__":
    main()
