from django.db import models
from django.utils.translation import gettext_lazy as _


class ChecklistDomain(models.TextChoices):
    FIRE = "fire", _("Fire safety")
    CIVILIZED = "civilized", _("Civilized city")


class ChecklistStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class ItemSeverity(models.TextChoices):
    ON_THE_SPOT = "on_the_spot", _("Fix on the spot")
    GENERAL = "general", _("General")
    MAJOR_CANDIDATE = "major_candidate", _("Candidate major")
