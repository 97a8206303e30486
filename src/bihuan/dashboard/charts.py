"""Charts and the map drawn on the server as SVG: readable without JavaScript,
printable, and the same pictures the briefing documents can embed.

No inline ``style``: colours are presentation attributes and CSS classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from bihuan.dashboard.metrics import TrendPoint

SERIES = (
    # key, colour
    ("found", "#0b57d0"),
    ("closed", "#1e7b34"),
    ("open", "#b26a00"),
    ("overdue", "#b3261e"),
)
SEVERITY_COLOURS = {"major": "#b3261e", "general": "#e08a00", "on_the_spot": "#0b57d0"}


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    colour: str
    points: str  # the polyline's "x,y x,y ..."
    last: int


def _text_width(text: str, size: int = 12) -> float:
    """A rough width of a label: CJK characters are square, Latin ones about half."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in text)


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)


def trend_svg(points: Sequence[TrendPoint], labels: dict[str, str], title: str,
              width: int = 720, height: int = 260) -> str:
    """The daily trend as an SVG line chart with axes, a legend and a title."""
    left, right, top, bottom = 48, 12, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max([getattr(p, key) for p in points for key, _c in SERIES] + [0])
    y_max = _nice_max(highest)
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + plot_w * i / n

    def y(v: int) -> float:
        return top + plot_h * (1 - v / y_max)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart trend-chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for i in range(5):
        value = y_max * i // 4
        yy = y(value)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" '
                   'stroke="#dde1e6" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" '
                   f'fill="#5f6b76">{value}</text>')
    step = max(1, len(points) // 6)
    for i, p in enumerate(points):
        if i % step == 0 or i == len(points) - 1:
            out.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                       f'font-size="11" fill="#5f6b76">{p.day:%m-%d}</text>')
    for key, colour in SERIES:
        coords = " ".join(f"{x(i):.1f},{y(getattr(p, key)):.1f}" for i, p in enumerate(points))
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                   f'stroke-width="2" class="series series-{key}"/>')
    lx: float = left
    for key, colour in SERIES:
        out.append(f'<rect x="{lx}" y="8" width="12" height="12" fill="{colour}"/>')
        label = escape(labels.get(key, key))
        out.append(f'<text x="{lx + 16}" y="18" font-size="12" fill="#1d2329">{label}</text>')
        lx += 16 + _text_width(labels.get(key, key)) + 14
    out.append("</svg>")
    return "".join(out)


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain; the hull counter-clockwise (fewer than 3 points: as given)."""
    unique = sorted(set(points))
    if len(unique) < 3:
        return unique

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def map_svg(outlines: list[dict[str, Any]], points: list[dict[str, Any]], title: str,
            labels: dict[str, str], width: int = 720, height: int = 480) -> str:
    """Area outlines (hulls of their places) and open hazards, in an equirectangular view."""
    lats = [lat for o in outlines for lat, _lon in o["hull"]] + [p["lat"] for p in points]
    lons = [lon for o in outlines for _lat, lon in o["hull"]] + [p["lon"] for p in points]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart map-chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f5f6f8"/>',
    ]
    if not lats:
        out.append("</svg>")
        return "".join(out)
    pad = 16
    lat_min, lat_max, lon_min, lon_max = min(lats), max(lats), min(lons), max(lons)
    mid = math.cos(math.radians((lat_min + lat_max) / 2))
    span_x = max((lon_max - lon_min) * mid, 1e-4)
    span_y = max(lat_max - lat_min, 1e-4)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad - 20) / span_y)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (pad + (lon - lon_min) * mid * scale,
                height - pad - (lat - lat_min) * scale)

    for outline in outlines:
        hull = outline["hull"]
        if len(hull) >= 3:
            coords = " ".join("{:.1f},{:.1f}".format(*xy(lat, lon)) for lat, lon in hull)
            out.append(f'<polygon points="{coords}" fill="#ffffff" fill-opacity="0.6" '
                       'stroke="#5f6b76" stroke-width="1"/>')
        if outline.get("centre"):
            cx, cy = xy(*outline["centre"])
            out.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" font-size="11" '
                       f'fill="#1d2329">{escape(outline["name"])}</text>')
    for severity in ("on_the_spot", "general", "major"):
        colour = SEVERITY_COLOURS[severity]
        radius = 4 if severity == "major" else 2.5
        for p in points:
            if p["severity"] == severity:
                cx, cy = xy(p["lat"], p["lon"])
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" '
                           f'fill="{colour}" fill-opacity="0.8"/>')
    lx: float = pad
    for severity in ("major", "general", "on_the_spot"):
        out.append(f'<circle cx="{lx + 5}" cy="{height - 8}" r="5" '
                   f'fill="{SEVERITY_COLOURS[severity]}"/>')
        text = escape(labels.get(severity, severity))
        out.append(f'<text x="{lx + 14}" y="{height - 4}" font-size="12" '
                   f'fill="#1d2329">{text}</text>')
        lx += 14 + _text_width(labels.get(severity, severity)) + 16
    out.append("</svg>")
    return "".join(out)
