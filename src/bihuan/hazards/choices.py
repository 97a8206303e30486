from django.db import models
from django.utils.translation import gettext_lazy as _


class HazardState(models.TextChoices):
    REPORTED = "reported", _("Reported, to be confirmed")
    RECTIFYING = "rectifying", _("Rectifying")
    PENDING_VERIFICATION = "pending_verification", _("Pending verification")
    ENFORCEMENT = "enforcement", _("Handed over to enforcement")
    CLOSED = "closed", _("Closed")
    DISMISSED = "dismissed", _("Dismissed")
    VOIDED = "voided", _("Voided")


OPEN_STATES = frozenset(
    {
        HazardState.REPORTED,
        HazardState.RECTIFYING,
        HazardState.PENDING_VERIFICATION,
        HazardState.ENFORCEMENT,
    }
)
# Overdue means the responsible party is late: only while it is the party's turn.
OVERDUE_STATES = frozenset({HazardState.RECTIFYING})


class Severity(models.TextChoices):
    ON_THE_SPOT = "on_the_spot", _("Fix on the spot")
    GENERAL = "general", _("General")
    MAJOR = "major", _("Major")


class HazardSource(models.TextChoices):
    INSPECTION = "inspection", _("Inspection")
    SELF_CHECK = "self_check", _("Self-check")
    CITIZEN_REPORT = "citizen_report", _("Citizen report")
    HOTLINE = "hotline", _("Hotline hand-over")


class SupervisionLevel(models.TextChoices):
    NONE = "none", _("None")
    TOWN = "town", _("Town")
    CITY = "city", _("City")


class HazardAction(models.TextChoices):
    REGISTER = "register", _("Registered")
    REPORT = "report", _("Reported")
    RECTIFY_ON_SPOT = "rectify_on_spot", _("Rectified on the spot")
    CONFIRM = "confirm", _("Confirmed")
    DISMISS = "dismiss", _("Dismissed")
    SUBMIT_RECTIFICATION = "submit_rectification", _("Rectification submitted")
    VERIFY_PASS = "verify_pass", _("Verified and closed")
    VERIFY_FAIL = "verify_fail", _("Verification failed")
    HAND_OVER = "hand_over", _("Handed over to enforcement")
    ENFORCEMENT_RESULT = "enforcement_result", _("Enforcement result recorded")
    LOOK_BACK_PASS = "look_back_pass", _("Look-back passed")
    LOOK_BACK_FAIL = "look_back_fail", _("Look-back failed, reopened")
    VOID = "void", _("Voided")
    REQUEST_EXTENSION = "request_extension", _("Extension requested")
    APPROVE_EXTENSION = "approve_extension", _("Extension approved")
    REFUSE_EXTENSION = "refuse_extension", _("Extension refused")
    DECIDE_MAJOR = "decide_major", _("Major hazard decided")
    REJECT_MAJOR = "reject_major", _("Major hazard candidate rejected")
    LIST_SUPERVISION = "list_supervision", _("Listed for supervision")
    DELIST_SUPERVISION = "delist_supervision", _("De-listed from supervision")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class EvidenceKind(models.TextChoices):
    BEFORE = "before", _("Before")
    AFTER = "after", _("After")
    DOCUMENT = "document", _("Document")
