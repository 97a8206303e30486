"""Queries compiled once and run again with other values: for the hottest paths.

Compiling a queryset to SQL costs more client CPU than the database spends on a
primary-key lookup. A :class:`Compiled` query is built from an ordinary queryset
in which some values are *stand-ins* (negative integers no row has as an id);
:meth:`Compiled.statement` puts the real values in their places, and
:meth:`Compiled.rows` runs the rows through the ORM's own converters (SQLite's
dates are text, JSON is decoded, ...). The queryset stays the one source of the
SQL, so scoping and model changes reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Compiled:
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, tuple[int, ...]]  # stand-in name → positions in params
    fields: list[str]  # the model's columns, first in the row (empty for values_list)
    annotations: dict[str, int]
    converters: dict[int, Any]

    @classmethod
    def of(cls, queryset: Any, *, required: tuple[str, ...] = (), **stand_ins: int
           ) -> Compiled:
        """Compile ``queryset``; ``stand_ins`` name the values to replace later.

        A stand-in named in ``required`` must appear exactly once.
        """
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = {name: tuple(i for i, p in enumerate(params) if type(p) is int and p == value)
                 for name, value in stand_ins.items()}
        for name in required:
            if len(slots[name]) != 1:  # pragma: no cover - a programming error
                raise AssertionError(f"the query names {name} {len(slots[name])} times")
        fields: list[str] = []
        if compiler.klass_info is not None:
            first, *_middle, last = compiler.klass_info["select_fields"]
            fields = [col.target.attname for col, _s, _a in compiler.select[first:last + 1]]
        converters = compiler.get_converters([s[0] for s in compiler.select[:compiler.col_count]])
        return cls(compiler, sql, tuple(params), slots, fields,
                   dict(compiler.annotation_col_map), converters)

    def statement(self, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters, with ``values`` in the places of the stand-ins."""
        params = list(self.params)
        for name, value in values.items():
            for at in self.slots[name]:
                params[at] = value
        return self.sql, params

    def rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``rows`` as the database sent them, through the ORM's converters."""
        if not self.converters or not rows:
            return rows
        return [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]

    def row(self, rows: list[tuple[Any, ...]]) -> tuple[Any, ...] | None:
        """The one row (None: no row)."""
        return self.rows(rows[:1])[0] if rows else None
