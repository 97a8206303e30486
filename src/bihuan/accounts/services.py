"""Granting and revoking roles; every permission change is audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from bihuan.accounts.models import Membership, OrgUnit, User
from bihuan.accounts.scopes import forget_scope
from bihuan.areas.models import Area
from bihuan.audit import services as audit
from bihuan.core.errors import ValidationFailed


@transaction.atomic
def grant_role(
    *,
    actor: Any | None,
    user: User,
    role: str,
    area: Area | None = None,
    org_unit: OrgUnit | None = None,
    client_ip: str | None = None,
) -> Membership:
    membership = Membership(user=user, role=role, area=area, org_unit=org_unit)
    try:
        membership.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages)) from None
    existing = Membership.objects.filter(user=user, role=role, area=area,
                                         org_unit=org_unit).first()
    if existing is not None:
        if existing.active:
            raise ValidationFailed(_("The user already holds this role here."))
        existing.active = True
        existing.save(update_fields=["active"])
        membership = existing
    else:
        membership.save()
    forget_scope(user)
    audit.record("membership.grant", actor=actor, obj=user, stream="permissions",
                 client_ip=client_ip,
                 data={"user": user.pk, "role": role, "area": area.code if area else None,
                       "org_unit": org_unit.code if org_unit else None})
    return membership


@transaction.atomic
def revoke_role(*, actor: Any | None, membership: Membership,
                client_ip: str | None = None) -> None:
    membership.active = False
    membership.save(update_fields=["active"])
    forget_scope(membership.user)
    audit.record("membership.revoke", actor=actor, obj=membership.user, stream="permissions",
                 client_ip=client_ip, data={"membership": membership.pk,
                                            "role": membership.role})
