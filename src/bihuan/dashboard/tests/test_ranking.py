"""The ranking: weighted, normalised for workload, and fair to small areas."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.areas.models import Area
from bihuan.core import clock
from bihuan.dashboard import metrics
from bihuan.dashboard.metrics import AreaFigures, build_figures, score_rows, shrink
from bihuan.dashboard.models import DEFAULT_WEIGHTS, RankingWeights

DAY = dt.date(2026, 9, 14)


def village(pk: int, *, places: int, inspected: int, found: int, closed: int, on_time: int,
            open_: int = 0, overdue: int = 0) -> AreaFigures:
    area = Area(pk=pk, code=f"v{pk}", name=f"v{pk}", short_name=f"v{pk}", level="village",
                path=f"c/v{pk}/")
    counters = {"covered": inspected, "found": found, "closed": closed,
                "closed_on_time": on_time, "open": open_, "overdue": overdue}
    return build_figures(area, DAY, counters, places)


def big_good(pk: int) -> AreaFigures:
    """A village of 300 places doing well, some (higher ``pk``) better than others."""
    return village(pk, places=300, inspected=240 + 10 * pk, found=120, closed=95 + 4 * pk,
                   on_time=85 + 4 * pk, open_=25 - 4 * pk, overdue=6 - pk)


@settings(deadline=None)  # pure arithmetic; a busy machine must not make it fail
@given(num=st.integers(0, 500), extra=st.integers(0, 500), mean=st.floats(0, 1),
       k=st.floats(0.1, 100))
def test_a_shrunk_rate_lies_between_the_areas_own_rate_and_the_mean(num, extra, mean, k):
    den = num + extra
    value = shrink(num, den, mean, k)
    if den == 0:
        assert value == pytest.approx(mean)
        return
    own = num / den
    assert min(own, mean) - 1e-9 <= value <= max(own, mean) + 1e-9
    # More observations of the same rate pull it further from the mean, never back.
    assert abs(shrink(num * 10, den * 10, mean, k) - own) <= abs(value - own) + 1e-9


def test_a_three_place_village_with_perfect_figures_does_not_top_the_table():
    rows = [big_good(i) for i in range(1, 6)]
    tiny = village(99, places=3, inspected=3, found=2, closed=2, on_time=2)
    rows.append(tiny)
    inspectors = {f.area.pk: 3 for f in rows}
    # The loop's rates only (coverage also weighs the workload, tested below).
    weights = dict.fromkeys(DEFAULT_WEIGHTS, 0.0) | {"closure": 1.0, "on_time": 1.0,
                                                     "overdue": 1.0}
    ranked = score_rows(rows, inspectors, weights, k=20)
    assert ranked[0].area.pk != 99
    # Not vacuous: without shrinkage the same village comes first.
    unshrunk = score_rows(rows, inspectors, weights, k=0)
    assert unshrunk[0].area.pk == 99


def test_a_three_place_village_with_awful_figures_does_not_bottom_the_table():
    rows = [big_good(i) for i in range(1, 5)]
    rows.append(village(5, places=300, inspected=150, found=120, closed=50, on_time=20,
                        open_=70, overdue=40))
    tiny = village(99, places=3, inspected=0, found=2, closed=0, on_time=0, open_=2,
                   overdue=2)
    rows.append(tiny)
    inspectors = {f.area.pk: 3 for f in rows}
    weights = dict.fromkeys(DEFAULT_WEIGHTS, 0.0) | {"closure": 1.0, "on_time": 1.0,
                                                     "overdue": 1.0}
    ranked = score_rows(rows, inspectors, weights, k=20)
    assert ranked[-1].area.pk == 5
    assert score_rows(rows, inspectors, weights, k=0)[-1].area.pk == 99


def test_a_heavier_workload_per_inspector_earns_coverage_credit():
    same = {"places": 200, "inspected": 100, "found": 50, "closed": 40, "on_time": 30}
    busy, staffed = village(1, **same), village(2, **same)
    ranked = score_rows([busy, staffed], {1: 1, 2: 4}, dict(DEFAULT_WEIGHTS), k=20)
    by_pk = {row.area.pk: row for row in ranked}
    assert by_pk[1].components["coverage"] > by_pk[2].components["coverage"]
    assert by_pk[1].places_per_inspector == 200 and by_pk[2].places_per_inspector == 50
    assert ranked[0].area.pk == 1


def test_weights_decide_the_order_and_every_component_is_shown():
    fast = village(1, places=100, inspected=50, found=50, closed=50, on_time=50)
    thorough = village(2, places=100, inspected=100, found=50, closed=20, on_time=5,
                       open_=30)
    inspectors = {1: 2, 2: 2}
    coverage_only = dict.fromkeys(DEFAULT_WEIGHTS, 0.0) | {"coverage": 1.0}
    closure_only = dict.fromkeys(DEFAULT_WEIGHTS, 0.0) | {"closure": 1.0}
    assert score_rows([fast, thorough], inspectors, coverage_only, 1)[0].area.pk == 2
    ranked = score_rows([fast, thorough], inspectors, closure_only, 1)
    assert ranked[0].area.pk == 1
    assert set(ranked[0].components) == set(metrics.COMPONENT_LABELS)
    assert [r.rank for r in ranked] == [1, 2]


@pytest.mark.django_db
def test_a_campaigns_weights_from_the_admin_are_used(world):
    from bihuan.campaigns.models import Campaign

    campaign = Campaign.objects.create(code="T1", name="t", area=world.city,
                                       starts_on=clock.today(), ends_on=clock.today())
    assert metrics.weights_for(campaign)[0] == dict(DEFAULT_WEIGHTS)
    RankingWeights.objects.create(campaign=campaign, coverage=1, closure=0, on_time=0,
                                  overdue=0, recurrence=0, missed_detection=0, credibility=5)
    weights, k = metrics.weights_for(campaign)
    assert weights["coverage"] == 1 and weights["closure"] == 0 and k == 5
    rows = metrics.ranking(campaign, world.city, clock.today())
    assert [r.area for r in rows] == sorted(world.towns.values(), key=lambda a: a.path)
