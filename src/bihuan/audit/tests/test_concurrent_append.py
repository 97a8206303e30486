"""Writers of one unlocked stream (two logins of one user) race for the next sequence.

On PostgreSQL, each writer in its own thread and connection; a barrier releases
them together inside their transactions. Every append must land, in one unbroken
chain, and `verify` must find nothing.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from bihuan.audit import services as audit
from bihuan.audit.models import AuditEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

WRITERS = 4
ROUNDS = 3


def test_racing_appends_to_one_stream_all_land_in_one_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's concurrent writers")
    errors: list[BaseException] = []
    for round_ in range(ROUNDS):
        barrier = threading.Barrier(WRITERS)

        def write(n: int, round_: int = round_, barrier: threading.Barrier = barrier) -> None:
            try:
                with transaction.atomic():
                    barrier.wait(timeout=10)
                    audit.record("auth.login", actor=None, stream="auth.user:race",
                                 data={"writer": n, "round": round_})
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    seqs = list(AuditEntry.objects.filter(stream="auth.user:race")
                .order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * ROUNDS + 1))
    assert list(audit.verify()) == []
