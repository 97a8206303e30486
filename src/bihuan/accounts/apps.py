from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "bihuan.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from bihuan.accounts import checks, signals  # noqa: F401 - registers receivers/checks
