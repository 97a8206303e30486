"""Login with lockout, and the second factor's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from bihuan.accounts import security


class LoginForm(AuthenticationForm):
    """Django's login form, plus the lockout.

    The messages are the same whether the username exists or not: "wrong" for a wrong
    username or password, "locked" once the username or the address is locked.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The user name or password is wrong."),
        "locked": _("Too many failed logins. Logging in with this user name or from this "
                    "address is locked for %(minutes)d minutes."),
    }

    def _locked_error(self) -> ValidationError:
        minutes = int(security.lockout_window().total_seconds() // 60)
        return ValidationError(self.error_messages["locked"], code="locked",
                               params={"minutes": minutes})

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            # The backend refuses a locked username or address (and records the failure
            # through the ``user_login_failed`` signal, see signals.py).
            self.user_cache = authenticate(self.request, username=username,
                                           password=password)
            if self.user_cache is None:
                if security.is_locked(username, security.client_ip(self.request)):
                    raise self._locked_error()
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class CodeForm(forms.Form):
    code = forms.CharField(label=_("6-digit code from your authenticator app"), max_length=8,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric",
                                                         "autofocus": True}))
