"""Working days on the Chinese holiday calendar.

Order of authority: an administrator's ``CalendarDay`` override, then the
``chinese_calendar`` library (public holidays and 调休 make-up working days for
the years it knows), then the plain week (Monday–Friday) for years nobody has
described yet.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading

import chinese_calendar

_cache_lock = threading.Lock()
_overrides: dict[dt.date, bool] | None = None


def _load_overrides() -> dict[dt.date, bool]:
    global _overrides
    with _cache_lock:
        if _overrides is None:
            from bihuan.core.models import CalendarDay

            _overrides = dict(CalendarDay.objects.values_list("date", "is_working_day"))
        return _overrides


def invalidate_cache() -> None:
    """Forget cached overrides (called when an override is saved or deleted)."""
    global _overrides
    with _cache_lock:
        _overrides = None


def library_knows(day: dt.date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _library_working_day(day: dt.date) -> bool:
    # The library scans its whole holiday table on every call (~1 ms); a deadline
    # asks it about every day it passes, so each date is asked once per process.
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def is_working_day(day: dt.date) -> bool:
    override = _load_overrides().get(day)
    if override is not None:
        return override
    return _library_working_day(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted).

    A deadline of 3 working days for an inspection on a Friday before the
    National Day holiday lands after the holiday, as the statutory clocks expect.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in the half-open interval (start, end]; negative if end < start."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
