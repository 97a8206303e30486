"""Escalation rules from the settings, and the working-day cut-off the sweep uses."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from bihuan.core import workdays
from bihuan.notifications import conf
from bihuan.notifications.deadlines import nth_working_day_back


@pytest.mark.parametrize("today", [dt.date(2026, 10, 8), dt.date(2026, 10, 10),
                                   dt.date(2026, 10, 4), dt.date(2026, 9, 28)])
@pytest.mark.parametrize("over", [0, 1, 2, 5])
def test_the_cutoff_agrees_with_counting_working_days(db, today, over):
    cutoff = nth_working_day_back(today, over + 1)
    # Every deadline before the cut-off is overdue by more than ``over`` working days,
    # and none from it on.
    for back in range(0, 40):
        deadline = today - dt.timedelta(days=back)
        late = workdays.working_days_between(deadline, today)
        assert (deadline < cutoff) == (late > over), (today, over, deadline, late, cutoff)


def test_the_default_rules(settings):
    del settings.BIHUAN_ESCALATION_RULES
    rules = conf.escalation_rules()
    assert [(r.level, r.overdue_working_days_over, r.severity) for r in rules] == [
        ("town", 5, None), ("city", 15, None), ("city", 0, "major")]
    assert rules[2].matches("major", 1) and not rules[2].matches("general", 30)
    assert not rules[0].matches("general", 5) and rules[0].matches("general", 6)


@pytest.mark.parametrize("bad", [
    [{"level": "province", "overdue_working_days_over": 1}],
    [{"level": "town"}],
    [{"level": "town", "overdue_working_days_over": "soon"}],
    [{"level": "town", "overdue_working_days_over": 1, "severity": "huge"}],
])
def test_a_bad_rule_is_a_configuration_error(settings, bad):
    settings.BIHUAN_ESCALATION_RULES = bad
    with pytest.raises(ImproperlyConfigured):
        conf.escalation_rules()
