"""Background work after a hazard's transition has committed."""

from __future__ import annotations

from django_tasks import task


@task()
def notify_hazard_event(event_id: int) -> int:
    from bihuan.notifications.services import notify_event

    return notify_event(event_id)
