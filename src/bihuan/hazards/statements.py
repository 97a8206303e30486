"""The writes of one transition, built as plain statements and sent together.

A transition writes the hazard, its event, its audit entry, the dashboard's
summary rows and the notification's task row. Through ``Model.save()`` that is
one compiled ORM query and one round trip each, and the compiling costs more
client CPU than the database spends on the rows. Here each write is a
statement whose SQL text is built once per model and column set. Its
parameters are the attributes themselves for plain columns (integers, text,
booleans, keys to them) and what the field prepares for the others
(``get_db_prep_save``, as the ORM's own INSERT does). A :class:`Batch` sends
them all in one round trip on PostgreSQL, in the order they were added, in
psycopg's pipeline mode with the parameters bound and the statements prepared
on the server (:func:`_execute`). SQLite (embedded: no round trips to save)
runs them one by one. :func:`select` does the same for the reads that go with
the row lock.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals

Statement = tuple[str, list[Any]]


# Fields whose value goes to the database as the attribute holds it: their
# ``pre_save`` returns the attribute and their ``get_db_prep_save`` returns it
# unchanged for the values the services set (ints, strs, bools, None). Asking
# the field costs more than the statement's share of the round trip.
_PLAIN_FIELDS = frozenset({
    models.AutoField, models.BigAutoField, models.SmallAutoField, models.IntegerField,
    models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
    models.PositiveBigIntegerField, models.PositiveSmallIntegerField, models.BooleanField,
    models.CharField, models.TextField,
})


def _plain(field: models.Field[Any, Any]) -> bool:
    if isinstance(field, models.ForeignKey):
        return _plain(field.target_field)
    return type(field) in _PLAIN_FIELDS


# A field's way to its parameter: its attribute name when plain, else the field.
_Preparer = tuple[str, "models.Field[Any, Any] | None"]


def _preparers(fields: Sequence[models.Field[Any, Any]]) -> tuple[_Preparer, ...]:
    return tuple((f.attname, None if _plain(f) else f) for f in fields)


@functools.cache
def _insert_sql(model: type[models.Model], with_pk: bool) -> tuple[str, tuple[_Preparer, ...]]:
    qn = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(qn(_column(f)) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({values})"  # noqa: S608
    return sql, _preparers(fields)


@functools.cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]
                ) -> tuple[str, tuple[_Preparer, ...]]:
    qn = connection.ops.quote_name
    opts = model._meta
    fields = tuple(cast("models.Field[Any, Any]", opts.get_field(name)) for name in names)
    sets = ", ".join(f"{qn(_column(f))} = %s" for f in fields)
    return (f"UPDATE {qn(opts.db_table)} SET {sets} "  # noqa: S608
            f"WHERE {qn(_column(opts.pk))} = %s"), _preparers(fields)


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None  # a concrete field
    return field.column


def _params(obj: models.Model, preparers: tuple[_Preparer, ...], add: bool) -> list[Any]:
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the per-access proxy
    return [getattr(obj, attname) if field is None
            else field.get_db_prep_save(field.pre_save(obj, add), db)
            for attname, field in preparers]


def insert(obj: models.Model) -> Statement:
    """The INSERT of ``obj`` (its primary key too, when set)."""
    sql, preparers = _insert_sql(type(obj), obj.pk is not None)
    return sql, _params(obj, preparers, True)


def update(obj: models.Model, names: Sequence[str]) -> Statement:
    """The UPDATE of the fields ``names`` of the row of ``obj``."""
    sql, preparers = _update_sql(type(obj), tuple(names))
    return sql, [*_params(obj, preparers, False), obj.pk]


def _pipeline_supported() -> bool:
    try:
        import psycopg
    except ImportError:  # SQLite only
        return False
    return bool(psycopg.Pipeline.is_supported())


_PIPELINE = _pipeline_supported()


def _execute(statements: Sequence[Statement], *, fetch: bool) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` in order; with ``fetch``, the rows of each.

    On PostgreSQL they go in one round trip, in psycopg's pipeline mode, with the
    parameters bound on the server: no query text is built on the client, and each
    statement is prepared once per connection and then only executed (``DB_PREPARE``
    in the settings), so the server does not parse and plan it again. Each statement
    still runs after the previous one, and the first that fails stops the rest.
    SQLite (embedded: no round trips to save) runs them one by one.
    """
    results: list[list[tuple[Any, ...]]] = []
    with connection.cursor() as cursor:  # connects, and checks the transaction is usable
        if connection.vendor != "postgresql":
            for sql, params in statements:
                cursor.execute(sql, params)
                if fetch:
                    results.append(cursor.fetchall())
            return results
        import psycopg

        pg = cursor.connection
        # Prepared unless the settings turned preparing off (prepare_threshold None).
        prepare = pg.prepare_threshold is not None
        started = time.monotonic()
        with connection.wrap_database_errors:
            cursors: list[psycopg.Cursor[Any]] = []
            # Pipeline mode needs libpq 14 or later (psycopg's binary package has it);
            # with an older libpq the statements go one by one.
            with pg.pipeline() if _PIPELINE else contextlib.nullcontext():
                raw = psycopg.Cursor(pg)  # binds on the server (Django's binds on the client)
                for sql, params in statements:
                    if fetch and cursors:  # a cursor holds the rows of its last statement
                        raw = psycopg.Cursor(pg)
                    raw.execute(sql, params, prepare=prepare)
                    cursors.append(raw)
            if fetch:
                results = [raw.fetchall() for raw in cursors]
        if connection.queries_logged:  # DEBUG, or a test counting round trips
            quote = psycopg.ClientCursor(pg).mogrify
            connection.queries_log.append({
                "sql": ";\n".join(quote(sql, params) for sql, params in statements),
                "time": f"{time.monotonic() - started:.3f}",
            })
    return results


def select(statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Run SELECTs in order (each with its own snapshot) and return the rows of each:
    in one round trip on PostgreSQL, like :class:`Batch`."""
    return _execute(statements, fetch=True)


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
            _execute(statements, fetch=False)
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
