"""Writing and verifying the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from bihuan.audit.models import AuditEntry
from bihuan.core import clock

GENESIS = "0" * 64


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "stream": entry.stream,
        "seq": entry.seq,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_repr": entry.actor_repr,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "data": entry.data,
        "client_ip": entry.client_ip,
        "prev": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def stream_for(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def record(
    action: str,
    *,
    actor: Any | None,
    obj: models.Model | None = None,
    stream: str | None = None,
    data: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditEntry:
    """Append one entry to ``stream`` (by default the object's own stream).

    Must run inside the caller's transaction so the entry commits or rolls back
    with the change it describes. Writers of one stream are serialised by the
    caller's row lock on the object (and, failing that, by the unique
    ``(stream, seq)`` constraint).
    """
    if stream is None:
        stream = stream_for(obj) if obj is not None else "system"
    last = (
        AuditEntry.objects.filter(stream=stream).order_by("-seq").values("seq", "hash").first()
    )
    entry = AuditEntry(
        stream=stream,
        seq=(last["seq"] + 1) if last else 1,
        at=clock.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=str(actor) if actor is not None else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=json.loads(json.dumps(data or {}, default=str)),
        client_ip=client_ip,
        prev_hash=last["hash"] if last else GENESIS,
    )
    entry.hash = entry_hash(entry)
    entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class AuditProblem:
    stream: str
    seq: int
    entry_id: int | None
    problem: str


def verify(batch_size: int = 5000) -> Iterator[AuditProblem]:
    """Re-hash every entry and walk each stream's chain; yield every break found."""
    heads: dict[str, tuple[int, str]] = {}
    queryset = AuditEntry.objects.order_by("stream", "seq").iterator(chunk_size=batch_size)
    with transaction.atomic():
        for entry in queryset:
            expected_seq, expected_prev = heads.get(entry.stream, (1, GENESIS))
            if entry.seq != expected_seq:
                yield AuditProblem(entry.stream, entry.seq, entry.pk,
                                   f"sequence gap or reorder: expected {expected_seq}")
            if entry.prev_hash != expected_prev:
                yield AuditProblem(entry.stream, entry.seq, entry.pk, "broken chain link")
            if entry_hash(entry) != entry.hash:
                yield AuditProblem(entry.stream, entry.seq, entry.pk, "content changed")
            heads[entry.stream] = (entry.seq + 1, entry.hash)
