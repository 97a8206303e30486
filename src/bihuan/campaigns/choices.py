from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    """What a campaign target measures; the definitions are the dashboard's (domain.md)."""

    COVERAGE = "coverage", _("Coverage")
    CLOSURE_RATE = "closure_rate", _("Closure rate")
    ON_TIME_RATE = "on_time_rate", _("On-time closure rate")
    OPEN_MAJOR = "open_major", _("Open major hazards")


# Percentages: a target above 100 % can never be met and is refused.
PERCENT_METRICS = frozenset({Metric.COVERAGE, Metric.CLOSURE_RATE, Metric.ON_TIME_RATE})
# Metrics where lower is better (the target is a ceiling, e.g. zero open major hazards).
CEILING_METRICS = frozenset({Metric.OPEN_MAJOR})


class CampaignStatus(models.TextChoices):
    """Where today falls in a campaign's window: derived, never stored."""

    NOT_STARTED = "not_started", _("Not started")
    RUNNING = "running", _("Running")
    ENDED = "ended", _("Ended")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class Duty(models.TextChoices):
    """The three kinds of responsibility (属地 / 部门 / 主体)."""

    TERRITORIAL = "territorial", _("Territorial")
    DEPARTMENTAL = "departmental", _("Departmental")
    PARTY = "party", _("Party's own")


class DrawKind(models.TextChoices):
    CROSS = "cross", _("Cross-inspection")
    LOOK_BACK = "look_back", _("Look-back")
    DUTY = "duty", _("Duty spot check")


class DrawStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Seed published")
    DRAWN = "drawn", _("Drawn")


class CheckResult(models.TextChoices):
    PENDING = "pending", _("Pending")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class DutyResult(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUTED = "refuted", _("Refuted")
