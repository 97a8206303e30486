"""Charts and the map of a briefing, drawn on the server (matplotlib, Agg) as PNG.

Printed documents run no JavaScript, so the trend chart, the ranking bars and
the map of open hazards are images. Text in them uses the shipped font
(``bihuan.documents.fonts``), so Chinese labels render on a machine with no CJK
font installed. Each function takes plain numbers and returns PNG bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bihuan.documents import fonts

# Sharp enough on A4 at the printed width (≈ 18 cm), small enough to embed fast.
DPI = 120
SEVERITY_COLOURS = {"major": "#c0392b", "general": "#e67e22", "on_the_spot": "#2980b9"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rc() -> dict[str, Any]:
    prop = fonts.matplotlib_font()
    return {"font.family": prop.get_name(), "axes.unicode_minus": False, "font.size": 9}


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int | float]
    colour: str


def trend_chart(days: Sequence[dt.date], series: Sequence[Series], title: str) -> bytes:
    plt = _pyplot()
    with plt.rc_context(_rc()):
        # Fixed margins, not a layout engine: constrained layout measures every text
        # twice and cost more than drawing the chart.
        fig, ax = plt.subplots(figsize=(7.2, 2.8))
        fig.subplots_adjust(left=0.07, right=0.985, top=0.9, bottom=0.2)
        for s in series:
            ax.plot(list(days), list(s.values), label=s.label, color=s.colour, linewidth=1.6,
                    marker="o" if len(days) <= 14 else None, markersize=3)
        ax.set_title(title)
        ax.grid(axis="y", linewidth=0.4, alpha=0.6)
        ax.legend(loc="upper left", fontsize=8, ncol=len(series), frameon=False)
        ax.set_ylim(bottom=0)
        fig.autofmt_xdate(rotation=30)
        for label in ax.get_xticklabels():
            label.set_fontsize(7)
        return _png(fig)


def ranking_bars(names: Sequence[str], scores: Sequence[float], title: str) -> bytes:
    plt = _pyplot()
    with plt.rc_context(_rc()):
        height = max(1.8, 0.26 * len(names) + 0.8)
        fig, ax = plt.subplots(figsize=(7.2, height))
        # Room on the left for the longest area name (9 pt, about a character each).
        longest = max((len(n) for n in names), default=4)
        fig.subplots_adjust(left=min(0.4, 0.03 + 0.018 * longest), right=0.93,
                            top=1 - 0.35 / height, bottom=0.3 / height)
        positions = list(range(len(names)))
        ax.barh(positions, list(scores), color="#2c7fb8")
        ax.set_yticks(positions, labels=list(names))
        ax.invert_yaxis()
        for pos, score in zip(positions, scores, strict=True):
            ax.text(score, pos, f" {score:.3f}", va="center", fontsize=7)
        ax.set_title(title)
        ax.grid(axis="x", linewidth=0.4, alpha=0.6)
        return _png(fig)


@dataclass(frozen=True)
class MapPoint:
    latitude: float
    longitude: float
    severity: str


@dataclass(frozen=True)
class MapLabel:
    latitude: float
    longitude: float
    text: str


def hazard_map(points: Sequence[MapPoint], labels: Sequence[MapLabel], title: str,
               legend: dict[str, str]) -> bytes:
    """Open hazards as dots by severity over the child areas' centres: no tiles needed."""
    plt = _pyplot()
    with plt.rc_context(_rc()):
        fig, ax = plt.subplots(figsize=(6.0, 5.0))
        fig.subplots_adjust(left=0.09, right=0.98, top=0.94, bottom=0.06)
        for severity, colour in SEVERITY_COLOURS.items():
            xs = [p.longitude for p in points if p.severity == severity]
            ys = [p.latitude for p in points if p.severity == severity]
            size = 14 if severity == "major" else 5
            ax.scatter(xs, ys, s=size, c=colour, alpha=0.7, linewidths=0,
                       label=f"{legend.get(severity, severity)} ({len(xs)})")
        for label in labels:
            ax.annotate(label.text, (label.longitude, label.latitude), fontsize=7,
                        ha="center", va="center", color="#222",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.6,
                              "lw": 0})
        ax.set_title(title)
        ax.set_aspect("equal", adjustable="datalim")
        ax.tick_params(labelsize=6)
        ax.legend(loc="lower right", fontsize=7, markerscale=2)
        return _png(fig)
