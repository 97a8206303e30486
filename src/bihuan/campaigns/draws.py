"""The draw algorithms: pure functions of (seed, parameters, inputs).

Nothing here reads the database or a clock, so a published draw can be re-run
by anyone from its recorded seed and inputs (``services.verify_draw``), in this
code or by hand: every "random" order is the order of SHA-256 digests of
``seed:salt:item`` strings, which any language (or a spreadsheet with a hash
function) reproduces. See docs/campaigns.md.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from bihuan.core.errors import ValidationFailed


def digest(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def effective_seed(public_seed: str, nonce: str) -> str:
    """The seed the draw uses: the published one and the system's nonce, hashed together."""
    return hashlib.sha256(f"{public_seed}\n{nonce}".encode()).hexdigest()


def rank(seed: str, *parts: Any) -> str:
    """The sort key of one item in one random order."""
    return hashlib.sha256(":".join([seed, *map(str, parts)]).encode()).hexdigest()


# ---------------------------------------------------------------- allocation


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Split a sample of ``n`` over strata in proportion to their sizes.

    Largest remainder (Hamilton): everyone gets the floor of their quota, the
    seats left go to the largest fractional parts (ties: the larger stratum, then
    the name). Never more than a stratum holds; ``n`` above the total takes all.
    """
    total = sum(sizes.values())
    n = min(n, total)
    if n <= 0:
        return dict.fromkeys(sizes, 0)
    quotas = {k: n * size / total for k, size in sizes.items()}
    result = {k: math.floor(q) for k, q in quotas.items()}
    left = n - sum(result.values())
    order = sorted(sizes, key=lambda k: (-(quotas[k] - result[k]), -sizes[k], k))
    for k in order[:left]:
        result[k] += 1
    return result


# ---------------------------------------------------------------- cross-inspection


def pair_teams(seed: str, towns: list[str], teams: list[tuple[int, str]]) -> dict[str, int]:
    """Give every town one team from another town (a derangement when they are as many).

    ``teams`` are ``(team id, home town code)``. When there are fewer teams than
    towns a team takes up to ``ceil(towns / teams)`` towns. A maximum bipartite
    matching (augmenting paths, Kuhn) over edges taken in a seeded random order:
    it finds a pairing whenever one exists, and the seed alone decides which.
    """
    if not towns:
        return {}
    if not teams:
        raise ValidationFailed(_("There is no inspection team to pair with the towns."),
                               field="towns")
    capacity = math.ceil(len(towns) / len(teams))
    slots = [(team_id, home, i) for team_id, home in teams for i in range(capacity)]
    edges = {
        town: sorted(
            (s for s, (_t, home, _i) in enumerate(slots) if home != town),
            key=lambda s: rank(seed, "edge", town, slots[s][0], slots[s][2]),
        )
        for town in towns
    }
    holder: dict[int, str] = {}

    def augment(town: str, seen: set[int]) -> bool:
        for s in edges[town]:
            if s in seen:
                continue
            seen.add(s)
            if s not in holder or augment(holder[s], seen):
                holder[s] = town
                return True
        return False

    for town in sorted(towns, key=lambda t: rank(seed, "town", t)):
        if not augment(town, set()):
            raise ValidationFailed(
                _("The teams cannot be paired with these towns without a team inspecting "
                  "its own town. Add a team from another town."),
                field="towns",
            )
    return {town: slots[s][0] for s, town in holder.items()}


def stratified_sample(seed: str, town: str, places: list[list[Any]], n: int,
                      clean_share: float) -> list[list[Any]]:
    """Draw ``n`` places of one town, stratified by place kind.

    ``places`` are ``[id, kind, recently_clean]``. Each kind gets its share of
    ``n`` (:func:`allocate`); within a kind, at least ``clean_share`` of its
    seats (rounded up) go to places the local team recently passed as clean, as
    far as there are such places; the rest in the seeded random order.
    """
    by_kind: dict[str, list[list[Any]]] = defaultdict(list)
    for place in places:
        by_kind[place[1]].append(place)
    seats = allocate({k: len(v) for k, v in by_kind.items()}, n)
    picked: list[list[Any]] = []
    for kind in sorted(by_kind):
        k = seats[kind]
        if not k:
            continue
        ordered = sorted(by_kind[kind], key=lambda p: rank(seed, "place", town, p[0]))
        clean = [p for p in ordered if p[2]]
        other = [p for p in ordered if not p[2]]
        k_clean = min(len(clean), math.ceil(k * clean_share))
        chosen = clean[:k_clean] + other[: k - k_clean]
        chosen += clean[k_clean: k_clean + k - len(chosen)]
        picked.extend(chosen)
    return picked


def cross_result(seed: str, params: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    towns = [t["code"] for t in inputs["towns"]]
    teams = [(int(t[0]), str(t[1])) for t in inputs["teams"]]
    pairing = pair_teams(seed, towns, teams)
    assignments = []
    for town in inputs["towns"]:
        for place_id, kind, clean in stratified_sample(
            seed, town["code"], town["places"], int(params["per_town"]),
            float(params["clean_share"]),
        ):
            assignments.append([town["code"], pairing[town["code"]], place_id, kind, clean])
    return {"pairings": dict(sorted(pairing.items())), "assignments": assignments}


# ---------------------------------------------------------------- look-back


def look_back_result(seed: str, params: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Per area, ``share`` % of its closed hazards (rounded up), risk first.

    Hazards are ``[id, tier, [candidate user ids]]``; tier 0 is a major hazard
    that recurred, 1 a major hazard or a recurrence, 2 the rest. Lower tiers are
    taken first, the seeded order within a tier. Each is assigned to one of its
    candidates (people who may look back at it and did not close it), seeded.
    """
    share = float(params["share"]) / 100
    items = []
    for area in inputs["areas"]:
        hazards = area["hazards"]
        k = math.ceil(len(hazards) * share)
        ordered = sorted(hazards, key=lambda h: (h[1], rank(seed, "hazard", h[0])))
        for hazard_id, tier, candidates in ordered[:k]:
            assignee = min(candidates, key=lambda u: rank(seed, "assignee", hazard_id, u))
            items.append([area["code"], hazard_id, tier, assignee])
    return {"items": items}


# ---------------------------------------------------------------- duty spot checks


def duty_result(seed: str, params: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """``grids`` random grids, and ``per_grid`` of each grid's recorded inspections.

    Grids are ``{code, inspections: [[id, inspector id]], checkers: [user ids]}``;
    each check goes to a checker who did not make the inspection.
    """
    grids = sorted(inputs["grids"], key=lambda g: rank(seed, "grid", g["code"]))
    items = []
    for grid in grids[: int(params["grids"])]:
        chosen = sorted(grid["inspections"], key=lambda i: rank(seed, "inspection", i[0]))
        for inspection_id, inspector_id in chosen[: int(params["per_grid"])]:
            checkers = [u for u in grid["checkers"] if u != inspector_id]
            checker = min(checkers, key=lambda u: rank(seed, "checker", inspection_id, u))
            items.append([grid["code"], inspection_id, checker])
    return {"items": items}


ALGORITHMS = {"cross": cross_result, "look_back": look_back_result, "duty": duty_result}
