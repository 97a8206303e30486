"""Two verifiers close the same hazard at the same moment, on PostgreSQL.

Each verifier runs in its own thread with its own database connection; a
barrier releases both right before ``pass_verification``. The hazard's row
lock must let exactly one through: the other gets a conflict (it read an older
version) or "not possible in this state" (it did not say which version it read),
and the history shows one closing event and one audit entry.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, connections

from bihuan.accounts.models import User
from bihuan.audit import services as audit
from bihuan.audit.models import AuditEntry
from bihuan.core.errors import Conflict, TransitionNotAllowed
from bihuan.hazards import services
from bihuan.hazards.choices import HazardAction, HazardState
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.testing import World, after_photo, before_photo, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

VERIFIERS = ("east_officer", "commander")
ROUNDS = 5
# The winner holds the row lock this long, so the other verifier is surely queued on it.
HOLD_SECONDS = 0.2


@pytest.fixture
def pg_world(transactional_db: None) -> World:
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL: set DATABASE_URL=postgres://...")
    return build_world()


def _pending_hazards(world: World, n: int) -> list[Hazard]:
    """``n`` hazards at the landlord's place, rectified by the landlord, awaiting verification."""
    place = world.places["baita_rental"]
    items = [i for i in world.checklist_for(place).items.order_by("order")
             if i.severity == "general"]
    hazards = []
    for k in range(n):
        hazard = services.register_hazard(
            actor=world.users["baita_grid_worker"], place=place, item=items[k % len(items)],
            description="", evidence=[before_photo(k)],
        )
        hazard = services.submit_rectification(hazard, actor=world.users["landlord"],
                                               evidence=[after_photo(k)])
        assert hazard.state == HazardState.PENDING_VERIFICATION
        hazards.append(hazard)
    return hazards


@dataclass
class Attempt:
    persona: str
    result: Any = None
    error: BaseException | None = None
    started: float = 0.0
    ended: float = 0.0


def _race(world: World, hazard_id: int, call: Callable[..., Any]) -> list[Attempt]:
    """Run ``call(hazard_id, actor=...)`` for both verifiers at once, each on its own
    connection."""
    barrier = threading.Barrier(len(VERIFIERS), timeout=20)
    attempts = [Attempt(persona) for persona in VERIFIERS]

    def run(attempt: Attempt) -> None:
        try:
            # Opens this thread's own connection before the start signal.
            actor = User.objects.get(pk=world.users[attempt.persona].pk)
            barrier.wait()
            attempt.started = time.monotonic()
            try:
                attempt.result = call(hazard_id, actor=actor)
            except Exception as exc:  # the outcome under test
                attempt.error = exc
            attempt.ended = time.monotonic()
        except BaseException as exc:  # a broken barrier or a failed lookup
            attempt.error = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,), name=a.persona) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a verifier is stuck"
    return attempts


@pytest.fixture
def slow_winner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the lock holder inside its transaction a little longer.

    Only the verifier holding the row lock reaches the verifier check; the other
    is waiting in ``_lock`` (or has already been refused), so this widens the
    window in which both are inside ``pass_verification`` at once.
    """
    original = services._check_verifier

    def check_slowly(step: Any) -> None:
        time.sleep(HOLD_SECONDS)
        original(step)

    monkeypatch.setattr(services, "_check_verifier", check_slowly)


def _check_one_winner(
    world: World, hazard: Hazard, attempts: list[Attempt], loser_error: type[Exception]
) -> tuple[Attempt, Attempt]:
    winners = [a for a in attempts if a.error is None]
    losers = [a for a in attempts if a.error is not None]
    assert len(winners) == 1 and len(losers) == 1, [(a.persona, a.error) for a in attempts]
    winner, loser = winners[0], losers[0]
    assert isinstance(loser.error, loser_error), repr(loser.error)
    assert str(loser.error).strip(), "the refusal must say why"
    # They really ran at the same time: the loser started before the winner was done.
    assert loser.started < winner.ended

    fresh = Hazard.objects.get(pk=hazard.pk)
    assert fresh.state == HazardState.CLOSED
    assert fresh.version == hazard.version + 1
    assert fresh.closed_by_id == world.users[winner.persona].pk
    events = HazardEvent.objects.filter(hazard=hazard, action=HazardAction.VERIFY_PASS)
    assert [(e.seq, e.actor_id) for e in events] == [
        (fresh.version, world.users[winner.persona].pk)
    ]
    assert HazardEvent.objects.filter(hazard=hazard).count() == fresh.version
    entries = AuditEntry.objects.filter(object_type="hazards.hazard", object_id=str(hazard.pk),
                                        action=f"hazard.{HazardAction.VERIFY_PASS}")
    assert [(e.actor_id, e.data["event"]) for e in entries] == [
        (world.users[winner.persona].pk, fresh.version)
    ]
    return winner, loser


@pytest.mark.usefixtures("slow_winner")
def test_two_verifiers_with_the_version_they_read_one_wins_one_conflicts(
    pg_world: World,
) -> None:
    for hazard in _pending_hazards(pg_world, ROUNDS):
        read_version = Hazard.objects.get(pk=hazard.pk).version
        attempts = _race(
            pg_world, hazard.pk,
            functools.partial(services.pass_verification, expected_version=read_version,
                              note="复查合格"),
        )
        _winner, loser = _check_one_winner(pg_world, hazard, attempts, Conflict)
        assert isinstance(loser.error, Conflict)
        assert loser.error.code == "conflict"
        assert str(loser.error) == str(Conflict.default_message)
    assert not list(audit.verify()), "the audit chain must stay intact"


@pytest.mark.usefixtures("slow_winner")
def test_two_verifiers_without_a_version_one_wins_one_is_refused(pg_world: World) -> None:
    for hazard in _pending_hazards(pg_world, ROUNDS):
        attempts = _race(
            pg_world, hazard.pk,
            functools.partial(services.pass_verification, note="复查合格"),
        )
        _winner, loser = _check_one_winner(pg_world, hazard, attempts, TransitionNotAllowed)
        assert isinstance(loser.error, TransitionNotAllowed)
        assert loser.error.code == "transition_not_allowed"
    assert not list(audit.verify()), "the audit chain must stay intact"


def test_an_unhindered_race_still_has_exactly_one_winner(pg_world: World) -> None:
    """The same race at full speed, without holding the lock longer."""
    for hazard in _pending_hazards(pg_world, ROUNDS):
        attempts = _race(
            pg_world, hazard.pk,
            functools.partial(services.pass_verification, expected_version=hazard.version),
        )
        winners = [a for a in attempts if a.error is None]
        losers = [a for a in attempts if a.error is not None]
        assert len(winners) == 1 and len(losers) == 1, [(a.persona, a.error) for a in attempts]
        assert isinstance(losers[0].error, Conflict), repr(losers[0].error)
        fresh = Hazard.objects.get(pk=hazard.pk)
        assert fresh.version == hazard.version + 1
        assert HazardEvent.objects.filter(hazard=hazard,
                                          action=HazardAction.VERIFY_PASS).count() == 1


def test_a_transitions_row_lock_leaves_references_to_the_hazard_free(
    pg_world: World, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lock is FOR NO KEY UPDATE: the transition changes no key, so rows that
    refer to the hazard (foreign-key checks take FOR KEY SHARE: another hazard's
    event, the summaries' rebuild at its commit) are not held up by it. Under FOR
    UPDATE the rebuild's commit and a transition waiting for the summary tables
    deadlocked, and the rebuild lost all its work."""
    from django.db import OperationalError

    (hazard,) = _pending_hazards(pg_world, 1)
    locked, release = threading.Event(), threading.Event()
    original = services._check_verifier

    def hold(step: Any) -> None:  # inside the transition, with the row lock
        locked.set()
        release.wait(20)
        original(step)

    monkeypatch.setattr(services, "_check_verifier", hold)
    outcome: dict[str, Any] = {}

    def verify() -> None:
        try:
            actor = User.objects.get(pk=pg_world.users["east_officer"].pk)
            outcome["hazard"] = services.pass_verification(hazard.pk, actor=actor)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=verify)
    thread.start()
    try:
        assert locked.wait(20), "the transition did not reach its lock"
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
            try:
                # What a foreign-key check on a row referring to the hazard does.
                cursor.execute("SELECT 1 FROM hazards_hazard WHERE id = %s FOR KEY SHARE",
                               [hazard.pk])
                assert cursor.fetchall() == [(1,)]
            except OperationalError as error:
                pytest.fail(f"the transition's lock blocks references to the hazard: {error}")
            finally:
                cursor.execute("RESET lock_timeout")
    finally:
        release.set()
        thread.join(30)
    assert "error" not in outcome, outcome
    assert Hazard.objects.get(pk=hazard.pk).state == HazardState.CLOSED
    # Two transitions of one hazard still queue on the lock (FOR NO KEY UPDATE
    # conflicts with itself): the race tests above.
