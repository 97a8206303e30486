from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "bihuan.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from bihuan.core import signals  # noqa: F401
