"""Domain errors: each carries a translated, user-facing message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refused request: nothing was written. ``code`` is stable for API clients."""

    code = "invalid"
    default_message = _("The request is invalid.")
    http_status = 400

    def __init__(self, message: object | None = None, *, field: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    code = "invalid"


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    default_message = _("This action is not possible in the hazard's current state.")
    http_status = 409


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = _("You may not take this action.")
    http_status = 403


class NotFound(DomainError):
    """Out of scope and absent look the same: never leak existence."""

    code = "not_found"
    default_message = _("Not found.")
    http_status = 404


class Conflict(DomainError):
    code = "conflict"
    default_message = _(
        "Someone else changed this record at the same time. Reload it and try again."
    )
    http_status = 409


class StorageFull(DomainError):
    """The upload disk is full: the request is refused whole, to be retried later."""

    code = "storage_full"
    default_message = _(
        "The server's storage space is full, so nothing was saved. Try again later, or "
        "tell the system administrator."
    )
    http_status = 507
