"""The audit trail: append-only entries, hash-chained per stream.

A stream is the history of one object (``hazard:42``) or one concern
(``auth``). Chaining per stream keeps writers of different hazards from
waiting on one another while still letting ``bihuan audit verify`` find an
edited, deleted or re-ordered entry.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("AuditEntry is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("AuditEntry is append-only")


class AuditEntry(models.Model):
    stream = models.CharField(_("stream"), max_length=80)
    seq = models.PositiveBigIntegerField(_("sequence"))
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("actor"))
    actor_repr = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="audit_stream_seq"),
        ]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("AuditEntry is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("AuditEntry is append-only")


class AuditCheckpoint(models.Model):
    """Where a stream's chain resumes after a retention purge: the last purged entry.

    ``bihuan audit verify`` starts the stream's walk here instead of at the genesis
    hash. A checkpoint only ever moves forward (the purge refuses to move it back).
    """

    stream = models.CharField(_("stream"), max_length=80, unique=True)
    seq = models.PositiveBigIntegerField(_("last purged sequence"))
    hash = models.CharField(_("last purged hash"), max_length=64)
    purged_at = models.DateTimeField(_("purged at"))

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq}"
