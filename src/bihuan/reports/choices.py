from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    NEW = "new", _("Received, to be checked")
    ACCEPTED = "accepted", _("Accepted as a hazard")
    DISMISSED = "dismissed", _("Dismissed")
    DUPLICATE = "duplicate", _("Duplicate of an earlier report")
