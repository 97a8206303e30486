"""Idempotency keys: a retried POST gets the first answer and writes nothing new.

A client (a field app on a bad network, another system) sends a unique
``Idempotency-Key`` header with a POST. The first request with that key claims
it — an INSERT under a unique constraint, inside the same transaction as the
request's own writes — and its answer is stored with the claim. A retry finds
the stored answer and gets it back byte for byte, with ``Idempotent-Replayed:
true``. A concurrent duplicate blocks on the unique index until the first
transaction ends (PostgreSQL; SQLite serialises writers at BEGIN), then reads
the stored answer. The same key with a different request is refused (422).
Server errors are not stored: the claim rolls back with the request.

Keys are per owner (the API token, else the user, else the anonymous client's
keyed address hash) and expire after ``BIHUAN_IDEMPOTENCY_HOURS`` (24).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from bihuan.core import clock
from bihuan.core.errors import DomainError, ValidationFailed
from bihuan.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Expired keys are purged by a claim now and then rather than by a scheduled job.
PURGE_CHANCE = 0.01


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    default_message = _(
        "This idempotency key was already used for a different request. "
        "Use a new key for a new request."
    )
    http_status = 422


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "BIHUAN_IDEMPOTENCY_HOURS", 24)))


def key_from(request: HttpRequest) -> str | None:
    """The request's key, or None; a malformed one is refused (nothing written)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            _("The Idempotency-Key header must be 1 to 255 printable characters."),
            field=HEADER,
        )
    return key


def owner_of(request: Any) -> str:
    """Whose key space: the token, else the logged-in user, else the client address."""
    token = getattr(request, "auth", None)
    token_id = getattr(token, "pk", None)
    if token_id is not None and type(token).__name__ == "ApiToken":
        return f"token:{token_id}"
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    key = f"bihuan.idempotency.anon:{settings.SECRET_KEY}".encode()
    address = request.META.get("REMOTE_ADDR") or "unknown"
    return "anon:" + hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:40]


def fingerprint(request: Any) -> str:
    """A hash of what the request asks for: method, path, query and body.

    A multipart body is hashed by its fields and the digests of its files, not its
    bytes: a retry is sent with a new random boundary and must still match.
    """
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n"
                  .encode())
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data"):
        fields = sorted((k, v) for k in request.POST for v in request.POST.getlist(k))
        files = []
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                h = hashlib.sha256()
                for chunk in upload.chunks():
                    h.update(chunk)
                upload.seek(0)
                files.append((name, h.hexdigest()))
        digest.update(json.dumps([fields, files], ensure_ascii=False).encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


@dataclass
class Claim:
    """The right to answer a key: held until the request's transaction ends."""

    row: IdempotencyKey | None
    replay: HttpResponse | None = None


def claim(request: Any, key: str, *, request_hash: str | None = None) -> Claim:
    """Claim ``key`` for this request, or find the stored answer of the first one.

    Must run inside the transaction that will also hold the request's writes.
    """
    owner = owner_of(request)
    request_hash = request_hash or fingerprint(request)
    now = clock.now()
    path = request.path[:500]
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    owner=owner, key=key, method=request.method, path=path,
                    request_hash=request_hash, status_code=0, content_type="",
                    response_body=b"", created_at=now,
                )
            if random.random() < PURGE_CHANCE:
                purge_expired(limit=100)
            return Claim(row=row)
        except IntegrityError:
            # Another request holds (or held) this key. On PostgreSQL the INSERT above
            # waited for its transaction to end, so its answer is committed now.
            pass
        existing = IdempotencyKey.objects.filter(owner=owner, key=key).first()
        if existing is None:
            continue  # it rolled back (a server error): claim the key afresh
        if existing.created_at <= now - lifetime():
            existing.delete()
            continue
        if (existing.method, existing.path, existing.request_hash) != (
            request.method, path, request_hash
        ):
            raise IdempotencyKeyReused()
        return Claim(row=None, replay=replay_of(existing))
    raise IdempotencyKeyReused()


def replay_of(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.response_body), status=row.status_code,
                            content_type=row.content_type or "application/json")
    response[REPLAYED_HEADER] = "true"
    return response


def store(held: Claim, response: HttpResponse) -> None:
    """Keep the answer with the claim; a server error is not kept (the caller rolls
    the transaction back, and a retry runs afresh)."""
    if held.row is None:
        return
    row = held.row
    row.status_code = response.status_code
    row.content_type = response.get("Content-Type", "")[:100]
    row.response_body = bytes(response.content)
    row.save(update_fields=["status_code", "content_type", "response_body"])


def purge_expired(limit: int = 1000) -> int:
    """Delete up to ``limit`` expired keys (called now and then, never in a hot path)."""
    cutoff = clock.now() - lifetime()
    ids = list(IdempotencyKey.objects.filter(created_at__lt=cutoff)
               .values_list("pk", flat=True)[:limit])
    return IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
