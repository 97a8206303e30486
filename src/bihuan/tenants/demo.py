"""Synthetic tenants for the demo city (registry rows, bulk-created like the places).

Deterministic from the seed, on a random stream of their own so the rest of the
demo draws exactly what it drew before tenants existed. The ID numbers carry
valid check digits but county codes that do not exist (``xx0199``), so no
synthetic number can be a real person's; a few rooms are over the per-room
limit, for the overcrowding check to find.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from bihuan.core import clock, crypto
from bihuan.demo import names
from bihuan.places.models import Place
from bihuan.tenants.models import ID_NUMBER_PURPOSE, PHONE_PURPOSE, Tenant
from bihuan.tenants.services import TENANT_PLACE_KINDS
from bihuan.tenants.validators import id_check_character

# Provinces floating workers in Yongkang often come from; county "99" of prefecture "01"
# is not assigned in any of them.
FAKE_REGIONS = ("510199", "520199", "430199", "420199", "410199", "360199", "340199")
STREAM = 0x7E7A


def synthetic_id_number(rng: random.Random, today: dt.date) -> str:
    born = today - dt.timedelta(days=rng.randint(18 * 365, 60 * 365))
    first17 = f"{rng.choice(FAKE_REGIONS)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_check_character(first17)


def generate_tenants(seed: int, today: dt.date | None = None) -> int:
    """Tenants in every active rental house: 1–3 rooms let, mostly 1–2 people a room."""
    rng = random.Random(seed ^ STREAM)
    today = today or clock.today()
    ring = crypto.keyring()
    zone = timezone.get_default_timezone()
    rows: list[Tenant] = []
    places = Place.objects.filter(kind__in=sorted(TENANT_PLACE_KINDS), active=True).order_by("pk")
    for place_pk, rooms in places.values_list("pk", "rooms"):
        let = min(rooms or 4, rng.randint(1, 3))
        for room_index in rng.sample(range(1, (rooms or 4) + 1), k=let):
            floor = 1 + (room_index - 1) // 6
            room = f"{floor}{(room_index - 1) % 6 + 1:02d}"
            people = rng.choices((1, 2, 3), weights=(55, 40, 5))[0]
            for _ in range(people):
                number = synthetic_id_number(rng, today)
                phone = names.phone(rng)
                moved_in = today - dt.timedelta(days=rng.randint(3, 700))
                moved_out = None
                if rng.random() < 0.1:
                    stayed = rng.randint(1, (today - moved_in).days)
                    moved_out = moved_in + dt.timedelta(days=stayed)
                rows.append(Tenant(
                    place_id=place_pk, name=names.person_name(rng), room=room,
                    id_number_sealed=crypto.encrypt(number, purpose=ID_NUMBER_PURPOSE,
                                                    ring=ring),
                    id_number_hash=crypto.lookup_hash(number, purpose=ID_NUMBER_PURPOSE,
                                                      ring=ring),
                    phone_sealed=crypto.encrypt(phone, purpose=PHONE_PURPOSE, ring=ring),
                    moved_in_on=moved_in, moved_out_on=moved_out,
                    registered_at=dt.datetime.combine(moved_in, dt.time(10), tzinfo=zone),
                ))
    Tenant.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
