from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    PLACES = "places", _("Places and responsible parties")
    HAZARDS = "hazards", _("Hazard ledger")
    TENANTS = "tenants", _("Tenants (floating-population registration)")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class DuplicateDecision(models.TextChoices):
    SKIP = "skip", _("Skip this row")
    MERGE = "merge", _("Merge into the existing place")
    CREATE = "create", _("Create anyway")
