"""Writing and verifying the audit trail."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction

from bihuan.audit.models import AuditCheckpoint, AuditEntry
from bihuan.core import clock

GENESIS = "0" * 64


# The fields of an entry that its hash covers, in the order ``_canonical_row`` takes them.
HASHED_FIELDS = ("stream", "seq", "at", "actor_id", "actor_repr", "action", "object_type",
                 "object_id", "data", "client_ip", "prev_hash")


def _canonical_row(stream: str, seq: int, at: dt.datetime, actor_id: int | None,
                   actor_repr: str, action: str, object_type: str, object_id: str,
                   data: Any, client_ip: str | None, prev_hash: str) -> bytes:
    payload = {
        "stream": stream,
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor_id,
        "actor_repr": actor_repr,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
        "client_ip": client_ip,
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode()


def _canonical(entry: AuditEntry) -> bytes:
    return _canonical_row(*(getattr(entry, name) for name in HASHED_FIELDS))


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def stream_for(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def head_statement(stream: str) -> tuple[str, list[Any]]:
    """The query of :func:`stream_head`, for a caller that sends it with others."""
    return _head_sql(), [stream, stream]


@functools.cache
def _head_sql() -> str:
    from django.db import connection

    entries = connection.ops.quote_name(AuditEntry._meta.db_table)
    checkpoints = connection.ops.quote_name(AuditCheckpoint._meta.db_table)
    return (
        "SELECT seq, hash FROM ("  # noqa: S608 (table names, not input)
        f"SELECT * FROM (SELECT seq, hash, 0 AS src FROM {entries} WHERE stream = %s "
        "ORDER BY seq DESC LIMIT 1) AS e "
        f"UNION ALL SELECT seq, hash, 1 AS src FROM {checkpoints} WHERE stream = %s"
        ") AS heads ORDER BY src LIMIT 1"
    )


def head_from(rows: list[tuple[Any, ...]]) -> tuple[int, str]:
    """(last sequence, last hash) from the rows of :func:`head_statement`."""
    if rows:  # with no entry left, the chain resumes after the checkpoint
        return int(rows[0][0]), str(rows[0][1])
    return 0, GENESIS


def stream_head(stream: str) -> tuple[int, str]:
    """(last sequence, last hash) of ``stream``: its newest entry, else its purge checkpoint."""
    from django.db import connection

    # One round trip on every append (most streams are new: an entry, else a checkpoint).
    with connection.cursor() as cursor:
        cursor.execute(*head_statement(stream))
        return head_from(cursor.fetchall())


def new_entry(
    action: str,
    *,
    actor: Any | None,
    head: tuple[int, str],
    obj: models.Model | None = None,
    stream: str | None = None,
    data: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditEntry:
    """The next entry of ``stream`` after ``head``, hashed, not yet saved."""
    if stream is None:
        stream = stream_for(obj) if obj is not None else "system"
    seq, prev = head
    entry = AuditEntry(
        stream=stream,
        seq=seq + 1,
        at=clock.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=str(actor) if actor is not None else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=json.loads(json.dumps(data or {}, default=str)),
        client_ip=client_ip,
        prev_hash=prev,
    )
    entry.hash = entry_hash(entry)
    return entry


def record(
    action: str,
    *,
    actor: Any | None,
    obj: models.Model | None = None,
    stream: str | None = None,
    data: dict[str, Any] | None = None,
    client_ip: str | None = None,
    locked: bool = False,
) -> AuditEntry:
    """Append one entry to ``stream`` (by default the object's own stream).

    Must run inside the caller's transaction so the entry commits or rolls back
    with the change it describes. ``locked``: the caller holds a row lock that
    serialises every writer of this stream (a hazard's transitions), so the append
    needs no savepoint. Otherwise two writers may race for the same sequence number
    (two logins of one user): the loser's INSERT fails on the unique ``(stream, seq)``
    inside a savepoint and it appends again after the winner.
    """
    if stream is None:
        stream = stream_for(obj) if obj is not None else "system"
    attempts = 1 if locked else 8
    for attempt in range(attempts):
        entry = new_entry(action, actor=actor, head=stream_head(stream), obj=obj, stream=stream,
                          data=data, client_ip=client_ip)
        if locked:
            entry.save(force_insert=True)
            return entry
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
            return entry
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class AuditProblem:
    stream: str
    seq: int
    entry_id: int | None
    problem: str


def verify(batch_size: int = 5000) -> Iterator[AuditProblem]:
    """Re-hash every entry and walk each stream's chain; yield every break found."""
    # A purged stream resumes at its checkpoint (the last purged entry), not at genesis.
    heads: dict[str, tuple[int, str]] = {
        c.stream: (c.seq + 1, c.hash) for c in AuditCheckpoint.objects.all()
    }
    # Plain rows, not model instances: millions of entries are read, and building a
    # model per row cost more than hashing it.
    rows = (
        AuditEntry.objects.order_by("stream", "seq")
        .values_list("pk", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=batch_size)
    )
    sha256 = hashlib.sha256
    current: str | None = None
    expected_seq, expected_prev = 1, GENESIS
    with transaction.atomic():
        for pk, stored_hash, *hashed in rows:
            stream, seq, prev_hash = hashed[0], hashed[1], hashed[-1]
            if stream != current:  # rows come stream by stream: one head in memory
                current = stream
                expected_seq, expected_prev = heads.get(stream, (1, GENESIS))
            if seq != expected_seq:
                yield AuditProblem(stream, seq, pk,
                                   f"sequence gap or reorder: expected {expected_seq}")
            if prev_hash != expected_prev:
                yield AuditProblem(stream, seq, pk, "broken chain link")
            if sha256(_canonical_row(*hashed)).hexdigest() != stored_hash:
                yield AuditProblem(stream, seq, pk, "content changed")
            expected_seq, expected_prev = seq + 1, stored_hash


def retention_days() -> int:
    """How long entries are kept: the setting, but never less than 180 days (level 3)."""
    from django.conf import settings

    return max(MIN_RETENTION_DAYS, int(getattr(settings, "BIHUAN_AUDIT_RETENTION_DAYS",
                                               MIN_RETENTION_DAYS)))


MIN_RETENTION_DAYS = 180


@transaction.atomic
def purge(before: dt.datetime) -> int:
    """Delete entries older than ``before``; refuse anything inside the retention period.

    Each purged stream gets a checkpoint (its last purged entry's sequence and hash), so
    ``verify`` still walks the remaining chain. Returns the number of entries deleted.
    """
    from django.db import connection

    from bihuan.core.errors import ValidationFailed

    limit = clock.now() - dt.timedelta(days=retention_days())
    if before > limit:
        raise ValidationFailed(
            f"Audit entries are kept at least {retention_days()} days: "
            f"purge only before {limit.date().isoformat()}."
        )
    old = AuditEntry.objects.filter(at__lt=before)
    lasts = (old.values("stream").annotate(last=models.Max("seq")))
    for row in lasts:
        last = AuditEntry.objects.get(stream=row["stream"], seq=row["last"])
        # Only a whole prefix of a stream may go: never leave an older entry behind.
        if AuditEntry.objects.filter(stream=last.stream, seq__lt=last.seq,
                                     at__gte=before).exists():
            raise ValidationFailed(f"stream {last.stream} is out of order; verify it first")
        AuditCheckpoint.objects.update_or_create(
            stream=last.stream,
            defaults={"seq": last.seq, "hash": last.hash, "purged_at": clock.now()},
        )
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL bihuan.audit_purge = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE at < %s", [before])  # noqa: S608
        deleted = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL bihuan.audit_purge = 'off'")
    record("audit.purge", actor=None, stream="audit", data={
        "before": before.isoformat(), "deleted": deleted, "streams": len(lasts)})
    return int(deleted)
