"""Loading built-in checklists and publishing new versions."""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from bihuan.audit import services as audit
from bihuan.checklists.builtin import ChecklistDefinition, load_builtin_definitions
from bihuan.checklists.choices import ChecklistStatus
from bihuan.checklists.models import Checklist, ChecklistItem, DeadlineRule
from bihuan.core import clock
from bihuan.core.errors import ValidationFailed

DEADLINE_RULES = [
    ("WD1", "24小时（1个工作日）", 1),
    ("WD3", "3个工作日", 3),
    ("WD7", "7个工作日", 7),
    ("WD15", "15个工作日", 15),
    ("WD30", "30个工作日", 30),
]


def ensure_deadline_rules() -> dict[str, DeadlineRule]:
    rules = {}
    for code, name, days in DEADLINE_RULES:
        rule, _created = DeadlineRule.objects.get_or_create(
            code=code, defaults={"name": name, "working_days": days}
        )
        rules[code] = rule
    return rules


@transaction.atomic
def publish_definition(definition: ChecklistDefinition, *, actor: Any | None = None) -> Checklist:
    """Create ``definition`` as a new active version; older versions of the code retire.

    Past inspections keep pointing at the version they used, whose items never change.
    """
    if Checklist.objects.filter(code=definition.code, version=definition.version).exists():
        raise ValidationFailed(
            _("Checklist %(code)s version %(version)d already exists.")
            % {"code": definition.code, "version": definition.version}
        )
    latest = Checklist.objects.filter(code=definition.code).order_by("-version").first()
    if latest is not None and latest.version >= definition.version:
        raise ValidationFailed(_("A new version must have a higher version number."))
    rules = ensure_deadline_rules()
    Checklist.objects.filter(code=definition.code, status=ChecklistStatus.ACTIVE).update(
        status=ChecklistStatus.RETIRED
    )
    checklist = Checklist.objects.create(
        code=definition.code, version=definition.version, domain=definition.domain,
        name=definition.name, name_en=definition.name_en,
        place_kinds=list(definition.place_kinds), status=ChecklistStatus.ACTIVE,
        published_at=clock.now(),
    )
    ChecklistItem.objects.bulk_create(
        [
            ChecklistItem(
                checklist=checklist, code=item.code, order=item.order, category=item.category,
                category_en=item.category_en, text=item.text, text_en=item.text_en,
                requirement=item.requirement, requirement_en=item.requirement_en,
                severity=item.severity, deadline_rule=rules[item.deadline_rule],
                legal_basis=item.legal_basis, legal_basis_en=item.legal_basis_en,
            )
            for item in definition.items
        ]
    )
    audit.record("checklist.publish", actor=actor, obj=checklist,
                 data={"code": checklist.code, "version": checklist.version,
                       "items": len(definition.items)})
    return checklist


@functools.cache
def _builtin_definitions() -> tuple[ChecklistDefinition, ...]:
    # The files ship with the code: parse them once per process.
    return tuple(load_builtin_definitions())


def load_builtin(*, actor: Any | None = None) -> list[Checklist]:
    """Publish every built-in checklist whose version is not in the database yet."""
    ensure_deadline_rules()
    published = []
    for definition in _builtin_definitions():
        if Checklist.objects.filter(code=definition.code, version__gte=definition.version).exists():
            continue
        published.append(publish_definition(definition, actor=actor))
    return published
