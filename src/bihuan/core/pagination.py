"""Keyset (cursor) pagination for every list: page 100 costs what page 1 costs."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination


class OrderedCursorPagination(CursorPagination):
    """Keyset pagination on the view's own ``ordering`` (unique: it ends with the id)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", None) or "-id"
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)
