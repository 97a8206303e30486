"""Sending the outbox: claim a due delivery, send it, record the outcome.

Two workers never send the same row at once: a worker claims a row with a
conditional UPDATE (``WHERE status = <seen> AND attempts = <seen>``) and sends
only if exactly one row changed (healthchecks' way). The claim is a lease
(``next_attempt_at`` moves to now + lease): a worker that dies while sending
leaves the row to be claimed again when the lease ends, so a notice is never
lost; in that one case it may arrive twice (at-least-once), which the
``X-Bihuan-Delivery`` id lets a webhook receiver recognise.

A failure is retried with exponential back-off and jitter until the maximum
number of attempts; then the row is ``failed`` and stays in the delivery log
for an administrator to see and send again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F, Q

from bihuan.core import clock
from bihuan.notifications import conf
from bihuan.notifications.choices import Channel, DeliveryStatus
from bihuan.notifications.models import Delivery
from bihuan.notifications.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)

logger = logging.getLogger(__name__)

# How long a claim lasts: longer than any send (the HTTP and SMTP timeouts).
LEASE = dt.timedelta(minutes=5)
MAX_ERROR_CHARS = 1000


class DeliveryError(Exception):
    """The receiver did not accept the message (refused, timed out, answered non-2xx)."""


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: base · 2^(n−1), capped, with jitter.

    The jitter (a random 50–100 % of the wait) spreads the retries of many
    deliveries to one receiver that was down, so they do not all arrive at once.
    """
    base = conf.backoff_seconds() * (2 ** max(attempts - 1, 0))
    wait = min(base, conf.backoff_max_seconds())
    return dt.timedelta(seconds=wait * (0.5 + random.random() / 2))


def _body(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        # No redirects: a redirect could lead outside the allowed hosts.
        response = requests.post(url, data=body, headers=headers, allow_redirects=False,
                                 timeout=conf.timeout_seconds())
    except requests.RequestException as error:
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
    # DingTalk and WeCom answer 200 with an error code in the body.
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise DeliveryError(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


def _send(delivery: Delivery) -> None:
    payload = delivery.payload
    if delivery.channel == Channel.EMAIL:
        connection = get_connection(timeout=conf.timeout_seconds())
        message = EmailMessage(subject=str(payload.get("subject", "")),
                               body=str(payload.get("body", "")),
                               from_email=settings.DEFAULT_FROM_EMAIL, to=[delivery.recipient],
                               connection=connection)
        try:
            message.send(fail_silently=False)
        except OSError as error:  # smtplib's errors are OSErrors, like refused connections
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        return
    body = _body(payload)
    headers = {"Content-Type": "application/json; charset=utf-8",
               "User-Agent": "Bihuan-Notifications"}
    if delivery.channel == Channel.WEBHOOK:
        sub = delivery.subscription
        if sub is None or not sub.active:
            raise DeliveryError("the subscription is no longer active")
        # Signed at each attempt: the timestamp is the attempt's, so a receiver can
        # refuse old replays, and a rotated secret applies to what is still pending.
        headers[SIGNATURE_HEADER] = signature_header(sub.secret, int(clock.now().timestamp()),
                                                     body)
        headers[EVENT_HEADER] = delivery.event_type
        headers[DELIVERY_HEADER] = delivery.dedupe_key
        url = sub.url
    else:
        url = delivery.recipient
    _post(url, body, headers)


@dataclass
class SendReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def _claim(delivery_id: int, status: str, attempts: int) -> bool:
    now = clock.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=status, attempts=attempts).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE,
    )
    return claimed == 1


def _record(delivery: Delivery, error: str | None) -> str:
    now = clock.now()
    # Only the claim's holder writes the outcome: the row is still ours if it is still
    # "sending" with our attempt number (an expired lease may have been re-claimed).
    mine = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING,
                                   attempts=delivery.attempts)
    if error is None:
        mine.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error="")
        return DeliveryStatus.DELIVERED
    if delivery.attempts >= conf.max_attempts():
        mine.update(status=DeliveryStatus.FAILED, last_error=error[:MAX_ERROR_CHARS])
        logger.error("Delivery %s failed for good after %d attempts: %s", delivery.pk,
                     delivery.attempts, error)
        return DeliveryStatus.FAILED
    mine.update(status=DeliveryStatus.PENDING, last_error=error[:MAX_ERROR_CHARS],
                next_attempt_at=now + backoff(delivery.attempts))
    return DeliveryStatus.PENDING


def send_one(delivery_id: int) -> str | None:
    """Claim and send one delivery; ``None`` if another worker has it or it is not due."""
    now = clock.now()
    row = (Delivery.objects.filter(pk=delivery_id, next_attempt_at__lte=now,
                                   status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
           .values("status", "attempts").first())
    if row is None or not _claim(delivery_id, row["status"], row["attempts"]):
        return None
    delivery = Delivery.objects.select_related("subscription").get(pk=delivery_id)
    error: str | None = None
    try:
        _send(delivery)
    except DeliveryError as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # a bug or a bad payload must not stop the other deliveries
        logger.exception("Delivery %s raised", delivery_id)
        error = f"{type(exc).__name__}: {exc}"
    return _record(delivery, error)


def send_due(limit: int = 100) -> SendReport:
    """Send the deliveries that are due (and those whose claim's lease ran out)."""
    now = clock.now()
    due = (Delivery.objects.filter(
        Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING),
        next_attempt_at__lte=now,
    ).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    report = SendReport()
    for pk in list(due):
        outcome = send_one(pk)
        if outcome == DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif outcome == DeliveryStatus.PENDING:
            report.retried += 1
        elif outcome == DeliveryStatus.FAILED:
            report.failed += 1
    return report
