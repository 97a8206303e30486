from django.urls import path

from bihuan.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("me/", views.profile, name="profile"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
]
