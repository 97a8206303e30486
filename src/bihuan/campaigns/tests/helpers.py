"""What the campaign tests add to the persona world: a campaign and two teams."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bihuan.accounts.models import Team
from bihuan.campaigns import services
from bihuan.campaigns.models import Campaign
from bihuan.core import clock

START = dt.date(2026, 9, 1)
END = dt.date(2026, 10, 30)


def campaign(world: Any, **kwargs: Any) -> Campaign:
    values = {"code": "SYGJ-2026", "name": "消防安全双月攻坚行动", "area": world.city,
              "starts_on": START, "ends_on": END}
    values.update(kwargs)
    return services.create_campaign(actor=world.users["commander"], **values)


def teams(world: Any) -> dict[str, Team]:
    """One team per town; the east team's recorder is the fire inspector."""
    east = Team.objects.create(name="东城交叉检查组", home_area=world.towns["east"])
    west = Team.objects.create(name="西城交叉检查组", home_area=world.towns["west"])
    east.members.add(world.users["east_officer"], world.users["fire_inspector"])
    west.members.add(world.users["west_officer"])
    return {"east": east, "west": west}


def at(days: int = 0, hour: int = 10) -> dt.datetime:
    base = clock.now().replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + dt.timedelta(days=days)
