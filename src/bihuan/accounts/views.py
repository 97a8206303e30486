"""Login (with lockout), the second factor, logout, password change and the user's roles."""

from __future__ import annotations

from typing import cast

import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bihuan.accounts import security
from bihuan.accounts.forms import CodeForm, LoginForm
from bihuan.accounts.models import Membership, User


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=cast(User, request.user), active=True)
        .select_related("area", "org_unit")
        .order_by("role")
    )
    return render(request, "accounts/profile.html", {"memberships": memberships})


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("home")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a code from the user's authenticator app."""
    user = cast(User, request.user)
    if security.confirmed_device(user) is None:
        return redirect(f"{reverse('accounts:two_factor_setup')}?next={_next_url(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if security.verify_code(user, form.cleaned_data["code"],
                                security.client_ip(request)):
            request.session.cycle_key()
            security.mark_verified(request)
            return redirect(_next_url(request))
        form.add_error("code", _("The code is wrong or was already used. Wait for the next "
                                 "code and try again."))
    return render(request, "accounts/two_factor.html",
                  {"form": form, "next": _next_url(request)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code (or type the key), confirm one code.

    Once enrolled, a user cannot enrol again by themselves: a lost phone is reset by the
    security administrator (who deletes the authenticator in the admin).
    """
    user = cast(User, request.user)
    if security.confirmed_device(user) is not None:
        return redirect(f"{reverse('accounts:two_factor')}?next={_next_url(request)}")
    secret = request.session.get(security.SESSION_ENROL_SECRET)
    if not secret:
        secret = security.new_secret()
        request.session[security.SESSION_ENROL_SECRET] = secret
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if security.confirm_enrolment(user, secret, form.cleaned_data["code"],
                                      security.client_ip(request)):
            del request.session[security.SESSION_ENROL_SECRET]
            request.session.cycle_key()
            security.mark_verified(request)
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next_url(request))
        form.add_error("code", _("The code is wrong. Check the time on your phone and try "
                                 "again."))
    uri = security.provisioning_uri(user, secret)
    # An inline SVG (markup, no script, no style attribute): allowed by the strict CSP.
    qr_svg = mark_safe(segno.make(uri, error="m").svg_inline(  # noqa: S308 - segno's own markup
        scale=4, omitsize=False, svgclass="totp-qr", lineclass="totp-qr-line"))
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "qr_svg": qr_svg, "secret": grouped, "next": _next_url(request),
    })
