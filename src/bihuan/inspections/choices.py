from django.db import models
from django.utils.translation import gettext_lazy as _


class InspectionKind(models.TextChoices):
    SELF_CHECK = "self_check", _("Self-check")
    GRID_PATROL = "grid_patrol", _("Grid patrol")
    DEPARTMENT = "department", _("Department inspection")
    CROSS = "cross", _("Cross-inspection")
    SPOT_CHECK = "spot_check", _("Random spot check")
    LOOK_BACK = "look_back", _("Look-back")


class InspectionStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")


class ItemOutcome(models.TextChoices):
    PASS = "pass", _("Compliant")
    FAIL = "fail", _("Hazard found")
    NOT_APPLICABLE = "na", _("Not applicable")


class FollowUpOutcome(models.TextChoices):
    STILL_PRESENT = "still_present", _("Still present")
    RECTIFIED = "rectified", _("Rectified")
    NOT_CHECKED = "not_checked", _("Not checked")
