"""Place.address_key: the matching key of the address, indexed, for duplicate look-ups.

The key of every existing place is computed in Python (NFKC and the import's
punctuation rules have no portable SQL form) before the indexes are built.
"""

from typing import Any

from django.db import migrations, models

import bihuan.places.models

CHUNK = 5000


def fill_address_keys(apps: Any, schema_editor: Any) -> None:
    # The current key function on purpose: the stored keys must be what the code
    # computes (a later change of the normalisation needs a migration like this one).
    from bihuan.places.models import address_lookup_key

    place = apps.get_model("places", "Place")
    connection = schema_editor.connection
    table = schema_editor.quote_name(place._meta.db_table)
    manager = place._base_manager.using(connection.alias)
    last = 0
    while True:
        rows = list(manager.filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "address")[:CHUNK])
        if not rows:
            return
        last = rows[-1][0]
        updates = [(pk, key) for pk, key in ((pk, address_lookup_key(a)) for pk, a in rows)
                   if key]
        if not updates:
            continue
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} AS p SET address_key = v.k "  # noqa: S608
                    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, k) WHERE p.id = v.id",
                    [[pk for pk, _ in updates], [key for _, key in updates]])
            else:
                cursor.executemany(
                    f"UPDATE {table} SET address_key = %s WHERE id = %s",  # noqa: S608
                    [(key, pk) for pk, key in updates])


class Migration(migrations.Migration):

    dependencies = [
        ('areas', '0001_initial'),
        ('places', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='place',
            name='address_key',
            field=bihuan.places.models.AddressKeyField(blank=True, db_default='', default='', editable=False, max_length=255, verbose_name='address key'),
        ),
        migrations.RunPython(fill_address_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='place',
            index=models.Index(fields=['address_key'], name='place_address_key'),
        ),
        migrations.AddIndex(
            model_name='place',
            index=models.Index(condition=models.Q(('address_key', '')), fields=['address'], name='place_address_unkeyed'),
        ),
    ]
