"""Loading and maintaining the area tree."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from bihuan.areas.choices import AreaLevel
from bihuan.areas.models import Area


def short_name(name: str) -> str:
    """Local display name: 白塔村委会 → 白塔村, 园丁社区居委会 → 园丁社区."""
    for suffix, replacement in (("社区居委会", "社区"), ("村委会", "村"), ("居委会", "社区")):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if replacement == "村" and stem.endswith("村"):
                return stem
            return stem + replacement
    return name


@transaction.atomic
def load_areas(rows: Iterable[dict[str, str]]) -> int:
    """Create or update areas from rows with ``code,name,level,parent_code[,lat,lon]``.

    Parents must come before children (the published CSV is ordered so).
    """
    by_code: dict[str, Area] = {a.code: a for a in Area.objects.all()}
    count = 0
    for row in rows:
        level = AreaLevel(row["level"])
        parent = by_code.get(row.get("parent_code") or "")
        area = by_code.get(row["code"]) or Area(code=row["code"])
        area.name = row["name"]
        area.short_name = row.get("short_name") or short_name(row["name"])
        area.level = level
        area.parent = parent
        if row.get("lat"):
            area.latitude = Decimal(row["lat"])
            area.longitude = Decimal(row["lon"])
        area.save()
        by_code[area.code] = area
        count += 1
    return count


def load_areas_csv(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return load_areas(csv.DictReader(handle))
