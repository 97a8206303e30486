"""Who hears about a hazard event."""

from __future__ import annotations

from bihuan.core import clock
from bihuan.hazards.choices import HazardAction
from bihuan.hazards.models import HazardEvent
from bihuan.notifications.models import Notification

# Events the responsible party must hear about: it has something to do or to know.
PARTY_EVENTS = {
    HazardAction.REGISTER, HazardAction.CONFIRM, HazardAction.VERIFY_PASS,
    HazardAction.VERIFY_FAIL, HazardAction.LOOK_BACK_FAIL, HazardAction.APPROVE_EXTENSION,
    HazardAction.REFUSE_EXTENSION, HazardAction.LIST_SUPERVISION,
}


def notify_event(event_id: int) -> int:
    """Create the in-app notifications for one event; idempotent. Returns how many."""
    event = HazardEvent.objects.select_related("hazard__place__party").filter(pk=event_id).first()
    if event is None:
        return 0
    recipients: set[int] = set()
    party = event.hazard.place.party
    if event.action in PARTY_EVENTS and party is not None and party.user_id:
        recipients.add(party.user_id)
    if event.hazard.reported_by_id != event.actor_id:
        recipients.add(event.hazard.reported_by_id)
    recipients.discard(event.actor_id)
    existing = set(
        Notification.objects.filter(event=event, user_id__in=recipients).values_list(
            "user_id", flat=True
        )
    )
    created = Notification.objects.bulk_create(
        [
            Notification(user_id=uid, hazard=event.hazard, event=event, verb=event.action,
                         created_at=clock.now())
            for uid in sorted(recipients - existing)
        ],
        ignore_conflicts=True,
    )
    return len(created)
