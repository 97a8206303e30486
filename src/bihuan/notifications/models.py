"""Notices to people (in-app, e-mail, chat robot) and to systems (signed webhooks).

- ``Notification``: one notice to one user; the inbox (bell) shows them.
- ``Delivery``: every outbound message (an e-mail, a chat-robot post, a webhook
  call) is one row, written in the same transaction as the notice that causes it
  and sent by the worker with retries; it is never silently dropped.
- ``DeadlineNotice``: the claim that a deadline reminder, an overdue notice or an
  escalation was made for one hazard and one deadline; its unique key is what
  makes each happen once, however many workers sweep.
- ``SweepRun``: one row per sweep slot, so two workers do not both sweep.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bihuan.notifications.choices import (
    Channel,
    DeadlineNoticeKind,
    DeliveryStatus,
    NoticeKind,
    RobotStyle,
)


class DeadlineNotice(models.Model):
    """A reminder, overdue notice or escalation claimed for one hazard and deadline."""

    kind = models.CharField(_("kind"), max_length=20, choices=DeadlineNoticeKind.choices)
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("hazard"))
    # The occurrence: the deadline (and the reminder's lead or the escalation level).
    # A new deadline (an approved extension, a failed verification) is a new occurrence.
    occurrence_key = models.CharField(_("occurrence"), max_length=60)
    deadline = models.DateField(_("deadline"))
    created_at = models.DateTimeField(_("created at"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deadline notice")
        verbose_name_plural = _("deadline notices")
        constraints = [
            # Exactly once: a second worker's INSERT of the same claim fails (on
            # PostgreSQL it waits for the first transaction, then fails).
            models.UniqueConstraint(fields=["kind", "hazard", "occurrence_key"],
                                    name="deadline_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hazard_id} {self.occurrence_key}"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices,
                            default=NoticeKind.HAZARD_EVENT)
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.CASCADE, null=True,
                               blank=True, related_name="+", verbose_name=_("hazard"))
    event = models.ForeignKey("hazards.HazardEvent", on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+", verbose_name=_("event"))
    notice = models.ForeignKey(DeadlineNotice, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="notifications", verbose_name=_("deadline notice"))
    verb = models.CharField(_("what happened"), max_length=40)
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    # False when the user chose not to see this kind in the inbox (e-mail only, say):
    # the row stays as the record the other channels' deliveries hang on.
    in_inbox = models.BooleanField(_("shown in the inbox"), default=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # Sent once per user and event, even when a task runs twice.
            models.UniqueConstraint(fields=["user", "event"], name="notification_once"),
            models.UniqueConstraint(fields=["user", "notice"], name="notification_notice_once"),
        ]
        indexes = [
            # The bell: a user's unread notices.
            models.Index(fields=["user", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.verb}"


class NotificationPreference(models.Model):
    """The channels one user chose for one kind of notice (no row: in-app only)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    in_app = models.BooleanField(_("in the application"), default=True)
    email = models.BooleanField(_("e-mail"), default=False)
    chat = models.BooleanField(_("chat robot"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"


class ChatRobot(models.Model):
    """A user's chat-robot endpoint (a DingTalk or WeCom group robot's webhook URL)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="chat_robot", verbose_name=_("user"))
    url = models.URLField(_("robot URL"), max_length=500)
    style = models.CharField(_("robot kind"), max_length=10, choices=RobotStyle.choices,
                             default=RobotStyle.DINGTALK)

    class Meta:
        verbose_name = _("chat robot")
        verbose_name_plural = _("chat robots")

    def __str__(self) -> str:
        return f"{self.user_id} {self.style}"


class WebhookSubscription(models.Model):
    """Another system's endpoint for loop events, signed with a per-subscription secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    # Kept in clear: it signs each delivery. Shown once, at creation or rotation.
    secret = models.CharField(_("signing secret"), max_length=80)
    # Event types such as "hazard.verify_pass"; an empty list means every event.
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, null=True, blank=True,
                             verbose_name=_("area"),
                             help_text=_("Only events of hazards in this area (empty: all)."))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One outbound message and its sending history (the outbox)."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=500)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When pending: not before this. When sending: the claim's lease ends then.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    # What caused it: a user's notice, or a subscription and an event.
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, null=True,
                                     blank=True, related_name="deliveries",
                                     verbose_name=_("notification"))
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, null=True,
                                     blank=True, related_name="deliveries",
                                     verbose_name=_("webhook subscription"))
    event_type = models.CharField(_("event type"), max_length=40, blank=True)
    # One delivery per cause and channel: a fan-out that runs twice writes nothing new.
    dedupe_key = models.CharField(_("key"), max_length=100, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            # The sender's query: due pending rows and expired claims, oldest first.
            models.Index(fields=["next_attempt_at"], name="delivery_due",
                         condition=Q(status__in=["pending", "sending"])),
            models.Index(fields=["status", "-created_at"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} ({self.status})"


class SweepRun(models.Model):
    """One periodic sweep: the slot is unique, so of two workers only one sweeps it."""

    slot = models.DateTimeField(_("slot"), unique=True)
    worker = models.CharField(_("worker"), max_length=80)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)

    class Meta:
        ordering = ["-slot"]
        verbose_name = _("sweep run")
        verbose_name_plural = _("sweep runs")

    def __str__(self) -> str:
        return f"{self.slot:%Y-%m-%d %H:%M} {self.worker}"
