"""Working days on the Chinese calendar, with 调休 and administrator overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from bihuan.core import clock, workdays
from bihuan.core.models import CalendarDay

D = dt.date


@pytest.mark.django_db
class TestWorkingDays:
    def test_national_day_week_is_not_working(self):
        assert not workdays.is_working_day(D(2025, 10, 1))
        assert not workdays.is_working_day(D(2025, 10, 8))

    def test_make_up_weekend_is_working(self):
        # 2025-09-28 is a Sunday worked to make up for the National Day holiday.
        assert D(2025, 9, 28).weekday() == 6
        assert workdays.is_working_day(D(2025, 9, 28))
        assert workdays.is_working_day(D(2025, 10, 11))

    def test_four_working_days_from_the_friday_before_national_day(self):
        # Fri 2025-09-26: Sun 28 (调休), Mon 29, Tue 30, then the holiday until Thu 9 Oct.
        assert workdays.add_working_days(D(2025, 9, 26), 3) == D(2025, 9, 30)
        assert workdays.add_working_days(D(2025, 9, 26), 4) == D(2025, 10, 9)

    def test_ordinary_week_skips_the_weekend(self):
        assert workdays.add_working_days(D(2026, 9, 11), 1) == D(2026, 9, 14)

    def test_zero_days_is_the_same_day(self):
        assert workdays.add_working_days(D(2026, 9, 14), 0) == D(2026, 9, 14)

    def test_negative_days_are_refused(self):
        with pytest.raises(ValueError):
            workdays.add_working_days(D(2026, 9, 14), -1)

    def test_a_year_the_library_does_not_know_falls_back_to_the_week(self):
        assert not workdays.library_knows(D(2031, 1, 6))
        assert workdays.is_working_day(D(2031, 1, 6))  # a Monday
        assert not workdays.is_working_day(D(2031, 1, 5))  # a Sunday

    def test_an_administrator_override_wins_for_an_unknown_year(self):
        CalendarDay.objects.create(date=D(2031, 1, 1), is_working_day=False, note="元旦")
        CalendarDay.objects.create(date=D(2031, 1, 5), is_working_day=True, note="调休")
        assert not workdays.is_working_day(D(2031, 1, 1))
        assert workdays.is_working_day(D(2031, 1, 5))
        # Tue 2030-12-31 + 2 working days: 1 Jan is a holiday, Thu 2, Fri 3.
        assert workdays.add_working_days(D(2030, 12, 31), 2) == D(2031, 1, 3)

    def test_working_days_between_counts_the_half_open_interval(self):
        assert workdays.working_days_between(D(2026, 9, 14), D(2026, 9, 18)) == 4
        assert workdays.working_days_between(D(2026, 9, 18), D(2026, 9, 14)) == -4


def test_the_clock_can_be_frozen_and_moved():
    start = clock.now()
    clock.advance(dt.timedelta(days=2))
    assert clock.now() - start == dt.timedelta(days=2)
    assert clock.today() == (start + dt.timedelta(days=2)).astimezone(
        dt.timezone(dt.timedelta(hours=8))
    ).date()
