"""``{% tenants_section place %}``: the tenants card on a rental place's page."""

from __future__ import annotations

from typing import Any

from django import template

from bihuan.core import clock
from bihuan.tenants import services

register = template.Library()


@register.inclusion_tag("tenants/_place_section.html", takes_context=True)
def tenants_section(context: template.Context, place: Any) -> dict[str, Any]:
    """Counts only (no personal data): who lives here, and rooms over the limit."""
    rooms = services.occupancy(place, clock.today())
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "place": place,
        "living": sum(r.people for r in rooms),
        "overcrowded": [r for r in rooms if r.overcrowded],
        "max_per_room": services.max_per_room(),
        "may_register": services.may_register(user, place) if user is not None else False,
        "is_official": context.get("is_official", False),
    }
