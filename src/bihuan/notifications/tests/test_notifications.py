"""Transitions enqueue their notification in the same transaction; the task is idempotent."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from bihuan.core.errors import ValidationFailed
from bihuan.hazards import services
from bihuan.notifications.models import Notification
from bihuan.notifications.services import notify_event

pytestmark = pytest.mark.django_db


def _register(world):
    place = world.places["baita_rental"]
    item = world.checklist_for(place).items.filter(severity="general").first()
    return services.register_hazard(actor=world.users["baita_grid_worker"], place=place,
                                    item=item, description="")


def test_a_transition_enqueues_one_task_and_the_party_is_notified_once(world):
    hazard = _register(world)
    assert DBTaskResult.objects.count() == 1
    event = hazard.events.get()
    assert notify_event(event.pk) == 1
    assert notify_event(event.pk) == 0  # a second run (two workers, a restart) adds nothing
    notice = Notification.objects.get()
    assert notice.user == world.users["landlord"]
    assert notice.verb == "register"


def test_a_refused_transition_enqueues_nothing(world):
    hazard = _register(world)
    before = DBTaskResult.objects.count()
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.void_hazard(hazard, actor=world.users["east_officer"], reason="")
    assert DBTaskResult.objects.count() == before
