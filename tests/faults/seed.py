"""Build the small test city in the fault tests' private database; print what clients need."""

from __future__ import annotations

import datetime as dt
import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bihuan.settings")

import django

django.setup()

from bihuan.core import clock  # noqa: E402
from bihuan.testing import build_world  # noqa: E402

PASSWORD = "fault-test-pass-1"

world = build_world()
for name in ("baita_grid_worker", "commander"):
    world.users[name].set_password(PASSWORD)
    world.users[name].save(update_fields=["password"])
place = world.places["baita_rental"]
checklist = world.checklist_for(place)
item = checklist.items.order_by("order", "id").first()
assert item is not None
print(json.dumps({
    "place_id": place.pk,
    "checklist_id": checklist.pk,
    "item_code": item.code,
    "deadline": (clock.today() + dt.timedelta(days=20)).isoformat(),
    "username": "baita_grid_worker",
    "password": PASSWORD,
}))
