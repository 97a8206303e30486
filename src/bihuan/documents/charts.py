"""Charts and the map of a briefing, drawn on the server with Pillow as PNG.

Printed documents run no JavaScript, so the trend chart, the ranking bars and
the map of open hazards are images. Text in them uses the shipped font
(``bihuan.documents.fonts``), so Chinese labels render on a machine with no CJK
font installed. Each function takes plain numbers and returns PNG bytes (RGB,
no alpha channel: WeasyPrint embeds an RGBA image as two re-encoded streams).

Why Pillow and not matplotlib: three matplotlib figures cost about 0.4 s of CPU
per briefing (the artist tree, the text layout, the Agg pass), a fifth of the
whole document; these few shapes cost a few milliseconds drawn directly. Each
image is drawn at ``SUPERSAMPLE`` times its size and scaled down, which gives
the lines, dots and letters smooth (anti-aliased) edges.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bihuan.documents import fonts

# Sharp enough on A4 at the printed width (≈ 18 cm), small enough to embed fast.
DPI = 120
SUPERSAMPLE = 2
SEVERITY_COLOURS = {"major": "#c0392b", "general": "#e67e22", "on_the_spot": "#2980b9"}
INK = (34, 34, 34)
GRID = (221, 221, 221)
FRAME = (102, 102, 102)


def _px(points: float) -> int:
    """Typographic points to pixels of the supersampled canvas."""
    return max(1, round(points * DPI / 72 * SUPERSAMPLE))


@functools.cache
def _font(points: float) -> Any:
    from PIL import ImageFont

    # Index 0 of the collection is WenQuanYi Micro Hei (the others are its mono cut).
    return ImageFont.truetype(str(fonts.FONT_FILE), _px(points), index=0)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))


class _Canvas:
    """A white supersampled image, drawn in final-image inches."""

    def __init__(self, width_in: float, height_in: float) -> None:
        from PIL import Image, ImageDraw

        self.size = (round(width_in * DPI), round(height_in * DPI))
        self.image = Image.new("RGB", (self.size[0] * SUPERSAMPLE, self.size[1] * SUPERSAMPLE),
                               "white")
        self.draw = ImageDraw.Draw(self.image)
        self.width, self.height = self.image.size

    def text(self, xy: tuple[float, float], text: str, points: float, *, anchor: str = "la",
             fill: tuple[int, int, int] = INK) -> tuple[float, float, float, float]:
        font = _font(points)
        self.draw.text(xy, text, font=font, fill=fill, anchor=anchor)
        return self.draw.textbbox(xy, text, font=font, anchor=anchor)

    def text_width(self, text: str, points: float) -> float:
        return float(self.draw.textlength(text, font=_font(points)))

    def png(self) -> bytes:
        # A box filter over each SUPERSAMPLE² block: the anti-aliasing, a tenth of the
        # cost of a Lanczos resize.
        image = self.image.reduce(SUPERSAMPLE)
        buffer = io.BytesIO()
        # Fast compression: WeasyPrint decodes and compresses the image again anyway.
        image.save(buffer, format="PNG", dpi=(DPI, DPI), compress_level=1)
        return buffer.getvalue()


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5, 5 × 10ⁿ) up to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-12:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _tick_text(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int | float]
    colour: str


def _legend_row(c: _Canvas, x: float, y: float, items: Sequence[tuple[str, str]],
                points: float) -> None:
    """Line samples and labels in one row from (x, y), y the row's middle."""
    sample = _px(14)
    for label, colour in items:
        c.draw.line([(x, y), (x + sample, y)], fill=_rgb(colour), width=_px(1.6))
        box = c.text((x + sample + _px(3), y), label, points, anchor="lm")
        x = box[2] + _px(10)


def trend_chart(days: Sequence[dt.date], series: Sequence[Series], title: str) -> bytes:
    c = _Canvas(7.2, 2.8)
    left = _px(8) + c.text_width("0" * 7, 7)
    right, top, bottom = c.width - _px(10), _px(40), c.height - _px(22)
    c.text((c.width / 2, _px(6)), title, 10, anchor="mt")
    _legend_row(c, left + _px(4), _px(28), [(s.label, s.colour) for s in series], 8)
    highest = max((v for s in series for v in s.values), default=0)
    ticks = nice_ticks(float(highest))
    scale = (bottom - top) / (ticks[-1] or 1)

    def y_of(value: float) -> float:
        return bottom - value * scale

    for tick in ticks:
        y = y_of(tick)
        c.draw.line([(left, y), (right, y)], fill=GRID, width=_px(0.5))
        c.text((left - _px(3), y), _tick_text(tick), 7, anchor="rm")
    n = len(days)
    span = right - left - _px(12)

    def x_of(i: int) -> float:
        return left + _px(6) + (span * i / (n - 1) if n > 1 else span / 2)

    # About 16 labels fit the width; every day's tick is drawn, every k-th labelled
    # counting back from the last day (the briefing's day is always labelled).
    every = max(1, math.ceil(n / 16))
    for i, day in enumerate(days):
        x = x_of(i)
        c.draw.line([(x, bottom), (x, bottom + _px(2.5))], fill=FRAME, width=_px(0.6))
        if (n - 1 - i) % every == 0:
            c.text((x, bottom + _px(4)), day.strftime("%m-%d"), 7, anchor="mt")
    for s in series:
        xy = [(x_of(i), y_of(float(v))) for i, v in enumerate(s.values)]
        colour = _rgb(s.colour)
        if len(xy) > 1:
            c.draw.line(xy, fill=colour, width=_px(1.6), joint="curve")
        if n <= 15:
            r = _px(1.6)
            for x, y in xy:
                c.draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    c.draw.rectangle([left, top, right, bottom], outline=FRAME, width=_px(0.6))
    return c.png()


def ranking_bars(names: Sequence[str], scores: Sequence[float], title: str) -> bytes:
    height = max(1.8, 0.26 * len(names) + 0.8)
    c = _Canvas(7.2, height)
    left = _px(10) + max((c.text_width(n, 9) for n in names), default=0)
    right, top, bottom = c.width - _px(44), _px(26), c.height - _px(20)
    c.text((c.width / 2, _px(6)), title, 10, anchor="mt")
    ticks = nice_ticks(max(scores, default=0.0) or 1.0)
    scale = (right - left) / ticks[-1]
    for tick in ticks:
        x = left + tick * scale
        c.draw.line([(x, top), (x, bottom)], fill=GRID, width=_px(0.5))
        c.text((x, bottom + _px(3)), _tick_text(tick), 7, anchor="mt")
    slot = (bottom - top) / max(len(names), 1)
    bar = _rgb("#2c7fb8")
    for i, (name, score) in enumerate(zip(names, scores, strict=True)):
        middle = top + slot * (i + 0.5)
        c.draw.rectangle([left, middle - slot * 0.4, left + score * scale, middle + slot * 0.4],
                         fill=bar)
        c.text((left - _px(4), middle), name, 9, anchor="rm")
        c.text((left + score * scale + _px(3), middle), f"{score:.3f}", 7, anchor="lm")
    c.draw.rectangle([left, top, right, bottom], outline=FRAME, width=_px(0.6))
    return c.png()


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
               legend: dict[str, str], subtitle: str = "") -> bytes:
    """Open hazards as dots by severity over the child areas' centres: no tiles needed.

    ``subtitle``: lines under the title, e.g. what the dots are when they are not every
    open hazard."""
    from PIL import Image, ImageDraw

    c = _Canvas(6.0, 5.0)
    c.text((c.width / 2, _px(6)), title, 10, anchor="mt")
    head = _px(24)
    for line in subtitle.splitlines():
        c.text((c.width / 2, head), line, 7.5, anchor="mt", fill=(68, 68, 68))
        head += _px(12)
    left, right, top, bottom = _px(40), c.width - _px(8), head + _px(4), c.height - _px(20)
    lats = [p.latitude for p in points] + [label.latitude for label in labels]
    lons = [p.longitude for p in points] + [label.longitude for label in labels]
    if not lats:
        lats, lons = [0.0], [0.0]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    # Equal distances on the ground, equal on paper: a degree of longitude is cos(φ) of
    # one of latitude.
    stretch = math.cos(math.radians((lat0 + lat1) / 2)) or 1.0
    span_x = max((lon1 - lon0) * stretch, 1e-3) * 1.08
    span_y = max(lat1 - lat0, 1e-3) * 1.08
    scale = min((right - left) / span_x, (bottom - top) / span_y)
    mid_x, mid_y = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    cx, cy = (left + right) / 2, (top + bottom) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return cx + (lon - mid_x) * stretch * scale, cy - (lat - mid_y) * scale

    _map_ticks(c, xy, (left, top, right, bottom), (mid_x, mid_y), stretch * scale, scale)
    layer = Image.new("RGBA", c.image.size, (255, 255, 255, 0))
    dots = ImageDraw.Draw(layer)
    counts = {}
    # The major hazards last, so that no other dot covers them.
    for severity in ("on_the_spot", "general", "major"):
        colour = (*_rgb(SEVERITY_COLOURS[severity]), 185)
        r = _px(2.4 if severity == "major" else 1.4)
        chosen = [p for p in points if p.severity == severity]
        counts[severity] = len(chosen)
        for p in chosen:
            x, y = xy(p.latitude, p.longitude)
            dots.ellipse([x - r, y - r, x + r, y + r], fill=colour)
    for label in labels:
        x, y = xy(label.latitude, label.longitude)
        box = dots.textbbox((x, y), label.text, font=_font(7), anchor="mm")
        pad = _px(1.5)
        dots.rounded_rectangle([box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad],
                               radius=pad, fill=(255, 255, 255, 165))
        dots.text((x, y), label.text, font=_font(7), fill=(*INK, 255), anchor="mm")
    base = c.image.convert("RGBA")
    base.alpha_composite(layer)
    c.image = base.convert("RGB")
    c.draw = ImageDraw.Draw(c.image)
    c.draw.rectangle([left, top, right, bottom], outline=FRAME, width=_px(0.6))
    _map_legend(c, [(f"{legend.get(s, s)} ({counts.get(s, 0)})", s)
                    for s in SEVERITY_COLOURS], right, bottom)
    return c.png()


def _map_ticks(c: _Canvas, xy: Any, frame: tuple[float, float, float, float],
               middle: tuple[float, float], x_scale: float, y_scale: float) -> None:
    left, top, right, bottom = frame
    lon_half = (right - left) / 2 / x_scale
    lat_half = (bottom - top) / 2 / y_scale
    for value in _degree_ticks(middle[0] - lon_half, middle[0] + lon_half):
        x = xy(middle[1], value)[0]
        c.draw.line([(x, bottom), (x, bottom + _px(2.5))], fill=FRAME, width=_px(0.6))
        c.text((x, bottom + _px(4)), f"{value:.2f}", 6, anchor="mt")
    for value in _degree_ticks(middle[1] - lat_half, middle[1] + lat_half):
        y = xy(value, middle[0])[1]
        c.draw.line([(left - _px(2.5), y), (left, y)], fill=FRAME, width=_px(0.6))
        c.text((left - _px(3.5), y), f"{value:.2f}", 6, anchor="rm")


def _degree_ticks(low: float, high: float) -> list[float]:
    step = nice_ticks(high - low, 5)[1]
    first = math.ceil(low / step) * step
    out = []
    value = first
    while value <= high + 1e-12:
        out.append(round(value, 10))
        value += step
    return out


def _map_legend(c: _Canvas, items: Sequence[tuple[str, str]], right: float,
                bottom: float) -> None:
    widest = max(c.text_width(text, 7) for text, _ in items)
    line = _px(11)
    width = widest + _px(22)
    height = line * len(items) + _px(6)
    x0, y0 = right - width - _px(6), bottom - height - _px(6)
    c.draw.rounded_rectangle([x0, y0, x0 + width, y0 + height], radius=_px(2), fill="white",
                             outline=(204, 204, 204), width=_px(0.5))
    for i, (text, severity) in enumerate(items):
        y = y0 + _px(3) + line * (i + 0.5)
        r = _px(3 if severity == "major" else 2.2)
        x = x0 + _px(9)
        c.draw.ellipse([x - r, y - r, x + r, y + r], fill=_rgb(SEVERITY_COLOURS[severity]))
        c.text((x0 + _px(17), y), text, 7, anchor="lm")
