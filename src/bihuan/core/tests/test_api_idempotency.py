"""The same inspection POSTed five times, in a row and at once, is one inspection."""

from __future__ import annotations

import base64
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from bihuan.audit.models import AuditEntry
from bihuan.core.models import IdempotencyKey
from bihuan.hazards.models import Evidence, Hazard
from bihuan.inspections.choices import InspectionKind
from bihuan.inspections.models import Inspection
from bihuan.testing import build_world, future, tiny_jpeg


def _body(world) -> dict:
    place = world.places["baita_rental"]
    checklist = world.checklist_for(place)
    item = next(i for i in checklist.items.order_by("order") if i.severity == "general")
    return {
        "place": place.pk, "kind": InspectionKind.GRID_PATROL, "checklist": checklist.pk,
        "results": {item.code: "fail"},
        "findings": [{"item_code": item.code, "description": "楼道堆放杂物",
                      "deadline": str(future(10)),
                      "photos": [{"content": base64.b64encode(tiny_jpeg(3)).decode(),
                                  "kind": "before"}]}],
        "client_key": str(uuid.uuid4()),
    }


def _footprint() -> tuple[int, int, int, int]:
    return (Inspection.objects.count(), Hazard.objects.count(), Evidence.objects.count(),
            AuditEntry.objects.count())


@pytest.mark.django_db
def test_five_retries_with_one_key_give_one_inspection(world):
    client = Client()
    client.force_login(world.users["baita_grid_worker"])
    body = _body(world)
    responses = [client.post("/api/inspections/", body, content_type="application/json",
                             HTTP_IDEMPOTENCY_KEY="visit-42") for _ in range(5)]
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.content for r in responses}) == 1
    assert [r.has_header("Idempotent-Replayed") for r in responses] == [False] + [True] * 4
    assert _footprint()[:3] == (1, 1, 1)
    # The field app's own client_key is a second line: without the header, a retry
    # finds the first inspection (200) and writes nothing.
    audit = AuditEntry.objects.count()
    again = client.post("/api/inspections/", body, content_type="application/json")
    assert again.status_code == 200
    assert again.json()["id"] == responses[0].json()["id"]
    assert _footprint() == (1, 1, 1, audit)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_concurrent_posts_with_one_key_give_one_inspection():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite's test database is in memory)")
    world = build_world()
    body = _body(world)
    user = world.users["baita_grid_worker"]
    barrier = threading.Barrier(5)
    results: list[tuple[int, bytes, bool]] = []
    errors: list[BaseException] = []

    # Logged in here, one after the other: the threads only send the POSTs.
    clients = []
    for _ in range(10):
        client = Client()
        client.force_login(user)
        clients.append(client)

    def post(key: str | None) -> None:
        try:
            client = clients.pop()
            extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
            barrier.wait(timeout=30)
            response = client.post("/api/inspections/", body,
                                   content_type="application/json", **extra)
            results.append((response.status_code, response.content,
                            response.has_header("Idempotent-Replayed")))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=("visit-7",)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert [status for status, _c, _r in results] == [201] * 5
    assert len({content for _s, content, _r in results}) == 1
    assert sum(1 for _s, _c, replayed in results if not replayed) == 1
    assert _footprint()[:3] == (1, 1, 1)
    assert IdempotencyKey.objects.filter(key="visit-7").count() == 1

    # Five at once without the header, same client_key: still one inspection.
    body["client_key"] = str(uuid.uuid4())
    barrier.reset()
    results.clear()
    threads = [threading.Thread(target=post, args=(None,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(status for status, _c, _r in results)[0] in (200, 201)
    assert {status for status, _c, _r in results} <= {200, 201}
    assert Inspection.objects.filter(client_key=body["client_key"]).count() == 1
    assert _footprint()[:2] == (2, 2)
