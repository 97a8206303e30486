"""The inbox, preferences, delivery log and webhook pages: who may use them, and bad input
(a webhook address that is not http(s) or not on the allow-list): a clear error, nothing
written."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from bihuan.audit.models import AuditEntry
from bihuan.core.errors import PermissionDenied, ValidationFailed
from bihuan.hazards import services as hazard_services
from bihuan.notifications import services
from bihuan.notifications.choices import Channel, DeliveryStatus, NoticeKind
from bihuan.notifications.models import (
    ChatRobot,
    Delivery,
    Notification,
    NotificationPreference,
    WebhookSubscription,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def allow_loopback(settings):
    settings.BIHUAN_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1", "*.dingtalk.example"]


def _notice_for_landlord(world) -> Notification:
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").first()
    hazard = hazard_services.register_hazard(actor=world.users["baita_grid_worker"],
                                             place=place, item=item, description="杂物")
    services.notify_event(hazard.events.get().pk)
    return Notification.objects.get(user=world.users["landlord"])


# ---------------------------------------------------------------- bad addresses


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://127.0.0.1/hook", "http"),
    ("file:///etc/passwd", "http"),
    ("javascript:alert(1)", "http"),
    ("http://10.0.0.8/hook", "10.0.0.8"),
    ("https://evil.example.com/hook", "evil.example.com"),
    ("https://dingtalk.example/hook", "dingtalk.example"),  # "*.x" is subdomains only
    ("http://user:pw@127.0.0.1/hook", "password"),
    ("http://[::1/hook", "valid"),
])
def test_a_bad_webhook_address_is_refused_and_nothing_is_written(world, allow_loopback, url,
                                                                  says):
    before = AuditEntry.objects.count()
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        services.create_subscription(actor=world.users["system_admin"], name="x", url=url)
    with translation.override("en"):
        assert says in str(refused.value.message)
    assert refused.value.field == "url"
    assert WebhookSubscription.objects.count() == 0
    assert AuditEntry.objects.count() == before


def test_allowed_hosts_and_subdomains_pass(world, allow_loopback):
    admin = world.users["system_admin"]
    sub, secret = services.create_subscription(actor=admin, name="a",
                                               url="https://oapi.dingtalk.example/robot")
    assert sub.secret == secret and secret.startswith("whsec_") and len(secret) > 40
    assert AuditEntry.objects.filter(action="notifications.webhook_created").count() == 1
    assert secret not in str(AuditEntry.objects.get(
        action="notifications.webhook_created").data)


def test_nothing_is_allowed_until_the_administrator_lists_hosts(world, settings):
    settings.BIHUAN_OUTBOUND_ALLOWED_HOSTS = []
    with pytest.raises(ValidationFailed):
        services.create_subscription(actor=world.users["system_admin"], name="x",
                                     url="https://oapi.dingtalk.com/robot/send")


def test_an_unknown_event_type_is_refused(world, allow_loopback):
    with pytest.raises(ValidationFailed):
        services.create_subscription(actor=world.users["system_admin"], name="x",
                                     url="http://127.0.0.1/h", event_types=["hazard.nope"])
    assert WebhookSubscription.objects.count() == 0


def test_only_the_system_administrator_manages_webhooks(world, allow_loopback):
    for persona in ("commander", "security_admin", "audit_admin"):
        with pytest.raises(PermissionDenied):
            services.create_subscription(actor=world.users[persona], name="x",
                                         url="http://127.0.0.1/h")
    assert WebhookSubscription.objects.count() == 0


def test_a_chat_robot_off_the_allow_list_is_refused_and_no_preference_is_saved(
    world, allow_loopback
):
    landlord = world.users["landlord"]
    with pytest.raises(ValidationFailed) as refused:
        services.save_preferences(actor=landlord, robot_url="https://evil.example.com/x",
                                  choices={NoticeKind.OVERDUE: {Channel.CHAT}})
    assert refused.value.field == "robot_url"
    assert NotificationPreference.objects.count() == 0
    assert ChatRobot.objects.count() == 0


def test_email_needs_an_address(world):
    with pytest.raises(ValidationFailed):
        services.save_preferences(actor=world.users["landlord"],
                                  choices={NoticeKind.OVERDUE: {Channel.EMAIL}})
    assert NotificationPreference.objects.count() == 0


# ---------------------------------------------------------------- pages


def test_the_inbox_shows_my_notices_and_the_bell_counts_them(client, world):
    notice = _notice_for_landlord(world)
    client.force_login(world.users["landlord"])
    page = client.get(reverse("notifications:inbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="notice-{notice.pk}"' in html
    assert 'hx-get="/notifications/bell/"' in html
    assert '>1</span>' in client.get(reverse("notifications:bell")).content.decode()

    client.force_login(world.users["shopkeeper"])
    other = client.get(reverse("notifications:inbox")).content.decode()
    assert f'id="notice-{notice.pk}"' not in other
    assert "badge" not in client.get(reverse("notifications:bell")).content.decode()


def test_marking_someone_elses_notice_read_is_not_found(client, world):
    notice = _notice_for_landlord(world)
    client.force_login(world.users["shopkeeper"])
    assert client.post(reverse("notifications:read", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None

    client.force_login(world.users["landlord"])
    response = client.post(reverse("notifications:read", args=[notice.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("hazards:detail", args=[notice.hazard_id])
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert services.unread_count(world.users["landlord"]) == 0


def test_mark_all_read(client, world):
    _notice_for_landlord(world)
    client.force_login(world.users["landlord"])
    client.post(reverse("notifications:read_all"))
    assert services.unread_count(world.users["landlord"]) == 0


def test_preferences_page_saves_my_channels(client, world, allow_loopback):
    landlord = world.users["landlord"]
    client.force_login(landlord)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    response = client.post(reverse("notifications:preferences"), {
        "overdue__in_app": "on", "overdue__chat": "on",
        "robot_url": "http://127.0.0.1:9/robot", "robot_style": "wecom",
    })
    assert response.status_code == 302
    assert services.channels_for(landlord.pk, NoticeKind.OVERDUE) == {Channel.IN_APP,
                                                                       Channel.CHAT}
    assert services.channels_for(landlord.pk, NoticeKind.HAZARD_EVENT) == set()
    assert ChatRobot.objects.get(user=landlord).style == "wecom"


def test_preferences_page_shows_the_refusal(client, world, allow_loopback):
    client.force_login(world.users["landlord"])
    response = client.post(reverse("notifications:preferences"), {
        "overdue__chat": "on", "robot_url": "ftp://127.0.0.1/robot", "robot_style": "dingtalk",
    })
    assert response.status_code == 200
    assert "http://" in response.content.decode()
    assert NotificationPreference.objects.count() == 0


@pytest.mark.parametrize("name", ["notifications:deliveries", "notifications:webhooks"])
def test_administration_pages_are_the_system_administrators(client, world, name):
    assert client.get(reverse(name)).status_code == 302  # to the login page
    for persona in ("commander", "landlord", "security_admin", "audit_admin"):
        client.force_login(world.users[persona])
        assert client.get(reverse(name)).status_code == 403, persona
    client.force_login(world.users["system_admin"])
    assert client.get(reverse(name)).status_code == 200


def test_the_delivery_log_filters(client, world, allow_loopback):
    services.create_subscription(actor=world.users["system_admin"], name="hook",
                                 url="http://127.0.0.1:9/h")
    _notice_for_landlord(world)
    row = Delivery.objects.get()
    Delivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED, last_error="boom")
    client.force_login(world.users["system_admin"])
    url = reverse("notifications:deliveries")
    assert f'id="delivery-{row.pk}"' in client.get(url, {"status": "failed"}).content.decode()
    assert f'id="delivery-{row.pk}"' not in client.get(
        url, {"status": "delivered"}).content.decode()
    assert f'id="delivery-{row.pk}"' in client.get(url, {"channel": "webhook",
                                                         "recipient": "127.0.0.1"}).content.decode()
    assert f'id="delivery-{row.pk}"' not in client.get(url, {"channel": "email"}).content.decode()
    response = client.post(reverse("notifications:retry", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0


def test_creating_a_webhook_shows_its_secret_once(client, world, allow_loopback):
    client.force_login(world.users["system_admin"])
    response = client.post(reverse("notifications:webhooks"), {
        "name": "12345", "url": "http://127.0.0.1:9/h", "event_types": ["hazard.verify_pass"]})
    sub = WebhookSubscription.objects.get()
    assert response.status_code == 200
    assert sub.secret in response.content.decode()
    detail = client.get(reverse("notifications:webhook", args=[sub.pk])).content.decode()
    assert sub.secret not in detail
    rotated = client.post(reverse("notifications:webhook", args=[sub.pk]), {"action": "rotate"})
    sub.refresh_from_db()
    assert sub.secret in rotated.content.decode()
    client.post(reverse("notifications:webhook", args=[sub.pk]), {"action": "deactivate"})
    sub.refresh_from_db()
    assert not sub.active


def test_a_bad_webhook_form_says_why_and_writes_nothing(client, world, allow_loopback):
    client.force_login(world.users["system_admin"])
    response = client.post(reverse("notifications:webhooks"),
                           {"name": "x", "url": "https://evil.example.com/h"})
    assert response.status_code == 400
    assert "evil.example.com" in response.content.decode()
    assert WebhookSubscription.objects.count() == 0
