"""Shared fixtures: a frozen clock and the persona world of ``bihuan.testing``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bihuan.settings")


@pytest.fixture(autouse=True)
def _media_and_clock(settings, tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    from bihuan.core import clock, workdays

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.BIHUAN_NOTIFY = True
    # PBKDF2 at production strength costs ~0.4 s a password; tests need none of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests move the clock by days with a client logged in: session timeouts off (0)
    # unless a test turns them on (accounts/tests/test_security.py does).
    settings.BIHUAN_SESSION_IDLE_MINUTES = 0
    settings.BIHUAN_SESSION_ABSOLUTE_HOURS = 0
    # 2026-09-14 (a Monday) 10:00 Beijing time, unless a test moves it.
    clock.freeze(dt.datetime(2026, 9, 14, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    workdays.invalidate_cache()
    yield
    clock.reset()
    workdays.invalidate_cache()


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    from bihuan.testing import build_world

    return build_world()


@pytest.fixture
def on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"
