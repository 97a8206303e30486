"""``{% hazard_campaign_links hazard %}``: on a hazard's page, the tasks and the
responsible people it falls under (the problem list linked to the other two)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("campaigns/_hazard_links.html", takes_context=True)
def hazard_campaign_links(context: Any, hazard: Any) -> dict[str, Any]:
    from bihuan.campaigns.services import links_for_hazard

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not context.get("is_official"):
        return {"tasks": [], "people": []}
    tasks, people = links_for_hazard(hazard, user)
    return {"tasks": tasks, "people": people}
