"""Checking what a tenant's form says: the ID-card number and the phone number.

Both return the normalised value or raise ``ValidationFailed`` with a translated
message naming the field, so the service refuses before anything is written.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _

from bihuan.core.errors import ValidationFailed

# GB 11643-1999: weights of the first 17 digits; the sum modulo 11 picks the check character.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
# Mainland mobile numbers: 11 digits from 13x to 19x.
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
# Landlines: a trunk 0 and the area code (010 and 02x are two digits, the others three:
# 0579 is Jinhua, Yongkang's), then a 7- or 8-digit number.
LANDLINE_PATTERN = re.compile(r"^(0[12]\d|0[3-9]\d{2})-?([2-9]\d{6,7})$")


def id_check_character(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str, *, today: dt.date | None = None) -> str:
    """An 18-character resident ID number (GB 11643), upper-case ``X``, checked."""
    number = re.sub(r"\s", "", value or "").upper()
    if not number:
        raise ValidationFailed(_("Enter the ID number."), field="id_number")
    if not ID_PATTERN.match(number):
        raise ValidationFailed(
            _("An ID number has 18 characters: 17 digits and a last digit or X."),
            field="id_number",
        )
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or (today is not None and born > today):
        raise ValidationFailed(_("The birth date in this ID number is not a real date."),
                               field="id_number")
    if id_check_character(number[:17]) != number[17]:
        raise ValidationFailed(
            _("This ID number's check digit is wrong: please check every digit."),
            field="id_number",
        )
    return number


def normalise_phone(value: str) -> str:
    """A mainland mobile (``13812345678``) or landline (``0579-87123456``); ``""`` if blank."""
    phone = re.sub(r"[\s()]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not phone:
        return ""
    if MOBILE_PATTERN.match(phone):
        return phone
    landline = LANDLINE_PATTERN.match(phone)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise ValidationFailed(
        _("Enter a mainland mobile number (11 digits) or a landline with its area code."),
        field="phone",
    )
