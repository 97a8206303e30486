"""Streamed export of any filtered list to CSV or XLSX.

A list view builds its queryset exactly as for the page (``visible_to`` plus
the list's FilterSet), hands it here with its columns, and gets back a
streaming response:

- CSV is written row by row into the response (UTF-8 with a BOM, so Excel
  opens Chinese text correctly); nothing but the current chunk is in memory.
- XLSX is written by openpyxl in write-only mode into an anonymous temporary
  file, then streamed back from disk (``FileResponse``); the workbook never
  sits in memory as a whole.

Every cell is made safe against formula injection (a text cell starting with
``= + - @`` or a tab/CR gets a leading apostrophe, OWASP's advice), personal
data is masked by the columns (see :mod:`bihuan.core.masking`), and every
export is recorded in the audit trail (who, which list, which filters, how many
rows) before the first byte leaves.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils import timezone

from bihuan.core import clock

FORMATS = ("csv", "xlsx")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    """A cell value that no spreadsheet will run as a formula.

    Numbers, dates and booleans pass unchanged (they cannot carry a formula);
    text starting with a formula trigger gets a leading apostrophe.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | dt.date | dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            # Excel has no time zones: show the wall clock of the installation.
            return timezone.localtime(value).replace(tzinfo=None)
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    """One exported column: its header and how to get the cell from a row."""

    header: str
    value: Callable[[Any], Any]


class _Echo:
    """A file-like object whose ``write`` hands back what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file as byte chunks of about ``CHUNK_ROWS`` rows each."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode()  # BOM: Excel reads the file as UTF-8
    yield writer.writerow([safe_cell(h) for h in headers]).encode("utf-8")
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow([_csv_text(safe_cell(v)) for v in row]))
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer).encode("utf-8")
            buffer = []
    if buffer:
        yield "".join(buffer).encode("utf-8")


def _csv_text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], file: Any,
               *, title: str = "Sheet1") -> int:
    """Write a write-only workbook into ``file``; return the number of data rows."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    sheet.append([safe_cell(h) for h in headers])
    count = 0
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
        count += 1
    workbook.save(file)
    return count


def rows_of(queryset: Iterable[Any], columns: Sequence[Column]) -> Iterator[list[Any]]:
    for obj in queryset:
        yield [column.value(obj) for column in columns]


def requested_format(request: HttpRequest) -> str | None:
    """``csv`` or ``xlsx`` when the list was asked for as a file (``?format=``), else None."""
    value = request.GET.get("format", "").lower()
    return value if value in FORMATS else None


def filters_of(request: HttpRequest) -> dict[str, list[str]]:
    return {key: values for key, values in request.GET.lists()
            if key not in ("format", "cursor") and any(values)}


def export_response(
    request: HttpRequest,
    *,
    queryset: QuerySet[Any],
    columns: Sequence[Column],
    list_name: str,
    filename: str,
    fmt: str,
) -> StreamingHttpResponse:
    """Audit the export, then stream ``queryset`` as ``fmt`` (``csv`` or ``xlsx``)."""
    from bihuan.audit import services as audit
    from bihuan.core.masking import may_see_personal_data

    count = queryset.count()
    audit.record("export", actor=request.user, stream="exports", data={
        "list": list_name, "format": fmt, "filters": filters_of(request), "rows": count,
        "personal_data": "unmasked" if may_see_personal_data(request.user) else "masked",
    }, client_ip=request.META.get("REMOTE_ADDR"))
    headers = [str(column.header) for column in columns]
    # Server-side cursor on PostgreSQL, chunked reads on SQLite: memory stays flat.
    rows = rows_of(queryset.iterator(chunk_size=CHUNK_ROWS), columns)
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M")
    name = f"{filename}-{stamp}.{fmt}"
    disposition = f"attachment; filename=\"{filename}-{stamp}.{fmt}\"; " \
                  f"filename*=UTF-8''{quote(name)}"
    response: StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(headers, rows),
                                         content_type="text/csv; charset=utf-8")
    else:
        # Deleted by the OS as soon as the response closes it.
        file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
        write_xlsx(headers, rows, file, title=filename)
        file.seek(0)
        response = FileResponse(file, content_type=XLSX_TYPE)
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "no-store"
    return response
