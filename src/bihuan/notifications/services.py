"""Who hears about what, through which channel; every change here goes through a function.

A notice is a ``Notification`` row per user; the channels the user chose for
that kind of notice each get a ``Delivery`` row, written in the same
transaction (the outbox). Loop events also go to the webhook subscriptions
that asked for them. ``bihuan.notifications.delivery`` sends the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from bihuan.accounts.choices import Role
from bihuan.accounts.scopes import scope_of
from bihuan.audit import services as audit
from bihuan.core import clock
from bihuan.core.errors import NotFound, PermissionDenied, ValidationFailed
from bihuan.hazards.choices import HazardAction
from bihuan.hazards.models import Hazard, HazardEvent
from bihuan.notifications import conf
from bihuan.notifications.choices import (
    USER_CHANNELS,
    Channel,
    DeliveryStatus,
    NoticeKind,
    RobotStyle,
)
from bihuan.notifications.models import (
    ChatRobot,
    DeadlineNotice,
    Delivery,
    Notification,
    NotificationPreference,
    WebhookSubscription,
)
from bihuan.notifications.signing import new_secret

# Events the responsible party must hear about: it has something to do or to know.
PARTY_EVENTS = {
    HazardAction.REGISTER, HazardAction.CONFIRM, HazardAction.VERIFY_PASS,
    HazardAction.VERIFY_FAIL, HazardAction.LOOK_BACK_FAIL, HazardAction.APPROVE_EXTENSION,
    HazardAction.REFUSE_EXTENSION, HazardAction.LIST_SUPERVISION,
}

# What a webhook subscription may ask for: every loop action, and the deadline notices.
DEADLINE_EVENT_TYPES = ("hazard.deadline_reminder", "hazard.overdue")
EVENT_TYPES = tuple(f"hazard.{action}" for action in HazardAction.values) + DEADLINE_EVENT_TYPES


def is_system_admin(user: Any) -> bool:
    return Role.SYSTEM_ADMIN in scope_of(user).admin_roles


def _require_system_admin(user: Any) -> None:
    if not is_system_admin(user):
        raise PermissionDenied()


# ---------------------------------------------------------------- outbound addresses


def _host_allowed(host: str, port: int | None, allowed: list[str]) -> bool:
    """``host`` (and ``port``) match an entry: "name", "name:port" or "*.domain"."""
    for entry in allowed:
        name, entry_port = entry, ""
        if entry.count(":") == 1:
            name, entry_port = entry.split(":")
        if entry_port and str(port or "") != entry_port:
            continue
        if name.startswith("*.") and host.endswith(name[1:]):
            return True
        if host == name:
            return True
    return False


def validate_outbound_url(url: str, *, field: str = "url") -> str:
    """An http(s) URL to an allowed host, or a clear error (the app calls nothing else)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed(_("This is not a valid URL."), field=field) from None
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed(_("Only http:// and https:// addresses can be called."),
                               field=field)
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationFailed(_("This is not a valid URL."), field=field)
    if parts.username or parts.password:
        raise ValidationFailed(_("Put no user name or password in the address."), field=field)
    if not _host_allowed(host, port, conf.allowed_hosts()):
        raise ValidationFailed(
            _("The host “%(host)s” is not on the list of services this installation may "
              "call. Ask the system administrator to allow it.") % {"host": host},
            field=field,
        )
    return url


# ---------------------------------------------------------------- preferences


def channels_for(user_id: int, kind: str) -> set[str]:
    """The channels a user chose for a kind of notice (default: in the application)."""
    pref = NotificationPreference.objects.filter(user_id=user_id, kind=kind).first()
    if pref is None:
        return {Channel.IN_APP}
    return {c for c, on in ((Channel.IN_APP, pref.in_app), (Channel.EMAIL, pref.email),
                            (Channel.CHAT, pref.chat)) if on}


def preferences_of(user: Any) -> dict[str, set[str]]:
    return {kind: channels_for(user.pk, kind) for kind in NoticeKind.values}


@transaction.atomic
def save_preferences(*, actor: Any, choices: dict[str, set[str]], robot_url: str = "",
                     robot_style: str = RobotStyle.DINGTALK) -> None:
    """The actor's own channels per kind of notice, and its chat robot."""
    robot_url = (robot_url or "").strip()
    wants_email = any(Channel.EMAIL in chosen for chosen in choices.values())
    wants_chat = any(Channel.CHAT in chosen for chosen in choices.values())
    for kind, chosen in choices.items():
        if kind not in NoticeKind.values or not set(chosen) <= set(USER_CHANNELS):
            raise ValidationFailed(_("Unknown kind of notice or channel."))
    if wants_email and not actor.email:
        raise ValidationFailed(_("Your account has no e-mail address; ask the administrator "
                                 "to add one before choosing e-mail."), field="email")
    if robot_style not in RobotStyle.values:
        raise ValidationFailed(_("Choose the kind of chat robot."), field="robot_style")
    if wants_chat and not robot_url:
        raise ValidationFailed(_("Enter the chat robot's address to receive notices there."),
                               field="robot_url")
    if robot_url:
        robot_url = validate_outbound_url(robot_url, field="robot_url")
    for kind, chosen in choices.items():
        NotificationPreference.objects.update_or_create(
            user=actor, kind=kind,
            defaults={"in_app": Channel.IN_APP in chosen, "email": Channel.EMAIL in chosen,
                      "chat": Channel.CHAT in chosen},
        )
    if robot_url:
        ChatRobot.objects.update_or_create(user=actor,
                                           defaults={"url": robot_url, "style": robot_style})
    else:
        ChatRobot.objects.filter(user=actor).delete()


# ---------------------------------------------------------------- notices


def _absolute(link: str) -> str:
    base = str(conf.setting("BIHUAN_BASE_URL", "")).rstrip("/")
    return f"{base}{link}" if base and link.startswith("/") else link


def robot_payload(style: str, title: str, body: str, link: str) -> dict[str, Any]:
    """The JSON a DingTalk or WeCom group robot (or a generic receiver) expects."""
    url = _absolute(link)
    text = f"{body}\n\n{url}" if url else body
    if style == RobotStyle.DINGTALK:
        return {"msgtype": "markdown",
                "markdown": {"title": title, "text": f"#### {title}\n\n{text}"}}
    if style == RobotStyle.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    return {"title": title, "text": body, "link": url}


def _user_deliveries(notification: Notification, channels: set[str], user: Any,
                     robot: ChatRobot | None, link: str) -> list[Delivery]:
    now = clock.now()
    rows = []
    if Channel.EMAIL in channels and user.email:
        body = notification.body
        url = _absolute(link)
        if url:
            body = f"{body}\n\n{url}"
        rows.append(Delivery(
            channel=Channel.EMAIL, recipient=user.email,
            payload={"subject": notification.title, "body": body},
            next_attempt_at=now, created_at=now, notification=notification,
            dedupe_key=f"n{notification.pk}:{Channel.EMAIL}",
        ))
    if Channel.CHAT in channels and robot is not None:
        rows.append(Delivery(
            channel=Channel.CHAT, recipient=robot.url,
            payload=robot_payload(robot.style, notification.title, notification.body, link),
            next_attempt_at=now, created_at=now, notification=notification,
            dedupe_key=f"n{notification.pk}:{Channel.CHAT}",
        ))
    return rows


def notify_users(
    user_ids: Iterable[int], *, kind: str, verb: str, title: str, body: str,
    hazard: Hazard | None = None, event: HazardEvent | None = None,
    notice: DeadlineNotice | None = None, link: str = "",
) -> list[Notification]:
    """One notice to each user and a delivery per channel each chose; idempotent per
    (user, event) and (user, notice). Call inside the transaction of the cause."""
    from bihuan.accounts.models import User

    ids = sorted(set(user_ids))
    if not ids:
        return []
    users = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True)}
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids,
                                                                          kind=kind)}
    robots = {r.user_id: r for r in ChatRobot.objects.filter(user_id__in=ids)}
    now = clock.now()
    created: list[Notification] = []
    deliveries: list[Delivery] = []
    for uid in ids:
        user = users.get(uid)
        if user is None:
            continue
        pref = prefs.get(uid)
        channels: set[str] = {Channel.IN_APP} if pref is None else {
            c for c, on in ((Channel.IN_APP, pref.in_app), (Channel.EMAIL, pref.email),
                            (Channel.CHAT, pref.chat)) if on}
        duplicate = Notification.objects.filter(user_id=uid)
        if event is not None and duplicate.filter(event=event).exists():
            continue
        if notice is not None and duplicate.filter(notice=notice).exists():
            continue
        notification = Notification.objects.create(
            user_id=uid, kind=kind, hazard=hazard, event=event, notice=notice, verb=verb,
            title=title[:200], body=body, in_inbox=Channel.IN_APP in channels, created_at=now,
        )
        created.append(notification)
        deliveries.extend(_user_deliveries(notification, channels, user, robots.get(uid), link))
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return created


def hazard_link(hazard: Hazard) -> str:
    return reverse("hazards:detail", args=[hazard.pk])


def hazard_text(hazard: Hazard) -> str:
    lines = [
        _("Place: %(place)s") % {"place": hazard.place.name},
        _("Hazard: %(description)s") % {"description": hazard.description},
    ]
    if hazard.deadline:
        lines.append(_("Deadline: %(date)s") % {"date": hazard.deadline.isoformat()})
    return "\n".join(lines)


def notify_event(event_id: int) -> int:
    """Notices and webhook deliveries for one hazard event; idempotent. Returns notices."""
    event = (HazardEvent.objects.select_related("hazard__place__party", "hazard__area")
             .filter(pk=event_id).first())
    if event is None:
        return 0
    hazard = event.hazard
    recipients: set[int] = set()
    party = hazard.place.party
    if event.action in PARTY_EVENTS and party is not None and party.user_id:
        recipients.add(party.user_id)
    if hazard.reported_by_id != event.actor_id:
        recipients.add(hazard.reported_by_id)
    recipients.discard(event.actor_id)
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        title = f"{hazard.number} {HazardAction(event.action).label}"
        created = notify_users(
            recipients, kind=NoticeKind.HAZARD_EVENT, verb=event.action, title=title,
            body=hazard_text(hazard), hazard=hazard, event=event, link=hazard_link(hazard),
        )
        queue_webhooks(f"hazard.{event.action}", hazard,
                       event_payload(hazard, event), cause=f"e{event.pk}")
    return len(created)


# ---------------------------------------------------------------- webhooks


def hazard_payload(hazard: Hazard) -> dict[str, Any]:
    """What other systems learn of a hazard: no names, phones or addresses."""
    return {
        "id": hazard.pk,
        "number": hazard.number,
        "state": hazard.state,
        "severity": hazard.severity,
        "area": {"code": hazard.area.code, "name": hazard.area.name},
        "place_kind": hazard.place_kind,
        "deadline": hazard.deadline.isoformat() if hazard.deadline else None,
        "supervision_level": hazard.supervision_level,
        "version": hazard.version,
    }


def event_payload(hazard: Hazard, event: HazardEvent) -> dict[str, Any]:
    return {
        "hazard": hazard_payload(hazard),
        "event": {"seq": event.seq, "action": event.action, "from_state": event.from_state,
                  "to_state": event.to_state, "actor_role": event.actor_role,
                  "at": event.at.isoformat()},
    }


def queue_webhooks(event_type: str, hazard: Hazard, data: dict[str, Any], *, cause: str) -> int:
    """A delivery to each active subscription that wants this event for this hazard's area.

    ``cause`` names the event or notice, so running twice writes nothing new.
    """
    now = clock.now()
    rows = []
    for sub in WebhookSubscription.objects.filter(active=True).select_related("area"):
        if sub.event_types and event_type not in sub.event_types:
            continue
        if sub.area is not None and not hazard.area.path.startswith(sub.area.path):
            continue
        key = f"w{sub.pk}:{cause}"
        rows.append(Delivery(
            channel=Channel.WEBHOOK, recipient=sub.url, subscription=sub, event_type=event_type,
            payload={"id": key, "type": event_type, "created_at": now.isoformat(), "data": data},
            next_attempt_at=now, created_at=now, dedupe_key=key,
        ))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = sorted({str(t) for t in event_types})
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(_("Unknown event type: %(types)s") % {"types": ", ".join(unknown)},
                               field="event_types")
    return chosen


@transaction.atomic
def create_subscription(*, actor: Any, name: str, url: str, event_types: Iterable[str] = (),
                        area: Any | None = None) -> tuple[WebhookSubscription, str]:
    """A new webhook subscription and its signing secret (shown to the creator once)."""
    _require_system_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Name the subscription."), field="name")
    url = validate_outbound_url(url)
    types = _clean_event_types(event_types)
    secret = new_secret()
    sub = WebhookSubscription.objects.create(
        name=name, url=url, secret=secret, event_types=types, area=area, active=True,
        created_by=actor, created_at=clock.now(),
    )
    audit.record("notifications.webhook_created", actor=actor, obj=sub,
                 data={"name": name, "url": url, "event_types": types,
                       "area": area.code if area is not None else None})
    return sub, secret


def _locked_subscription(pk: int) -> WebhookSubscription:
    try:
        return WebhookSubscription.objects.select_for_update().get(pk=pk)
    except (WebhookSubscription.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@transaction.atomic
def set_subscription_active(*, actor: Any, subscription_id: int,
                            active: bool) -> WebhookSubscription:
    _require_system_admin(actor)
    sub = _locked_subscription(subscription_id)
    sub.active = active
    sub.save(update_fields=["active"])
    audit.record("notifications.webhook_activated" if active
                 else "notifications.webhook_deactivated", actor=actor, obj=sub, data={})
    return sub


@transaction.atomic
def rotate_secret(*, actor: Any, subscription_id: int) -> tuple[WebhookSubscription, str]:
    """A new signing secret; deliveries not yet sent are signed with it."""
    _require_system_admin(actor)
    sub = _locked_subscription(subscription_id)
    sub.secret = new_secret()
    sub.save(update_fields=["secret"])
    audit.record("notifications.webhook_secret_rotated", actor=actor, obj=sub, data={})
    return sub, sub.secret


@transaction.atomic
def retry_delivery(*, actor: Any, delivery_id: int) -> Delivery:
    """Send a failed delivery again (an administrator, after fixing the receiver)."""
    _require_system_admin(actor)
    try:
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    except (Delivery.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if delivery.status != DeliveryStatus.FAILED:
        raise ValidationFailed(_("Only a failed delivery can be sent again."))
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit.record("notifications.delivery_retried", actor=actor, obj=delivery,
                 data={"channel": delivery.channel})
    return delivery


# ---------------------------------------------------------------- the inbox


def inbox_of(user: Any) -> Any:
    return Notification.objects.filter(user=user, in_inbox=True).select_related("hazard")


def unread_count(user: Any) -> int:
    return int(inbox_of(user).filter(read_at__isnull=True).count())


def mark_read(*, user: Any, notification_id: int) -> Notification:
    """The user's own notice, read; someone else's is not found."""
    try:
        notification = Notification.objects.get(pk=notification_id, user=user)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if notification.read_at is None:
        notification.read_at = clock.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user: Any) -> int:
    return int(Notification.objects.filter(user=user, read_at__isnull=True)
               .update(read_at=clock.now()))
