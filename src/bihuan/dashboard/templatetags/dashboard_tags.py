"""Formatting of the dashboard's rates and ranking components."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: float | None, digits: int = 1) -> str:
    """A share 0..1 as a percentage; an em dash when there is nothing to divide by."""
    if value is None:
        return "—"
    return f"{100 * value:.{digits}f}%"


@register.filter
def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}"


@register.filter
def component(row: Any, key: str) -> float | None:
    """A ranking row's component (``row|component:"coverage"``)."""
    value: float | None = row.components.get(key)
    return value


@register.filter
def raw_rate(row: Any, key: str) -> float | None:
    value: float | None = row.raw.get(key)
    return value
