"""Changes made in Django's admin go to the audit trail too.

The admin writes its own ``LogEntry`` for every add, change and delete; each one is
copied here (in the same transaction) so registry edits by staff are chained and
verifiable like every other change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from bihuan.audit import services as audit

ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


@receiver(post_save, sender=LogEntry, dispatch_uid="bihuan_audit_admin_log")
def on_admin_log(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    content_type = instance.content_type if instance.content_type_id else None
    model = content_type.model_class() if content_type is not None else None
    label = model._meta.label_lower if model is not None else "unknown"
    audit.record(
        ACTIONS.get(instance.action_flag, "admin.other"),
        actor=instance.user,
        stream=f"{label}:{instance.object_id}"[:80] if instance.object_id else "admin",
        data={"model": label, "object_id": instance.object_id,
              "object": instance.object_repr[:200],
              "change": instance.get_change_message()[:1000]},
    )
