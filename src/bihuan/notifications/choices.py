from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    """What a notice is about; each user chooses channels per kind."""

    HAZARD_EVENT = "hazard_event", _("A hazard I follow changed")
    DEADLINE_REMINDER = "deadline_reminder", _("Rectification deadline approaching")
    OVERDUE = "overdue", _("Rectification overdue")
    ESCALATION = "escalation", _("Supervision escalated")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the application")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat robot")
    # Outgoing webhooks to other systems (subscriptions, not a user's choice).
    WEBHOOK = "webhook", _("Webhook")


# The channels a user may choose for a kind of notice.
USER_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.CHAT)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class RobotStyle(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk group robot")
    WECOM = "wecom", _("WeCom group robot")
    GENERIC = "generic", _("Generic JSON")


class DeadlineNoticeKind(models.TextChoices):
    REMINDER = "reminder", _("Deadline reminder")
    OVERDUE = "overdue", _("Overdue notice")
    ESCALATION = "escalation", _("Supervision escalation")
