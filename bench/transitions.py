"""Loop transitions per second through the services: one client, one process.

    python bench/transitions.py [--hazards 3000] [--seed 1] [--profile out.prof]

On the filled bench database (``bench/fill.py``) it takes ``--hazards`` random
hazards in ``rectifying`` state in one town (the town with the most of them
whose party has a login; with the next towns too, each hazard with its own town's
officers, when earlier runs have moved too many of them on), and runs their loops
through ``bihuan.hazards.services`` exactly as the views call them (hazard id,
acting user, ``expected_version``, client address):

    submit_rectification (the party, with an after-photo)
      [10 %: fail_verification (town officer 1) → submit_rectification again]
    → pass_verification (town officer 1)
    → pass_look_back or fail_look_back (town officer 2, 50/50)

phase by phase (every hazard's first step, then every hazard's second, ...), and
times each call and the whole run (wall clock). ``BIHUAN_NOTIFY`` is on, as in
production, so each transition also enqueues its notification task in its own
transaction (the outbox row of the database task backend). Evidence files
go to a temporary ``MEDIA_ROOT`` that is removed afterwards.

Baseline, in the same run: the raw SQL writes of the same rows for the same
schedule on another set of hazards of the same town — per transition, one
transaction of ``UPDATE hazards_hazard`` (state, version, ...), ``INSERT
hazards_hazardevent`` and ``INSERT audit_auditentry`` (with its hash chained as
the app does), through plain psycopg on the same database. No reads, no lock,
no evidence, no task: the floor that the service path is compared with.

Targets (from the issue): >= 500 transitions/s from one client on PostgreSQL,
and >= 0.2 of the raw rate.

On an empty database it builds the small persona world of ``bihuan.testing``
instead (a smoke test; the real figure is on the filled database).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from common import Row, commit_probe, percentile, psycopg_conninfo, report, setup_django

WARMUP = 40
FAIL_VERIFY = 0.10
FAIL_LOOK_BACK = 0.5
CLIENT_IP = "10.20.30.40"


@dataclass
class Setup:
    kind: str  # "city" (filled database) or "personas" (small world)
    town: str  # the town of ours (or the towns, when one had too few hazards)
    verifier_of: dict[int, Any]  # hazard id → its town's officer who verifies
    looker_of: dict[int, Any]  # hazard id → its town's officer who looks back
    party_of: dict[int, Any]  # hazard id → acting party user
    ours: list[int]
    raw: list[int]
    warmup: list[int]  # WARMUP hazards for the services, then WARMUP for raw SQL
    total_hazards: int
    notes: list[str] = field(default_factory=list)


def plan_for(hazards: list[int], seed: int) -> dict[int, list[str]]:
    """Each hazard's steps; the same generator gives ours and raw the same mix."""
    rng = random.Random(seed)
    plan = {}
    for hid in hazards:
        steps = ["submit_rectification"]
        if rng.random() < FAIL_VERIFY:
            steps += ["verify_fail", "submit_rectification"]
        steps.append("verify_pass")
        steps.append("look_back_fail" if rng.random() < FAIL_LOOK_BACK else "look_back_pass")
        plan[hid] = steps
    return plan


def phases(plan: dict[int, list[str]]) -> list[tuple[int, str]]:
    """The schedule: every hazard's first step, then every hazard's second, ..."""
    order = []
    for phase in range(max((len(s) for s in plan.values()), default=0)):
        for hid, steps in plan.items():
            if phase < len(steps):
                order.append((hid, steps[phase]))
    return order


# ---------------------------------------------------------------- the world


def filled_setup(n: int, seed: int) -> Setup:
    from bihuan.accounts.models import User
    from bihuan.hazards.models import Hazard

    total = Hazard.objects.count()
    rows = list(
        Hazard.objects.filter(state="rectifying", clock_paused_since__isnull=True,
                              place__party__user__isnull=False)
        .values_list("id", "area__path", "place__party__user_id")
    )
    by_town: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hid, path, user_id in rows:
        town = path.split("/")[1]
        by_town[town].append((hid, user_id))
    if not by_town:
        raise SystemExit("transitions: no rectifying hazard with a party login; run fill.py")
    # Ours from the town with the most candidates; from the next towns too when each run
    # has used up part of it (a run moves its hazards on to closed).
    need = n + WARMUP
    towns: list[str] = []
    candidates: list[tuple[int, int]] = []
    for town, rows_of_town in sorted(by_town.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(candidates) >= need:
            break
        towns.append(town)
        candidates += rows_of_town
    if len(candidates) < need:
        raise SystemExit(f"transitions: {len(candidates)} candidate hazards, {need} needed; "
                         "lower --hazards or fill more")
    rng = random.Random(seed)
    chosen = rng.sample(sorted(candidates), need)
    # The raw SQL baseline checks no scope: its hazards may come from any town.
    taken = {h for h, _u in chosen}
    others = sorted(c for cs in by_town.values() for c in cs if c[0] not in taken)
    if len(others) < need:
        raise SystemExit(f"transitions: {len(others)} hazards left for the raw baseline, "
                         f"{need} needed; lower --hazards or fill more")
    raw_chosen = rng.sample(others, need)
    users = User.objects.in_bulk({uid for _h, uid in chosen + raw_chosen})
    town_of = {hid: path.split("/")[1] for hid, path, _u in rows}
    wanted = {town_of[h] for h, _u in chosen + raw_chosen}
    officers = {u.username: u for u in User.objects.filter(
        username__in=[f"town_officer_{t}_{i}" for t in wanted for i in (1, 2)])}
    ids = [h for h, _u in chosen]
    raw_ids = [h for h, _u in raw_chosen]
    town = towns[0] if len(towns) == 1 else f"{len(towns)} towns: {', '.join(towns)}"
    return Setup(
        kind="city", town=town,
        verifier_of={h: officers[f"town_officer_{town_of[h]}_1"] for h in ids + raw_ids},
        looker_of={h: officers[f"town_officer_{town_of[h]}_2"] for h in ids + raw_ids},
        party_of={h: users[u] for h, u in chosen + raw_chosen},
        warmup=ids[:WARMUP] + raw_ids[:WARMUP], ours=ids[WARMUP:], raw=raw_ids[WARMUP:],
        total_hazards=total,
        notes=[f"{total:,} hazards in the database; {len(candidates):,} candidates in "
               f"{'town ' + town if len(towns) == 1 else town}; personas each hazard's town's "
               "town_officer_<town>_1 (verifies), _2 (looks back), and its party login "
               "(submits); raw baseline on other rectifying hazards"],
    )


def persona_setup(n: int) -> Setup:
    from bihuan.hazards import services
    from bihuan.testing import build_world, future

    print("transitions: empty database: building the small persona world (smoke test only)")
    world = build_world()
    places = [world.places["baita_rental"], world.places["baita_shop"]]
    ids: list[int] = []
    party_of = {}
    for i in range(2 * n + 2 * WARMUP):
        place = places[i % 2]
        hazard = services.register_hazard(
            actor=world.users["baita_grid_worker"], place=place, description=f"bench {i}",
            requirement="按要求整改", deadline=future(10),
        )
        ids.append(hazard.pk)
        party_of[hazard.pk] = place.party.user
    return Setup(
        kind="personas", town="east (persona world)",
        verifier_of=dict.fromkeys(ids, world.users["east_officer"]),
        looker_of=dict.fromkeys(ids, world.users["east_officer_2"]), party_of=party_of,
        warmup=ids[:2 * WARMUP],
        ours=ids[2 * WARMUP:2 * WARMUP + n], raw=ids[2 * WARMUP + n:], total_hazards=len(ids),
        notes=["persona world of bihuan.testing (NOT the 1M-hazard figure)"],
    )


# ---------------------------------------------------------------- ours: the services


def photo(i: int) -> bytes:
    """A small real JPEG, unique per call (trailing bytes after EOI change its hash)."""
    from bihuan.testing import tiny_jpeg

    return tiny_jpeg(i) + f"bench-{i}-{time.time_ns()}".encode()


class Breakdown:
    """Where a transition's time goes: wraps the steps of the service path.

    Each step's client CPU (``process_time``) and wall time are summed; the
    wrappers cost a few microseconds per call. Used only with ``--breakdown``.
    """

    _missing = object()

    def __init__(self) -> None:
        self.steps: dict[str, list[float]] = {}
        self._patched: list[tuple[Any, str, Any]] = []

    def _wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        self._patched.append((owner, name, owner.__dict__.get(name, self._missing)))
        totals = self.steps.setdefault(label, [0.0, 0.0, 0])

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[0] += time.process_time() - cpu
                totals[1] += time.perf_counter() - wall
                totals[2] += 1

        setattr(owner, name, wrapper)

    def __enter__(self) -> Breakdown:
        from django.db.backends.base.base import BaseDatabaseWrapper

        from bihuan.audit import services as audit
        from bihuan.dashboard import summaries
        from bihuan.hazards import services
        from bihuan.hazards.statements import Batch
        from bihuan.notifications import outbox

        self._wrap(services, "_lock", "lock + reads: one SELECT .. FOR NO KEY UPDATE")
        self._wrap(services, "_validate_evidence", "evidence: decode the photo")
        self._wrap(summaries, "record_hazard_event", "summary hook (bookings)")
        self._wrap(audit, "new_entry", "audit entry (hash)")
        self._wrap(outbox, "enqueue_in", "enqueue (outbox row)")
        self._wrap(services, "_store_evidence", "evidence: file write")
        self._wrap(Batch, "run", "writes: one batch of statements")
        self._wrap(BaseDatabaseWrapper, "commit", "COMMIT (WAL flush)")
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, previous in reversed(self._patched):
            if previous is self._missing:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)

    def print(self, count: int, wall: float, cpu: float) -> dict[str, Any]:
        print(f"  breakdown per transition ({count:,}): wall {wall / count * 1e3:.2f} ms, "
              f"client CPU {cpu / count * 1e3:.2f} ms")
        out: dict[str, Any] = {}
        step_cpu = step_wall = 0.0
        for label, (c, w, calls) in self.steps.items():
            step_cpu += c
            step_wall += w
            out[label] = {"cpu_ms": c / count * 1e3, "wall_ms": w / count * 1e3, "calls": calls}
            print(f"    {label:42} CPU {c / count * 1e3:6.3f} ms  wall {w / count * 1e3:6.3f} ms"
                  f"  ({calls:,} calls)")
        rest_cpu, rest_wall = (cpu - step_cpu) / count * 1e3, (wall - step_wall) / count * 1e3
        out["rest"] = {"cpu_ms": rest_cpu, "wall_ms": rest_wall}
        print(f"    {'rest: validation, Python glue, bench loop':42} CPU {rest_cpu:6.3f} ms  "
              f"wall {rest_wall:6.3f} ms")
        return out


def run_services(setup: Setup, hazards: list[int], seed: int, *, fresh_scope: bool,
                 profile: cProfile.Profile | None = None, count_queries: bool = False
                 ) -> tuple[float, dict[str, list[float]], dict[str, list[int]]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bihuan.accounts.scopes import forget_scope
    from bihuan.core import clock
    from bihuan.hazards import services
    from bihuan.hazards.models import Hazard
    from bihuan.hazards.services import EvidenceFile

    plan = plan_for(hazards, seed)
    schedule = phases(plan)
    versions = dict(Hazard.objects.filter(pk__in=hazards).values_list("id", "version"))
    photos = {hid: photo(n) for n, hid in enumerate(hazards)}
    deadline = clock.today() + dt.timedelta(days=10)
    latencies: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)

    def call(hid: int, action: str) -> None:
        version = versions[hid]
        verifier, looker = setup.verifier_of[hid], setup.looker_of[hid]
        if action == "submit_rectification":
            party = setup.party_of[hid]
            if fresh_scope:
                forget_scope(party)
            services.submit_rectification(
                hid, actor=party, note="已整改",
                evidence=[EvidenceFile(content=photos[hid], name="after.jpg")],
                expected_version=version, client_ip=CLIENT_IP)
        elif action == "verify_pass":
            if fresh_scope:
                forget_scope(verifier)
            services.pass_verification(hid, actor=verifier, expected_version=version,
                                       client_ip=CLIENT_IP)
        elif action == "verify_fail":
            if fresh_scope:
                forget_scope(verifier)
            services.fail_verification(hid, actor=verifier, reason="整改不到位，复查未通过",
                                       deadline=deadline, expected_version=version,
                                       client_ip=CLIENT_IP)
        elif action == "look_back_pass":
            if fresh_scope:
                forget_scope(looker)
            services.pass_look_back(hid, actor=looker, expected_version=version,
                                    client_ip=CLIENT_IP)
        elif action == "look_back_fail":
            if fresh_scope:
                forget_scope(looker)
            services.fail_look_back(hid, actor=looker, reason="回头看发现隐患反弹",
                                    deadline=deadline, expected_version=version,
                                    client_ip=CLIENT_IP)
        versions[hid] = version + 1

    perf = time.perf_counter
    if profile is not None:
        profile.enable()
    cpu_started = time.process_time()
    started = perf()
    for hid, action in schedule:
        t = perf()
        if count_queries:
            with CaptureQueriesContext(connection) as ctx:
                call(hid, action)
            queries[action].append(len(ctx.captured_queries))
            # The services send several statements in one query text (one round trip).
            queries[f"{action} statements"].append(
                sum(q["sql"].count(";\n") + 1 for q in ctx.captured_queries))
        else:
            call(hid, action)
        latencies[action].append(perf() - t)
    wall = perf() - started
    latencies["_cpu"] = [time.process_time() - cpu_started]
    if profile is not None:
        profile.disable()
    return wall, latencies, queries


# ---------------------------------------------------------------- baseline: raw SQL

UPDATES = {
    "submit_rectification":
        "UPDATE hazards_hazard SET state = %s, version = %s, rectification_submitted_by_id = %s "
        "WHERE id = %s",
    "verify_pass":
        "UPDATE hazards_hazard SET state = %s, version = %s, closed_at = %s, closed_by_id = %s "
        "WHERE id = %s",
    "verify_fail":
        "UPDATE hazards_hazard SET state = %s, version = %s, deadline = %s, "
        "rectification_submitted_by_id = NULL WHERE id = %s",
    "look_back_pass":
        "UPDATE hazards_hazard SET state = %s, version = %s, "
        "look_back_count = look_back_count + 1 WHERE id = %s",
    "look_back_fail":
        "UPDATE hazards_hazard SET state = %s, version = %s, deadline = %s, "
        "look_back_count = look_back_count + 1, recurrence_count = recurrence_count + 1, "
        "closed_at = NULL, closed_by_id = NULL, rectification_submitted_by_id = NULL "
        "WHERE id = %s",
}
INSERT_EVENT = (
    "INSERT INTO hazards_hazardevent (hazard_id, seq, action, from_state, to_state, actor_id, "
    "actor_role, at, reason, data, client_ip) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_AUDIT = (
    "INSERT INTO audit_auditentry (stream, seq, at, actor_id, actor_repr, action, object_type, "
    "object_id, data, client_ip, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
MOVES = {
    "submit_rectification": ("rectifying", "pending_verification", "party"),
    "verify_pass": ("pending_verification", "closed", "town_officer"),
    "verify_fail": ("pending_verification", "rectifying", "town_officer"),
    "look_back_pass": ("closed", "closed", "town_officer"),
    "look_back_fail": ("closed", "rectifying", "town_officer"),
}


class _Entry:
    __slots__ = ("action", "actor_id", "actor_repr", "at", "client_ip", "data", "object_id",
                 "object_type", "prev_hash", "seq", "stream")


def run_raw(setup: Setup, hazards: list[int], seed: int, synchronous_commit: str
            ) -> tuple[float, dict[str, list[float]]]:
    import psycopg
    from psycopg.types.json import Jsonb

    from bihuan.audit.services import GENESIS, entry_hash
    from bihuan.core import clock

    plan = plan_for(hazards, seed)
    schedule = phases(plan)
    deadline = clock.today() + dt.timedelta(days=10)
    latencies: dict[str, list[float]] = defaultdict(list)
    with psycopg.connect(psycopg_conninfo(), autocommit=True) as conn:
        conn.execute(f"SET synchronous_commit = {synchronous_commit}")
        state: dict[int, dict[str, Any]] = {}
        rows = conn.execute(
            "SELECT id, version, deadline, look_back_count, recurrence_count "
            "FROM hazards_hazard WHERE id = ANY(%s)", [hazards]).fetchall()
        for hid, version, old_deadline, look_backs, recurrences in rows:
            state[hid] = {"version": version, "deadline": old_deadline,
                          "look_backs": look_backs, "recurrences": recurrences,
                          "seq": 0, "hash": GENESIS}
        streams = {f"hazards.hazard:{h}": h for h in hazards}
        for stream, seq, digest in conn.execute(
            "SELECT DISTINCT ON (stream) stream, seq, hash FROM audit_auditentry "
            "WHERE stream = ANY(%s) ORDER BY stream, seq DESC", [list(streams)]
        ):
            state[streams[stream]].update(seq=seq, hash=digest)
        entry = _Entry()
        entry.object_type = "hazards.hazard"
        perf = time.perf_counter
        cpu_started = time.process_time()
        started = perf()
        for hid, action in schedule:
            t = perf()
            h = state[hid]
            from_state, to_state, role = MOVES[action]
            verifier, looker = setup.verifier_of[hid], setup.looker_of[hid]
            version = h["version"] + 1
            now = dt.datetime.now(dt.UTC)
            reason, data = "", {}
            if action == "submit_rectification":
                actor = setup.party_of[hid]
                reason = "已整改"
                update = (to_state, version, actor.pk, hid)
            elif action == "verify_pass":
                actor = verifier
                update = (to_state, version, now, actor.pk, hid)
            elif action == "verify_fail":
                actor = verifier
                reason = "整改不到位，复查未通过"
                data = {"old_deadline": h["deadline"].isoformat() if h["deadline"] else None,
                        "deadline": deadline.isoformat()}
                h["deadline"] = deadline
                update = (to_state, version, deadline, hid)
            elif action == "look_back_pass":
                actor = looker
                update = (to_state, version, hid)
            else:
                actor = looker
                reason = "回头看发现隐患反弹"
                h["recurrences"] += 1
                data = {"deadline": deadline.isoformat(), "recurrence": h["recurrences"]}
                h["deadline"] = deadline
                update = (to_state, version, deadline, hid)
            audit_data = {"event": version, "from": from_state, "to": to_state, "role": role,
                          "reason": reason, **data}
            stream = f"hazards.hazard:{hid}"
            entry.stream, entry.seq, entry.at = stream, h["seq"] + 1, now
            entry.actor_id, entry.actor_repr = actor.pk, str(actor)
            entry.action, entry.object_id = f"hazard.{action}", str(hid)
            entry.data, entry.client_ip, entry.prev_hash = audit_data, CLIENT_IP, h["hash"]
            digest = entry_hash(entry)  # type: ignore[arg-type]
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(UPDATES[action], update)
                cur.execute(INSERT_EVENT, (hid, version, action, from_state, to_state, actor.pk,
                                           role, now, reason, Jsonb(data), CLIENT_IP))
                cur.execute(INSERT_AUDIT, (stream, entry.seq, now, actor.pk, entry.actor_repr,
                                           entry.action, "hazards.hazard", str(hid),
                                           Jsonb(audit_data), CLIENT_IP, h["hash"], digest))
            h.update(version=version, seq=entry.seq, hash=digest)
            latencies[action].append(perf() - t)
        wall = perf() - started
        latencies["_cpu"] = [time.process_time() - cpu_started]
    return wall, latencies


# ---------------------------------------------------------------- main


def _all(latencies: dict[str, list[float]]) -> list[float]:
    return [x for action, values in latencies.items() if action != "_cpu" for x in values]


def _cpu_ms(latencies: dict[str, list[float]], count: int) -> float:
    """Client (this process) CPU per transition, ms: robust to a busy database server."""
    return sum(latencies.get("_cpu", [0.0])) / max(count, 1) * 1000


def cleanup_tasks(since: dt.datetime, keep: bool) -> int:
    from django_tasks_db.models import DBTaskResult

    tasks = DBTaskResult.objects.filter(
        enqueued_at__gte=since, task_path="bihuan.hazards.tasks.notify_hazard_event"
    )
    count = tasks.count()
    if not keep:
        tasks.delete()
    return count


def bench(n: int, seed: int, *, fresh_scope: bool, profile_path: str | None,
          keep_tasks: bool, skip_raw: bool, synchronous_commit: str = "on",
          breakdown: bool = False, name: str = "transitions") -> list[Row]:
    from django.db import connection

    from bihuan.areas.models import Area
    from bihuan.hazards.models import Hazard

    with connection.cursor() as cursor:
        cursor.execute(f"SET synchronous_commit = {synchronous_commit}")
    probe_before = commit_probe()
    print(f"transitions: commit probe (1-row INSERT+COMMIT, synchronous): "
          f"p50 {probe_before['commit_p50_ms']} ms, p95 {probe_before['commit_p95_ms']} ms",
          flush=True)

    if Hazard.objects.exists():
        setup = filled_setup(n, seed)
    elif not Area.objects.exists():
        setup = persona_setup(n)
    else:
        raise SystemExit("transitions: areas but no hazards; run bench/fill.py first")
    for note in setup.notes:
        print(f"transitions: {note}")
    started_at = dt.datetime.now(dt.UTC)

    print(f"transitions: warm-up on {WARMUP} hazards (queries counted)", flush=True)
    _w, _l, queries = run_services(setup, setup.warmup[:WARMUP], seed + 1,
                                   fresh_scope=fresh_scope, count_queries=True)
    modes = {a: max(set(q), key=q.count) for a, q in queries.items()}
    per_action_queries = {a: q for a, q in modes.items() if not a.endswith(" statements")}
    per_action_statements = {a: modes[f"{a} statements"] for a in per_action_queries}
    print("  SQL round trips (statements) per transition: " + ", ".join(
        f"{a} {q} ({per_action_statements[a]})" for a, q in sorted(per_action_queries.items())),
        flush=True)

    # CPU timer: wall time would charge the waits on the server to whatever was running.
    profile = cProfile.Profile(time.process_time) if profile_path else None
    print(f"transitions: services, {len(setup.ours)} hazards ...", flush=True)
    steps: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        measure = stack.enter_context(Breakdown()) if breakdown else None
        wall, lat, _q = run_services(setup, setup.ours, seed, fresh_scope=fresh_scope,
                                     profile=profile)
    ours_all = _all(lat)
    ours_rate = len(ours_all) / wall
    ours_cpu = _cpu_ms(lat, len(ours_all))
    if measure is not None:
        steps = measure.print(len(ours_all), wall, lat["_cpu"][0])
    print(f"  {len(ours_all):,} transitions in {wall:.2f} s: {ours_rate:,.0f}/s; client CPU "
          f"{ours_cpu:.2f} ms per transition", flush=True)

    raw_rate = raw_p50 = raw_p95 = raw_cpu = None
    raw_lat: dict[str, list[float]] = {}
    if not skip_raw:
        run_raw(setup, setup.warmup[WARMUP:], seed + 2, synchronous_commit)  # warm-up
        print(f"transitions: raw SQL baseline, {len(setup.raw)} hazards ...", flush=True)
        raw_wall, raw_lat = run_raw(setup, setup.raw, seed, synchronous_commit)
        raw_all = _all(raw_lat)
        raw_rate = len(raw_all) / raw_wall
        raw_p50 = percentile(raw_all, 50) * 1000
        raw_p95 = percentile(raw_all, 95) * 1000
        raw_cpu = _cpu_ms(raw_lat, len(raw_all))
        print(f"  {len(raw_all):,} transitions in {raw_wall:.2f} s: {raw_rate:,.0f}/s; client "
              f"CPU {raw_cpu:.2f} ms per transition", flush=True)
    tasks = cleanup_tasks(started_at, keep_tasks)
    probe_after = commit_probe()

    if profile is not None and profile_path:
        profile.dump_stats(profile_path)
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(r"bihuan|django/db|psycopg|django_tasks", 35)
        stats.sort_stats("tottime").print_stats(20)
        print(out.getvalue())

    scope = "fresh scope per call" if fresh_scope else "actor's scope cached"
    rows = [
        Row("loop transitions, services (1 client)", ours_rate, "tr/s", baseline=raw_rate,
            target_min=500.0),
        Row("loop transitions, services vs raw SQL", ours_rate, "tr/s", baseline=raw_rate,
            target_ratio=0.2),
        Row("latency per transition p50", percentile(ours_all, 50) * 1000, "ms",
            baseline=raw_p50),
        Row("latency per transition p95", percentile(ours_all, 95) * 1000, "ms",
            baseline=raw_p95),
        Row("client CPU per transition", ours_cpu, "ms", baseline=raw_cpu),
    ]
    for action in ("submit_rectification", "verify_pass", "verify_fail", "look_back_pass",
                   "look_back_fail"):
        if lat.get(action):
            raw_values = raw_lat.get(action) or []
            rows.append(Row(
                f"  p50 {action} (n={len(lat[action])}, {per_action_queries.get(action)} SQL)",
                percentile(lat[action], 50) * 1000, "ms",
                baseline=percentile(raw_values, 50) * 1000 if raw_values else None))
    notes = [
        f"world: {setup.kind}; {setup.total_hazards:,} hazards; town {setup.town}",
        "ours: bihuan.hazards.services with BIHUAN_NOTIFY=True (outbox enqueue of "
        f"notify_hazard_event in the transition's transaction: {tasks:,} task rows, "
        f"{'kept' if keep_tasks else 'deleted after the run'}); submit_rectification stores "
        f"one after-photo (temp MEDIA_ROOT); {scope}",
        "baseline: raw UPDATE hazard + INSERT event + INSERT audit entry, one transaction "
        "each, plain psycopg (server-side binding, auto-prepare), same database",
        f"synchronous_commit={synchronous_commit}; commit probe p50/p95 before "
        f"{probe_before['commit_p50_ms']}/{probe_before['commit_p95_ms']} ms, after "
        f"{probe_after['commit_p50_ms']}/{probe_after['commit_p95_ms']} ms",
    ]
    if synchronous_commit != "on":
        notes.append("DIAGNOSTIC run (no WAL flush wait): not the production figure")
    # The raw path writes around the application, dashboard hooks included.
    notes.append("the raw baseline's hazards moved without the dashboard's hooks: the "
                 "summary tables now differ from the raw records for them until "
                 "`bihuan metrics rebuild` (run.py runs this bench after those that read them)")
    print("transitions: NOTE the raw baseline bypassed the dashboard summaries; run "
          "`bihuan metrics rebuild` before benchmarks or checks that read them", flush=True)
    if synchronous_commit != "on":
        name += "-async-diagnostic"
    report(rows, name, notes=notes, extra={
        "hazards": n, "seed": seed, "world": setup.kind, "town": setup.town,
        "fresh_scope": fresh_scope, "queries_per_action": per_action_queries,
        "statements_per_action": per_action_statements,
        "ours_wall_s": wall, "ours_transitions": len(ours_all),
        "raw_transitions": len(_all(raw_lat)),
        "tasks_enqueued": tasks, "synchronous_commit": synchronous_commit,
        "commit_probe_before": probe_before, "commit_probe_after": probe_after,
        "breakdown": steps,
    })
    return rows


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hazards", type=int, default=3000,
                        help="hazards whose loops are run (and as many for the baseline)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh-scope", action="store_true",
                        help="recompute the actor's scope on every call, as a new request does")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile (client CPU time) the service run into FILE")
    parser.add_argument("--name", default="transitions",
                        help="results file: bench/results/NAME.json (default: transitions)")
    parser.add_argument("--breakdown", action="store_true",
                        help="time each step of the service path (CPU and wall per transition)")
    parser.add_argument("--keep-tasks", action="store_true",
                        help="keep the enqueued notification tasks (default: delete them)")
    parser.add_argument("--skip-raw", action="store_true", help="no raw SQL baseline")
    parser.add_argument("--synchronous-commit", choices=["on", "off"], default="on",
                        help="diagnostic: 'off' takes the WAL flush out of both paths")
    args = parser.parse_args(argv)
    setup_django()
    from django.test.utils import override_settings

    media = tempfile.mkdtemp(prefix="bihuan-bench-media-")
    try:
        # Production notifies: the outbox enqueue is part of every transition.
        with override_settings(MEDIA_ROOT=media, BIHUAN_NOTIFY=True):
            return bench(args.hazards, args.seed, fresh_scope=args.fresh_scope,
                         profile_path=args.profile, keep_tasks=args.keep_tasks,
                         skip_raw=args.skip_raw,
                         synchronous_commit=args.synchronous_commit,
                         breakdown=args.breakdown, name=args.name)
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
