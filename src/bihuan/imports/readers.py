"""Reading a ledger row by row, in constant memory: XLSX (openpyxl read-only) and CSV.

Rows come with the number the official sees in Excel (1-based, blank rows
counted), so every problem can name it.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from bihuan.core.errors import ValidationFailed

Row = tuple[int, list[Any]]
SNIFF_BYTES = 256 * 1024
FORMATS = ("xlsx", "csv")


def format_of(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("csv", "txt"):
        return "csv"
    raise ValidationFailed(_("Upload an Excel workbook (.xlsx) or a CSV file."), field="file")


def detect_encoding(path: str | Path) -> str:
    """``utf-8-sig``, ``utf-8`` or ``gb18030`` (what Excel on a Chinese Windows saves)."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # Incremental: a multi-byte character cut at the end of the sample is fine.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


@contextmanager
def open_rows(path: str | Path, fmt: str) -> Iterator[Iterator[Row]]:
    """The rows of the first sheet (XLSX) or of the file (CSV), numbered as in Excel."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception:
            raise ValidationFailed(_("The file is not a readable Excel workbook."),
                                   field="file") from None
        try:
            sheet = workbook.worksheets[0]
            yield _xlsx_rows(sheet)
        finally:
            workbook.close()
    else:
        encoding = detect_encoding(path)
        with open(path, encoding=encoding, newline="", errors="strict") as handle:
            yield _csv_rows(handle)


def _xlsx_rows(sheet: Any) -> Iterator[Row]:
    # Read-only sheets yield blank rows as empty tuples, so enumerate matches Excel's
    # numbering; min_row=1 keeps it so even when the sheet's dimension starts lower.
    for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        yield number, list(values)


def _csv_rows(handle: Any) -> Iterator[Row]:
    reader = csv.reader(handle)
    try:
        for number, values in enumerate(reader, start=1):
            yield number, list(values)
    except UnicodeDecodeError:
        raise ValidationFailed(_("The file's text encoding is neither UTF-8 nor GB18030."),
                               field="file") from None
