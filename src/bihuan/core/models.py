from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """An administrator's override of the holiday calendar for one date.

    The holiday library knows the State Council's published years; for a year it
    does not know yet (or a local adjustment), an override says whether the date
    is a working day, including make-up working weekends (调休).
    """

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date} {'working' if self.is_working_day else 'rest'}"


class ApiToken(models.Model):
    """A system's credential for the API (``Authorization: Token …``).

    Only the SHA-256 of the secret is stored: the secret is shown once, when the
    token is created (``bihuan api-token create USER`` or the admin), and cannot be
    read back. The token acts as its user, with that user's scope.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the secret: enough to recognise a token in a list.
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(_("SHA-256 of the secret"), max_length=64, unique=True,
                              editable=False)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True,
                                        editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header.

    A retry with the same key (same owner) gets this answer back and writes
    nothing; the unique constraint makes concurrent duplicates queue behind the
    first one's transaction. Keys expire after ``BIHUAN_IDEMPOTENCY_HOURS``.
    """

    # Whose key: "token:<id>", "user:<id>" or, for anonymous Open311 clients,
    # "anon:<keyed hash of the address>". Keys of different owners never meet.
    owner = models.CharField(_("owner"), max_length=80)
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    content_type = models.CharField(_("content type"), max_length=100)
    response_body = models.BinaryField(_("response body"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_once"),
        ]
        # The purge of expired keys reads by age.
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
