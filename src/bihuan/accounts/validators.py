"""Password rules beyond Django's own (graded protection level 3)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower-case letters, upper-case letters, digits, others."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    @staticmethod
    def classes(password: str) -> int:
        return sum((
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ))

    def validate(self, password: str, user: Any = None) -> None:
        if self.classes(password) < self.min_classes:
            raise ValidationError(
                _("The password must mix at least %(count)d of: lower-case letters, "
                  "upper-case letters, digits and other characters.")
                % {"count": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("Mix at least %(count)d of: lower-case letters, upper-case letters, digits "
                 "and other characters.") % {"count": self.min_classes}
