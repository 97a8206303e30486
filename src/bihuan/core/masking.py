"""Masking personal data (PIPL): phone numbers, ID-card numbers, names.

Personal data is shown masked by default, everywhere: lists, pages, exports.
Only a user :func:`may_see_personal_data` sees it in full, and every unmasked
view worth recording goes through :func:`record_unmasked_view` (an audit entry
in the ``personal-data`` stream, naming who saw which object's which fields).

Who may see it is configuration, not code: ``settings.BIHUAN_PERSONAL_DATA_ROLES``
(environment ``BIHUAN_PERSONAL_DATA_ROLES``, comma-separated role codes). The
default is empty: nobody sees unmasked personal data until an administrator
decides who needs it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

MASK = "*"


def mask_phone(phone: str | None) -> str:
    """``13812341234`` → ``138****1234``; short numbers keep only their last two digits."""
    value = (phone or "").strip()
    if not value:
        return ""
    if len(value) >= 7:
        return value[:3] + MASK * 4 + value[-4:]
    if len(value) <= 2:
        return MASK * len(value)
    return MASK * (len(value) - 2) + value[-2:]


def mask_id_number(number: str | None) -> str:
    """``33078419900101123X`` → ``330784********123X``: the region code and the last four.

    The birth date in the middle is what the mask exists to hide.
    """
    value = (number or "").strip()
    if not value:
        return ""
    if len(value) <= 8:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``张**``: the family name only."""
    value = (name or "").strip()
    if len(value) <= 1:
        return value
    return value[0] + MASK * (len(value) - 1)


def personal_data_roles() -> frozenset[str]:
    return frozenset(getattr(settings, "BIHUAN_PERSONAL_DATA_ROLES", ()) or ())


def may_see_personal_data(user: Any) -> bool:
    """Whether ``user`` may see personal data unmasked (default: no one)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    allowed = personal_data_roles()
    if not allowed:
        return False
    from bihuan.accounts.scopes import scope_of

    return bool(scope_of(user).roles() & allowed)


def phone_for(user: Any, phone: str | None, *, unmasked: bool | None = None) -> str:
    """The phone as ``user`` may see it (pass ``unmasked`` to skip the check per row)."""
    show = may_see_personal_data(user) if unmasked is None else unmasked
    return (phone or "") if show else mask_phone(phone)


def id_number_for(user: Any, number: str | None, *, unmasked: bool | None = None) -> str:
    show = may_see_personal_data(user) if unmasked is None else unmasked
    return (number or "") if show else mask_id_number(number)


def record_unmasked_view(user: Any, *, obj: Any = None, fields: list[str],
                         purpose: str = "view", client_ip: str | None = None) -> None:
    """Log that ``user`` saw ``fields`` of ``obj`` unmasked (PIPL: every unmasked view)."""
    from bihuan.audit import services as audit

    data: dict[str, Any] = {"fields": fields, "purpose": purpose}
    if obj is not None:
        data["object"] = f"{obj._meta.label_lower}:{obj.pk}"
    audit.record("personal_data.unmasked", actor=user, stream="personal-data", data=data,
                 client_ip=client_ip)
