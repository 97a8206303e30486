"""Over a small generated demo city: every figure equals the raw records."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from bihuan.accounts.choices import Role
from bihuan.accounts.models import Membership
from bihuan.areas.models import Area
from bihuan.core import clock
from bihuan.dashboard import metrics, summaries
from bihuan.dashboard.verify import raw_cells, verify
from bihuan.demo.generator import generate
from bihuan.hazards.models import Hazard

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 9, 14)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    media = tmp_path_factory.mktemp("dashboard-demo-media")
    with (django_db_blocker.unblock(),
          override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=FAST_HASHERS),
          transaction.atomic()):
        # The hooks book every transition (the demo command defers them to one rebuild).
        generate(seed=11, places=300, today=TODAY, defer_summaries=False)
        yield
        transaction.set_rollback(True)


def test_the_demo_city_ends_with_summaries_equal_to_the_raw_records(demo):
    assert Hazard.objects.count() > 50
    differences = verify()
    assert differences == [], "\n".join(str(d) for d in differences[:20])


def test_a_rebuild_of_the_demo_city_changes_no_row(demo):
    before = summaries.table_contents()
    summaries.rebuild()
    assert summaries.table_contents() == before


def test_every_tile_of_the_city_dashboard_equals_the_raw_count(demo):
    city = Area.objects.get(parent__isnull=True)
    commander = Membership.objects.filter(role=Role.COMMAND_STAFF, area=city).first().user
    client = Client()
    client.force_login(commander)
    html = client.get(reverse("dashboard:area", args=[city.code]) + "?campaign=all"
                      ).content.decode()
    raw: dict[str, int] = {}
    for cell in raw_cells(clock.today()).values():
        for name, value in cell.items():
            raw[name] = raw.get(name, 0) + value
    overall = metrics.figures(city, clock.today())
    expected = {"hazards_found": raw["found"], "open": raw["open"],
                "open_overdue": raw["overdue"]}
    for figure, value in expected.items():
        shown = re.search(rf'data-figure="{figure}">.*?<span class="tile-value">([^<]*)</span>',
                          html, re.S)
        assert shown and int(shown.group(1)) == value == getattr(overall, figure), figure
    assert overall.open_overdue > 0 and overall.closed > 0
    # The children add up to the city.
    children = metrics.child_figures(city, clock.today())
    assert sum(f.hazards_found for f in children) == overall.hazards_found
    assert sum(f.places for f in children) == overall.places
