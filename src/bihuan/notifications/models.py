"""In-application notifications (the inbox bell); other channels build on these rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications", verbose_name=_("user"))
    hazard = models.ForeignKey("hazards.Hazard", on_delete=models.CASCADE, null=True,
                               blank=True, related_name="+", verbose_name=_("hazard"))
    event = models.ForeignKey("hazards.HazardEvent", on_delete=models.CASCADE, null=True,
                              blank=True, related_name="+", verbose_name=_("event"))
    verb = models.CharField(_("what happened"), max_length=40)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # Sent once per user and event, even when a task runs twice.
            models.UniqueConstraint(fields=["user", "event"], name="notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.verb}"
