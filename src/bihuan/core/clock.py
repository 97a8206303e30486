"""The one source of "now" for the domain.

Services, deadlines and overdue checks ask this module for the time, never
``timezone.now()`` directly, so tests and simulations (the demo city, a whole
campaign in a test) can freeze or move time without patching Django.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_state = threading.local()
_global_offset = dt.timedelta(0)
_global_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    frozen: dt.datetime | None = getattr(_state, "frozen", None) or _global_frozen
    if frozen is not None:
        return frozen
    return timezone.now() + _global_offset


def today() -> dt.date:
    """Today's date in the installation's time zone (Asia/Shanghai)."""
    return timezone.localtime(now()).date()


def freeze(at: dt.datetime | None) -> None:
    """Freeze time for every thread (``None`` unfreezes)."""
    global _global_frozen
    if at is not None and timezone.is_naive(at):
        at = timezone.make_aware(at)
    _global_frozen = at


def advance(delta: dt.timedelta) -> None:
    """Move time forward: the frozen instant if frozen, otherwise the offset."""
    global _global_frozen, _global_offset
    if _global_frozen is not None:
        _global_frozen += delta
    else:
        _global_offset += delta


def reset() -> None:
    global _global_frozen, _global_offset
    _global_frozen = None
    _global_offset = dt.timedelta(0)
    _state.frozen = None


@contextmanager
def frozen_at(at: dt.datetime) -> Iterator[None]:
    """Freeze time in this thread only, for the duration of the block."""
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    previous = getattr(_state, "frozen", None)
    _state.frozen = at
    try:
        yield
    finally:
        _state.frozen = previous
