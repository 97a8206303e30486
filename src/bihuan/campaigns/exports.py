"""CSV exports of the three lists and the draws, safe to open in Excel."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The value as text, with a leading ' if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
                 ) -> HttpResponse:
    # UTF-8 with a BOM: Excel on a Chinese Windows opens it as UTF-8, not GBK.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return response
