from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "bihuan.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from bihuan.audit import signals  # noqa: F401 - registers the admin log receiver
