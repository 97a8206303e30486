"""The writes of one transition, built as plain statements and sent together.

A transition writes the hazard, its event, its audit entry, the dashboard's
summary rows and the notification's task row. Through ``Model.save()`` that is
one compiled ORM query and one round trip each, and the compiling costs more
client CPU than the database spends on the rows. Here each write is a
statement whose SQL text is built once per model and column set, with the
parameters prepared by the fields themselves (``get_db_prep_save``, as the
ORM's own INSERT does), and a :class:`Batch` sends them all in one round trip
on PostgreSQL, in the order they were added. SQLite (embedded: no round
trips to save) runs them one by one. :func:`select` does the same for the
reads that go with the row lock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db import connection, models
from django.db.models import signals

Statement = tuple[str, list[Any]]


@functools.cache
def _insert_sql(model: type[models.Model], with_pk: bool
                ) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    qn = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(qn(_column(f)) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({values})", fields  # noqa: S608


@functools.cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]
                ) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    qn = connection.ops.quote_name
    opts = model._meta
    fields = tuple(cast("models.Field[Any, Any]", opts.get_field(name)) for name in names)
    sets = ", ".join(f"{qn(_column(f))} = %s" for f in fields)
    return (f"UPDATE {qn(opts.db_table)} SET {sets} "  # noqa: S608
            f"WHERE {qn(_column(opts.pk))} = %s"), fields


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None  # a concrete field
    return field.column


def insert(obj: models.Model) -> Statement:
    """The INSERT of ``obj`` (its primary key too, when set)."""
    sql, fields = _insert_sql(type(obj), obj.pk is not None)
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def update(obj: models.Model, names: Sequence[str]) -> Statement:
    """The UPDATE of the fields ``names`` of the row of ``obj``."""
    sql, fields = _update_sql(type(obj), tuple(names))
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    return sql, [*params, obj.pk]


def _combined(cursor: Any, statements: Sequence[Statement]) -> str | None:
    """``statements`` as one query text, or None where they must go one by one.

    psycopg's client-side binding cursor (Django's default on PostgreSQL) sends a
    query without parameters with the simple protocol, which runs several statements
    in order in one round trip (each with its own snapshot). Each statement is bound
    on its own by the cursor (``mogrify``, which caches the parsing of short texts).
    """
    if connection.vendor != "postgresql":
        return None
    import psycopg

    raw = cursor.cursor
    if not isinstance(raw, psycopg.ClientCursor):  # server-side binding: one by one
        return None
    return ";\n".join(raw.mogrify(sql, params) for sql, params in statements)


def select(statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Run SELECTs in order (each with its own snapshot) and return the rows of each:
    in one round trip on PostgreSQL, like :class:`Batch`."""
    results: list[list[tuple[Any, ...]]] = []
    with connection.cursor() as cursor:
        combined = _combined(cursor, statements)
        if combined is not None:
            cursor.execute(combined)
            results.append(cursor.fetchall())
            while cursor.nextset():
                results.append(cursor.fetchall())
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
    return results


class Batch:
    """Statements to run in order, in the caller's transaction, with few round trips.

    ``add_insert`` / ``add_update`` queue the write of a model instance, with the
    ``pre_save`` signal at once and ``post_save`` once it has run, as ``save()``
    sends them; ``add`` queues any other statement; ``insert_now`` runs the INSERT
    of a row whose generated key the caller needs at once (after whatever is queued);
    ``after`` queues a callable to run once the statements have run.
    """

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.saved: list[tuple[models.Model, tuple[str, ...] | None]] = []  # None: inserted
        self.callbacks: list[Callable[[], None]] = []

    def add(self, statement: Statement) -> None:
        self.statements.append(statement)

    def add_insert(self, obj: models.Model) -> None:
        _pre_save(obj, None)
        self.add(insert(obj))
        self.saved.append((obj, None))

    def add_update(self, obj: models.Model, names: Sequence[str]) -> None:
        _pre_save(obj, tuple(names))
        self.add(update(obj, names))
        self.saved.append((obj, tuple(names)))

    def insert_now(self, obj: models.Model) -> None:
        """INSERT ``obj`` now and set its generated primary key."""
        self.run()
        _pre_save(obj, None)
        sql, params = insert(obj)
        with connection.cursor() as cursor:
            if connection.features.can_return_columns_from_insert:
                pk = connection.ops.quote_name(_column(obj._meta.pk))
                cursor.execute(f"{sql} RETURNING {pk}", params)
                obj.pk = cursor.fetchone()[0]
            else:
                cursor.execute(sql, params)
                obj.pk = cursor.lastrowid
        _saved(obj, None)

    def after(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def run(self) -> None:
        statements, self.statements = self.statements, []
        if statements:
            with connection.cursor() as cursor:
                combined = _combined(cursor, statements)
                if combined is not None:
                    cursor.execute(combined)
                else:
                    for sql, params in statements:
                        cursor.execute(sql, params)
        saved, self.saved = self.saved, []
        for obj, names in saved:
            _saved(obj, names)
        callbacks, self.callbacks = self.callbacks, []
        for callback in callbacks:
            callback()


def _pre_save(obj: models.Model, names: tuple[str, ...] | None) -> None:
    signals.pre_save.send(sender=type(obj), instance=obj, raw=False, using=connection.alias,
                          update_fields=frozenset(names) if names else None)


def _saved(obj: models.Model, names: tuple[str, ...] | None) -> None:
    created = names is None
    obj._state.adding = False
    obj._state.db = connection.alias
    signals.post_save.send(sender=type(obj), instance=obj, created=created, raw=False,
                           using=connection.alias,
                           update_fields=frozenset(names) if names else None)
