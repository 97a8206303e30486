"""The demo city's campaign: targets, a few tasks, the responsibility list and a
published cross-inspection draw, all through the services (called by the demo
generator after the simulation, with the clock frozen; deterministic per seed)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from bihuan.campaigns import services
from bihuan.campaigns.choices import Duty, Metric
from bihuan.core.errors import ValidationFailed
from bihuan.places.choices import PlaceKind

TARGETS = [(Metric.COVERAGE, 95), (Metric.CLOSURE_RATE, 90), (Metric.ON_TIME_RATE, 85),
           (Metric.OPEN_MAJOR, 0)]


def build(world: Any, rng: random.Random, seed: int) -> None:
    """``world`` is the demo generator's World (its campaign, command staff, towns, units)."""
    campaign = world.campaign
    commander = world.command[0]
    for metric, value in TARGETS:
        services.set_target(actor=commander, campaign=campaign, metric=metric, value=value)
    start, end = campaign.starts_on, campaign.ends_on
    towns = sorted(world.towns.values(), key=lambda t: t.code)
    fire = world.org_units.get("fire")
    market = world.org_units.get("market")
    services.add_responsibility(actor=commander, campaign=campaign, area=world.city,
                                duty=Duty.PARTY, person_name="各场所主体责任人")
    if fire is not None:
        services.create_task(actor=commander, campaign=campaign,
                             title="专业市场消防设施全面检查", org_unit=fire,
                             place_kind=PlaceKind.MARKET, due_on=start + dt.timedelta(days=30))
        services.add_responsibility(actor=commander, campaign=campaign, area=world.city,
                                    duty=Duty.DEPARTMENTAL, person_name=f"{fire.name}大队长",
                                    org_unit=fire)
    if market is not None:
        services.create_task(actor=commander, campaign=campaign,
                             title="沿街店面电动车违规充电整治", org_unit=market,
                             place_kind=PlaceKind.SHOP, due_on=end - dt.timedelta(days=10))
    for i, town in enumerate(towns[:4]):
        officer = world.town_officers[town.code][0]
        task = services.create_task(
            actor=officer, campaign=campaign, title=f"{town.name}出租房“地毯式”排查",
            area=town, place_kind=PlaceKind.RENTAL_HOUSE,
            # Some due already (and one overdue), some later.
            due_on=start + dt.timedelta(days=20 + 10 * i),
        )
        if i % 2 == 0:
            services.report_task_progress(actor=officer, task=task, progress=40 + 30 * i // 2,
                                          note="已完成辖区内大部分出租房排查，问题已录入问题清单。")
        services.add_responsibility(actor=officer, campaign=campaign, area=town,
                                    duty=Duty.TERRITORIAL, person_name=str(officer))
    nonce = f"{rng.getrandbits(64):016x}"
    try:
        draw = services.announce_cross_draw(actor=commander, campaign=campaign, per_town=5,
                                            public_seed=f"demo-{seed}", nonce=nonce)
    except ValidationFailed:
        return  # a tiny demo city may leave a town without places: no draw then
    services.perform_draw(draw, actor=commander)
