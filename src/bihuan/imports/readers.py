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
def open_rows(path: str | Path, fmt: str, *, head: bool = False) -> Iterator[Iterator[Row]]:
    """The rows of the first sheet (XLSX) or of the file (CSV), numbered as in Excel.

    ``head``: only the first rows will be read (header detection). An XLSX workbook's
    shared-string table (every distinct text of the sheet, which Excel keeps apart from
    the cells) is then read only as far as those rows need, instead of whole: for a
    ledger of 100,000 places that is ~400,000 strings, ~5 s and ~100 MB.
    """
    if fmt == "xlsx":
        from openpyxl import load_workbook

        lazy: _LazyStrings | None = None
        try:
            if head:
                try:
                    workbook, lazy = _load_head(path)
                except Exception:  # the usual way below says what is wrong, if anything
                    workbook = load_workbook(path, read_only=True, data_only=True)
            else:
                workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception:
            raise ValidationFailed(_("The file is not a readable Excel workbook."),
                                   field="file") from None
        try:
            sheet = workbook.worksheets[0]
            yield _xlsx_rows(sheet)
        finally:
            workbook.close()
            if lazy is not None:
                lazy.close()
    else:
        encoding = detect_encoding(path)
        with open(path, encoding=encoding, newline="", errors="strict") as handle:
            yield _csv_rows(handle)


class _LazyStrings:
    """An XLSX shared-string table read on demand (as openpyxl's ``read_string_table``
    reads it, entry by entry), as far as the highest index asked for."""

    def __init__(self, archive: Any, member: str) -> None:
        from openpyxl.xml.constants import SHEET_MAIN_NS
        from openpyxl.xml.functions import iterparse

        self._tag = f"{{{SHEET_MAIN_NS}}}si"
        self._source = archive.open(member)
        self._events: Iterator[tuple[str, Any]] | None = iterparse(self._source)
        self._strings: list[str] = []

    def __getitem__(self, index: int) -> str:
        from openpyxl.cell.text import Text

        while index >= len(self._strings) and self._events is not None:
            try:
                _event, node = next(self._events)
            except StopIteration:
                self.close()
                break
            if node.tag == self._tag:
                self._strings.append(Text.from_tree(node).content.replace("x005F_", ""))
                node.clear()
        return self._strings[index]

    def __len__(self) -> int:
        return len(self._strings)

    def close(self) -> None:
        self._events = None
        self._source.close()


def _load_head(path: str | Path) -> tuple[Any, _LazyStrings | None]:
    """A read-only workbook whose shared strings are read lazily (see ``open_rows``)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    lazy: list[_LazyStrings] = []

    class HeadReader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                lazy.append(_LazyStrings(self.archive, part.PartName[1:]))
                self.shared_strings = lazy[0]

    reader = HeadReader(path, read_only=True, data_only=True, keep_links=False)
    try:
        reader.read()
    except Exception:
        for strings in lazy:
            strings.close()
        reader.archive.close()
        raise
    return reader.wb, (lazy[0] if lazy else None)


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
