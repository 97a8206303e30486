"""Login, logout, password change and the user's own roles."""

from __future__ import annotations

from typing import cast

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from bihuan.accounts.models import Membership, User


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        from django.contrib import messages
        from django.utils.translation import gettext as _

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
