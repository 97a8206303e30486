"""The draw algorithms on their own: reproducible, never a team in its own town, stratified."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.campaigns import draws
from bihuan.core.errors import ValidationFailed


def _pairing_exists(towns: list[str], teams: list[tuple[int, str]]) -> bool:
    """Brute force: is there any assignment of teams (within capacity) to towns?"""
    capacity = -(-len(towns) // len(teams))
    slots = [t for t in teams for _ in range(capacity)]
    for chosen in itertools.permutations(range(len(slots)), len(towns)):
        if all(slots[s][1] != town for s, town in zip(chosen, towns, strict=True)):
            return True
    return False


layouts = st.integers(1, 5).flatmap(
    lambda n_towns: st.tuples(
        st.just([f"T{i}" for i in range(n_towns)]),
        st.lists(st.sampled_from([f"T{i}" for i in range(n_towns)] + ["elsewhere"]),
                 min_size=1, max_size=5),
        st.text(min_size=0, max_size=8),
    )
)


@settings(max_examples=150, deadline=None)
@given(layouts)
def test_no_team_is_ever_paired_with_its_own_town(layout):
    towns, homes, seed = layout
    teams = [(i + 1, home) for i, home in enumerate(homes)]
    home_of = dict(teams)
    try:
        pairing = draws.pair_teams(seed, towns, teams)
    except ValidationFailed:
        # Refused only when no pairing exists at all.
        assert not _pairing_exists(towns, teams)
        return
    assert sorted(pairing) == sorted(towns)
    for town, team in pairing.items():
        assert home_of[team] != town
    # Teams share the work: none takes more than its share.
    capacity = -(-len(towns) // len(teams))
    for team in set(pairing.values()):
        assert list(pairing.values()).count(team) <= capacity
    # The same seed gives the same pairing.
    assert draws.pair_teams(seed, towns, teams) == pairing


def test_equal_teams_and_towns_make_a_derangement_that_varies_with_the_seed():
    towns = [f"T{i}" for i in range(8)]
    teams = [(i, f"T{i}") for i in range(8)]
    seen = set()
    for seed in range(30):
        pairing = draws.pair_teams(str(seed), towns, teams)
        assert sorted(pairing.values()) == list(range(8))  # each team exactly once
        assert all(pairing[f"T{i}"] != i for i in range(8))
        seen.add(tuple(sorted(pairing.items())))
    assert len(seen) > 10


def test_allocation_is_proportional_and_exact():
    assert draws.allocate({"rental": 6, "shop": 3, "hotel": 1}, 5) == {
        "rental": 3, "shop": 2, "hotel": 0}
    assert draws.allocate({"a": 2, "b": 2}, 10) == {"a": 2, "b": 2}
    assert sum(draws.allocate({"a": 7, "b": 5, "c": 3}, 8).values()) == 8


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["r", "s", "m", "h"]), st.integers(1, 30), min_size=1),
       st.integers(1, 60), st.floats(0, 1), st.text(max_size=6))
def test_the_sample_matches_the_allocation_per_kind(sizes, n, clean_share, seed):
    places = []
    next_id = itertools.count(1)
    for kind, size in sizes.items():
        places += [[next(next_id), kind, i % 3 == 0] for i in range(size)]
    sample = draws.stratified_sample(seed, "T", places, n, clean_share)
    allocation = draws.allocate(sizes, n)
    for kind in sizes:
        chosen = [p for p in sample if p[1] == kind]
        assert len(chosen) == allocation[kind]
        clean_available = sum(1 for p in places if p[1] == kind and p[2])
        wanted = min(clean_available, -(-int(allocation[kind] * clean_share * 1e9) // int(1e9)))
        assert sum(1 for p in chosen if p[2]) >= min(wanted, allocation[kind])
    assert len({p[0] for p in sample}) == len(sample)
    assert draws.stratified_sample(seed, "T", places, n, clean_share) == sample


def test_look_back_takes_the_riskiest_first_and_assigns_a_candidate():
    hazards = [[i, 2, [7, 8]] for i in range(1, 11)] + [[50, 0, [8]], [51, 1, [7]]]
    inputs = {"areas": [{"code": "A", "hazards": hazards}]}
    result = draws.look_back_result("seed", {"share": 20}, inputs)
    items = result["items"]
    assert len(items) == 3  # ceil(12 × 20 %)
    assert [i[1] for i in items[:2]] == [50, 51]
    assert items[0][3] == 8 and items[1][3] == 7
    assert draws.look_back_result("seed", {"share": 20}, inputs) == result


@pytest.mark.parametrize("share", [1, 50, 100])
def test_look_back_share_rounds_up(share):
    inputs = {"areas": [{"code": "A", "hazards": [[i, 2, [1]] for i in range(7)]}]}
    items = draws.look_back_result("s", {"share": share}, inputs)["items"]
    assert len(items) == -(-7 * share // 100)
