"""Distances on WGS-84 coordinates (what phones report), good to a few metres."""

from __future__ import annotations

import math
from decimal import Decimal

EARTH_RADIUS_M = 6_371_008.8
# One degree of latitude is about 111 km everywhere; a longitude degree shrinks with cos(lat).
METRES_PER_DEGREE = 111_320.0

Number = float | Decimal


def haversine_m(lat1: Number, lon1: Number, lat2: Number, lon2: Number) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp = p2 - p1
    dl = math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: Number, lon: Number, radius_m: float) -> tuple[Decimal, Decimal,
                                                                       Decimal, Decimal]:
    """(min lat, max lat, min lon, max lon) around a point: an index-friendly pre-filter
    before the exact haversine distance."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(float(lat)))))
    lat_f, lon_f = float(lat), float(lon)

    def q(value: float) -> Decimal:
        return Decimal(f"{value:.6f}")

    return q(lat_f - dlat), q(lat_f + dlat), q(lon_f - dlon), q(lon_f + dlon)
