"""Deliveries reach a real SMTP server and a real HTTP receiver on loopback; a receiver
that is down gets the notice later (retries with back-off), never loses it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from bihuan.core import clock
from bihuan.hazards import services as hazard_services
from bihuan.notifications import delivery, services
from bihuan.notifications.choices import Channel, DeliveryStatus, NoticeKind, RobotStyle
from bihuan.notifications.models import Delivery, Notification
from bihuan.notifications.signing import verify
from bihuan.notifications.tests.conftest import HttpReceiver

pytestmark = pytest.mark.django_db


def _register(world, description: str = "楼道堆放杂物"):
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").first()
    hazard = hazard_services.register_hazard(actor=world.users["baita_grid_worker"],
                                             place=place, item=item, description=description)
    return hazard, hazard.events.get()


def _landlord_wants(world, *channels: str, robot_url: str = "",
                    style: str = RobotStyle.DINGTALK) -> None:
    landlord = world.users["landlord"]
    landlord.email = "landlord@example.cn"
    landlord.save(update_fields=["email"])
    services.save_preferences(actor=landlord,
                              choices={NoticeKind.HAZARD_EVENT: {Channel.IN_APP, *channels}},
                              robot_url=robot_url, robot_style=style)


def test_an_email_notice_reaches_a_real_smtp_server_once(world, smtp_server):
    _landlord_wants(world, Channel.EMAIL)
    hazard, event = _register(world)
    assert services.notify_event(event.pk) == 1
    assert services.notify_event(event.pk) == 0  # the task ran twice: nothing new
    row = Delivery.objects.get()
    assert (row.channel, row.recipient, row.status) == (Channel.EMAIL, "landlord@example.cn",
                                                        DeliveryStatus.PENDING)

    report = delivery.send_due()
    assert report.delivered == 1
    assert delivery.send_due().delivered == 0
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["landlord@example.cn"]
    subject = str(email_header(message["Subject"]))
    assert hazard.number in subject
    body = message.get_payload(decode=True).decode()
    assert "楼道堆放杂物" in body and f"/hazards/{hazard.pk}/" in body
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED
    assert row.attempts == 1 and row.delivered_at == clock.now()


def email_header(value: str) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(value)))


def test_a_chat_robot_gets_dingtalk_markdown(world, receiver):
    _landlord_wants(world, Channel.CHAT, robot_url=receiver.url)
    hazard, event = _register(world)
    services.notify_event(event.pk)
    assert delivery.send_due().delivered == 1
    [posted] = receiver.received
    payload = posted.json()
    assert payload["msgtype"] == "markdown"
    assert hazard.number in payload["markdown"]["title"]
    assert "楼道堆放杂物" in payload["markdown"]["text"]


def test_a_robot_that_answers_an_error_code_is_retried(world, receiver):
    receiver.answer = b'{"errcode":310000,"errmsg":"keywords not in content"}'
    _landlord_wants(world, Channel.CHAT, robot_url=receiver.url, style=RobotStyle.WECOM)
    _hazard, event = _register(world)
    services.notify_event(event.pk)
    assert delivery.send_due().retried == 1
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.PENDING and "310000" in row.last_error
    assert receiver.received[0].json()["msgtype"] == "markdown"


def test_a_webhook_is_signed_and_the_receiver_can_verify_it(world, receiver):
    sub, secret = services.create_subscription(actor=world.users["system_admin"],
                                               name="12345 热线", url=receiver.url,
                                               event_types=["hazard.register"])
    hazard, event = _register(world)
    services.notify_event(event.pk)
    assert delivery.send_due().delivered == 1
    [posted] = receiver.received
    header = posted.headers["X-Bihuan-Signature"]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert timestamp == int(clock.now().timestamp())
    # What a receiver does (docs/webhooks.md), computed here independently:
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + posted.body,
                        hashlib.sha256).hexdigest()
    assert header == f"t={timestamp},v1={expected}"
    assert verify(secret, header, posted.body, now=clock.now().timestamp())
    assert not verify(secret, header, posted.body + b" ", now=clock.now().timestamp())
    assert not verify("whsec_wrong", header, posted.body, now=clock.now().timestamp())
    assert not verify(secret, header, posted.body, now=clock.now().timestamp() + 3600)
    payload = json.loads(posted.body)
    assert payload["type"] == "hazard.register"
    assert payload["data"]["hazard"]["number"] == hazard.number
    assert posted.headers["X-Bihuan-Event"] == "hazard.register"
    assert posted.headers["X-Bihuan-Delivery"] == payload["id"]
    # No personal data leaves: the party's name and phone are not in the payload.
    assert "楼先生" not in posted.body.decode() and "13800000001" not in posted.body.decode()
    assert Delivery.objects.get().subscription == sub


def test_a_subscription_gets_only_the_events_and_area_it_asked_for(world, receiver):
    admin = world.users["system_admin"]
    services.create_subscription(actor=admin, name="closures", url=receiver.url,
                                 event_types=["hazard.verify_pass"])
    services.create_subscription(actor=admin, name="west only", url=receiver.url,
                                 area=world.towns["west"])
    services.create_subscription(actor=admin, name="east all", url=receiver.url,
                                 area=world.towns["east"])
    _hazard, event = _register(world)  # in 东城 (east)
    services.notify_event(event.pk)
    assert list(Delivery.objects.values_list("subscription__name", flat=True)) == ["east all"]


def test_a_receiver_that_is_down_gets_the_notice_when_it_comes_up(
    world, down_receiver: HttpReceiver, settings
):
    settings.BIHUAN_DELIVERY_BACKOFF_SECONDS = 30
    services.create_subscription(actor=world.users["system_admin"], name="down",
                                 url=down_receiver.url)
    _hazard, event = _register(world)
    services.notify_event(event.pk)

    # Down: the attempt fails, the delivery waits 15–30 s (30 s with 50–100 % jitter).
    assert delivery.send_due().retried == 1
    row = Delivery.objects.get()
    first_wait = row.next_attempt_at - clock.now()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error
    assert dt.timedelta(seconds=15) <= first_wait <= dt.timedelta(seconds=30)
    assert delivery.send_due().retried == 0  # not due yet: no hammering

    # Still down: the second wait is twice as long (30–60 s).
    clock.advance(first_wait)
    assert delivery.send_due().retried == 1
    row.refresh_from_db()
    second_wait = row.next_attempt_at - clock.now()
    assert row.attempts == 2
    assert dt.timedelta(seconds=30) <= second_wait <= dt.timedelta(seconds=60)

    # It comes up on the same port: the next attempt delivers, once.
    down_receiver.start()
    clock.advance(second_wait)
    assert delivery.send_due().delivered == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 3
    assert len(down_receiver.received) == 1
    clock.advance(dt.timedelta(hours=2))
    assert delivery.send_due().delivered == 0
    assert len(down_receiver.received) == 1


def test_after_the_last_attempt_it_is_failed_and_can_be_sent_again(
    world, down_receiver: HttpReceiver, settings
):
    settings.BIHUAN_DELIVERY_MAX_ATTEMPTS = 3
    services.create_subscription(actor=world.users["system_admin"], name="down",
                                 url=down_receiver.url)
    _hazard, event = _register(world)
    services.notify_event(event.pk)
    for _attempt in range(3):
        delivery.send_due()
        clock.advance(dt.timedelta(hours=2))
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    assert row.last_error
    clock.advance(dt.timedelta(days=1))
    assert delivery.send_due().delivered == 0  # failed rows are not retried on their own

    down_receiver.start()
    services.retry_delivery(actor=world.users["system_admin"], delivery_id=row.pk)
    assert delivery.send_due().delivered == 1
    assert len(down_receiver.received) == 1


def test_a_receiver_answering_500_is_retried(world, receiver):
    receiver.status = 500
    services.create_subscription(actor=world.users["system_admin"], name="flaky",
                                 url=receiver.url)
    _hazard, event = _register(world)
    services.notify_event(event.pk)
    assert delivery.send_due().retried == 1
    assert "HTTP 500" in Delivery.objects.get().last_error
    receiver.status = 204
    clock.advance(dt.timedelta(minutes=5))
    assert delivery.send_due().delivered == 1


def test_a_worker_that_died_while_sending_leaves_it_to_the_next(world, receiver):
    services.create_subscription(actor=world.users["system_admin"], name="r", url=receiver.url)
    _hazard, event = _register(world)
    services.notify_event(event.pk)
    row = Delivery.objects.get()
    # A worker claimed it and died before recording anything.
    assert delivery._claim(row.pk, DeliveryStatus.PENDING, 0)
    assert delivery.send_due().delivered == 0  # the claim's lease still runs
    clock.advance(delivery.LEASE + dt.timedelta(seconds=1))
    assert delivery.send_due().delivered == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)


def test_in_app_off_keeps_the_record_but_not_the_inbox(world, smtp_server):
    landlord = world.users["landlord"]
    landlord.email = "landlord@example.cn"
    landlord.save(update_fields=["email"])
    services.save_preferences(actor=landlord,
                              choices={NoticeKind.HAZARD_EVENT: {Channel.EMAIL}})
    _hazard, event = _register(world)
    services.notify_event(event.pk)
    notice = Notification.objects.get(user=landlord)
    assert not notice.in_inbox
    assert services.unread_count(landlord) == 0
    assert delivery.send_due().delivered == 1
    assert len(smtp_server.messages) == 1


def test_the_back_off_doubles_up_to_its_cap_with_jitter(settings):
    settings.BIHUAN_DELIVERY_BACKOFF_SECONDS = 30
    settings.BIHUAN_DELIVERY_BACKOFF_MAX_SECONDS = 3600
    for attempts, full in ((1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)):
        waits = {delivery.backoff(attempts).total_seconds() for _ in range(50)}
        assert all(full / 2 <= w <= full for w in waits), (attempts, waits)
        assert len(waits) > 1  # jittered, not all at once
