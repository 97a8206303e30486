"""Normalising what officials type into Excel: full-width characters, dates, addresses.

Everything here is pure (no database), so the reader, the validation and the
duplicate detection agree on one meaning of a cell.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

# Excel's day zero (serial 1 = 1900-01-01, with Lotus's phantom 1900-02-29 counted).
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials between these are plausible ledger dates (1982 … 2064).
SERIAL_RANGE = (30000, 60000)

_DATE_PATTERNS = (
    # 2022-9-18, 2022/09/18, 2022.9.18, 2022年9月18日 (after NFKC and separator folding)
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"),
    # 20220918
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_DATE_SEPARATORS = str.maketrans({"/": "-", ".": "-", "年": "-", "月": "-", "日": "",
                                  "号": ""})
# Address punctuation that varies between typists: 12号-3 / 12号—3 / 12之3 ...
_ADDRESS_DASHES = re.compile(r"[‐‑‒–—―－~〜]")
_ADDRESS_NOISE = re.compile(r"[,，。、;；:：()（）\"'“”‘’]")


def text(value: Any) -> str:
    """A cell as clean text: NFKC (full-width → half-width), trimmed, inner spaces single."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    # str.split() splits on exactly what ``\s`` matches (str.isspace), U+3000 included,
    # and is several times faster than the regular expression on a ledger's cells.
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def compact(value: Any) -> str:
    """:func:`text` without any space (for headers, names, phone numbers, matching)."""
    if isinstance(value, str):
        return "".join(unicodedata.normalize("NFKC", value).split())
    return "".join(text(value).split())


def parse_date(value: Any) -> dt.date | None:
    """A date from a cell: a real date, an Excel serial, or text in the usual Chinese forms.

    Raises ``ValueError`` for a non-empty cell that is not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError(value)
    raw = compact(value)
    if not raw:
        return None
    if raw.isdigit() and len(raw) == 5 and SERIAL_RANGE[0] <= int(raw) <= SERIAL_RANGE[1]:
        return EXCEL_EPOCH + dt.timedelta(days=int(raw))
    folded = raw.translate(_DATE_SEPARATORS).strip("-")
    for pattern in _DATE_PATTERNS:
        match = pattern.match(folded)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return dt.date(year, month, day)  # ValueError for 2022-2-30
    raise ValueError(value)


def address(value: Any) -> str:
    """An address as stored: half-width, no spaces, one kind of dash."""
    cleaned = compact(value)
    return _ADDRESS_DASHES.sub("-", cleaned)


def address_key(value: Any) -> str:
    """The matching key of an address: :func:`address` without punctuation, lower-case.

    ``永康市 东城街道 白塔村１２号`` and ``永康市东城街道白塔村12号`` share a key.
    """
    key = _ADDRESS_NOISE.sub("", address(value)).replace("-", "")
    return key.lower()


def key_of_address(stored: str) -> str:
    """:func:`address_key` of a value already through :func:`address`, without
    normalising it again (when it is still NFKC: dropping a space before a combining
    mark can make it compose, and then the full :func:`address_key` is needed)."""
    if not unicodedata.is_normalized("NFKC", stored):
        return address_key(stored)
    return _ADDRESS_NOISE.sub("", stored).replace("-", "").lower()


def name_key(value: Any) -> str:
    return _ADDRESS_NOISE.sub("", compact(value)).lower()


_PHONE_CHARS = re.compile(r"[\d\s\-()+]*")
_NOT_PHONE_DIGITS = re.compile(r"[^\d-]")


def phone(value: Any) -> str:
    """Digits (and a dash after an area code) only: ``138 0000 0001`` → ``13800000001``."""
    raw = compact(value)
    if raw.endswith(".0"):
        raw = raw[:-2]
    return _NOT_PHONE_DIGITS.sub("", raw) if _PHONE_CHARS.fullmatch(raw) else raw


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?\d{7,8}(-\d{1,5})?$")


def is_phone(value: str) -> bool:
    return bool(_MOBILE.match(value) or _LANDLINE.match(value))


def decimal(value: Any) -> Decimal | None:
    """A decimal from a cell; ``ValueError`` when not a number."""
    if value is None or value == "":
        return None
    raw = compact(value)
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(value) from None


TOTAL_WORDS = ("合计", "总计", "小计", "共计")


def is_total_row(values: list[Any]) -> bool:
    """A 合计 / 总计 row below the data: its first filled cell starts with such a word."""
    for value in values:
        cell = compact(value)
        if cell:
            return cell.startswith(TOTAL_WORDS)
    return False
