"""Users, organisational units, role memberships and inspection teams."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from bihuan.accounts.choices import ADMIN_ROLES, AREA_ROLES, OrgUnitKind, Role


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    # When the password was last set: administrators must change it every N days.
    password_changed_at = models.DateTimeField(_("password changed at"), null=True,
                                               blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_password(self, raw_password: str | None) -> None:
        from bihuan.core import clock

        super().set_password(raw_password)
        self.password_changed_at = clock.now()


class LoginFailure(models.Model):
    """One failed login, kept to lock out guessing per username and per client address.

    The username is stored as typed (it need not exist): the lockout must behave the
    same for existing and unknown accounts. Never the password.
    """

    username = models.CharField(_("username"), max_length=150, db_index=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True,
                                             db_index=True)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"


class TOTPDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238): the second factor."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp",
                                verbose_name=_("user"))
    secret = models.CharField(_("secret"), max_length=64)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # The last time step accepted: a code is good once (no replay within its window).
    last_step = models.BigIntegerField(_("last time step used"), default=0)

    class Meta:
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")

    def __str__(self) -> str:
        return str(self.user)


class OrgUnit(models.Model):
    """A department (fire brigade, market regulation, ...), the command HQ or a town office."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgUnitKind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, verbose_name=_("area"))
    # Place kinds a department has jurisdiction over, city-wide (empty: none).
    place_kinds = models.JSONField(_("place kinds in jurisdiction"), default=list, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisational unit")
        verbose_name_plural = _("organisational units")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One role held by a user in an area (and, for departments, an org unit)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships",
                             verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, null=True, blank=True,
                             verbose_name=_("area"))
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True,
                                 verbose_name=_("organisational unit"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "area", "org_unit"],
                                    name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area or self.org_unit or ''}"

    def clean(self) -> None:
        if self.role in AREA_ROLES and self.area_id is None:
            raise ValidationError({"area": _("This role needs an area.")})
        if self.role == Role.DEPT_INSPECTOR and self.org_unit_id is None:
            raise ValidationError({"org_unit": _("A department inspector needs a department.")})
        if self.role in ADMIN_ROLES:
            others = (
                Membership.objects.filter(user_id=self.user_id, role__in=ADMIN_ROLES, active=True)
                .exclude(role=self.role)
                .exclude(pk=self.pk)
            )
            if others.exists():
                raise ValidationError(
                    _("The system, security and audit administrator roles are mutually "
                      "exclusive.")
                )


class Team(models.Model):
    """An inspection team (检查组), based in a town; used for cross-inspections."""

    name = models.CharField(_("name"), max_length=100)
    home_area = models.ForeignKey("areas.Area", on_delete=models.PROTECT,
                                  verbose_name=_("home area"))
    members = models.ManyToManyField(User, related_name="teams", blank=True,
                                     verbose_name=_("members"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("inspection team")
        verbose_name_plural = _("inspection teams")

    def __str__(self) -> str:
        return self.name


class UserSession(AbstractBaseSession):
    """A login session, stored with the id of its user (``bihuan.accounts.sessions``).

    The column lets one query read the session and its user on every request; the
    session's own data stays what authenticates (the user id, the backend and the
    password hash Django checks). No foreign-key constraint: as with Django's own
    sessions, a user's deletion leaves their sessions to expire, and they no longer
    authenticate anyone.
    """

    user = models.ForeignKey(User, on_delete=models.DO_NOTHING, db_constraint=False,
                             null=True, blank=True, related_name="+",
                             verbose_name=_("user"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        from bihuan.accounts.sessions import SessionStore

        return SessionStore
