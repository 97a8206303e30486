"""Summary rows behind the dashboard, kept in step with every transition.

Each counter is a *stock* kept as a difference array: ``AreaDayStats`` holds,
per area, campaign and day, how much each counter changed on that day (days
may lie in the future: a hazard whose deadline is next week starts to count
as overdue then), and ``AreaStats`` holds the sum of every delta ever made.
The value of a counter at the end of day D is therefore

    AreaStats − Σ AreaDayStats where day > D

which for today reads only the few rows dated after today. Rows are keyed by
the hazard's (or inspection's) own area: a transition touches one small row
set, never a row shared by the whole city, and readers sum over the
materialised path. See docs/dashboard.md.

``campaign_key`` is the campaign's id, or 0 for records outside any campaign
(an integer rather than a nullable key, because NULLs never conflict in the
``ON CONFLICT`` upsert). The ``covered`` column is the one exception: in the
row of key 0 it counts places inspected by *any* official inspection, in the
row of a campaign those inspected by that campaign's inspections.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Stamps stay below 2**46: SQLite's SUM of integers fails on overflow, and a sum
# over 100,000 rows stays in range; a change goes unnoticed only if the new
# random stamp equals the old one (1 in 7 * 10**13).
STAMP_BITS = 46


def new_stamp() -> int:
    """A random stamp for a summary row being written (never 0, the migration's default)."""
    return secrets.randbits(STAMP_BITS) or 1


# The counters, in the order of the columns. Every one is a stock (see above).
COUNTERS = (
    "found",           # registered, not (now) dismissed or voided
    "closed",          # closed at the end of the day
    "closed_on_time",  # ... whose rectification came by the deadline in force
    "open",            # in an open state
    "overdue",         # rectifying, clock running, deadline passed
    "major_open",      # open and major
    "look_backs",      # look-backs done
    "recurrences",     # look-backs that failed
    "cross_found",     # found by a cross-inspection or look-back inspection
    "missed",          # ... where a local team had recently passed the place as clean
    "covered",         # places with a first qualifying inspection
)


class AreaStats(models.Model):
    """The running total of every delta of one area and campaign."""

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("area"))
    campaign_key = models.IntegerField(_("campaign"), default=0)
    found = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    major_open = models.IntegerField(default=0)
    look_backs = models.IntegerField(default=0)
    recurrences = models.IntegerField(default=0)
    cross_found = models.IntegerField(default=0)
    missed = models.IntegerField(default=0)
    covered = models.IntegerField(default=0)
    # A fresh random number on every write of the row (see ``new_stamp``). Every
    # change of a day row of (area, campaign) rewrites this row in the same
    # statement batch, so COUNT and SUM(stamp) over a subtree's rows change with
    # any change of its summary rows: the key of the dashboard's cached pieces.
    stamp = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("area totals")
        verbose_name_plural = _("area totals")
        constraints = [
            models.UniqueConstraint(fields=["area", "campaign_key"], name="area_stats_key"),
        ]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.campaign_key}"


class AreaDayStats(models.Model):
    """How much each counter of one area and campaign changed on one day."""

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("area"))
    campaign_key = models.IntegerField(_("campaign"), default=0)
    day = models.DateField(_("day"))
    found = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    major_open = models.IntegerField(default=0)
    look_backs = models.IntegerField(default=0)
    recurrences = models.IntegerField(default=0)
    cross_found = models.IntegerField(default=0)
    missed = models.IntegerField(default=0)
    covered = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("area day changes")
        verbose_name_plural = _("area day changes")
        constraints = [
            models.UniqueConstraint(fields=["area", "campaign_key", "day"],
                                    name="area_day_stats_key"),
        ]
        indexes = [
            # The dashboard reads "every row after day D": by day first.
            models.Index(fields=["day"], name="area_day_stats_day"),
        ]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.campaign_key}/{self.day}"


class HazardMetricState(models.Model):
    """What one hazard currently contributes to the summary rows.

    The next transition compares the hazard's new contribution with this one
    and writes only the difference; ``overdue_from`` remembers the day on which
    its +1 to ``overdue`` was booked, so the matching −1 lands right.
    """

    hazard = models.OneToOneField("hazards.Hazard", on_delete=models.CASCADE, primary_key=True,
                                  related_name="+", verbose_name=_("hazard"))
    found = models.BooleanField(default=False)
    open = models.BooleanField(default=False)
    closed = models.BooleanField(default=False)
    closed_on_time = models.BooleanField(default=False)
    major_open = models.BooleanField(default=False)
    overdue_from = models.DateField(null=True, blank=True)
    episode_deadline = models.DateField(null=True, blank=True)
    cross_found = models.BooleanField(default=False)
    missed = models.BooleanField(default=False)
    submitted_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("hazard contribution")
        verbose_name_plural = _("hazard contributions")

    def __str__(self) -> str:
        return str(self.hazard_id)


class PlaceCoverage(models.Model):
    """The first qualifying inspection of a place, overall (key 0) and per campaign."""

    place = models.ForeignKey("places.Place", on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("place"))
    campaign_key = models.IntegerField(_("campaign"), default=0)
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("area"))
    first_on = models.DateField(_("first inspected on"))

    class Meta:
        verbose_name = _("place coverage")
        verbose_name_plural = _("place coverage")
        constraints = [
            models.UniqueConstraint(fields=["place", "campaign_key"], name="place_coverage_key"),
        ]

    def __str__(self) -> str:
        return f"{self.place_id}/{self.campaign_key} {self.first_on}"


class AreaPlaceCount(models.Model):
    """Active places per area and kind: the denominators, without counting places.

    Kept by the ``Place`` signals in ``bihuan.dashboard.signals`` (+1/−1 in the
    saving transaction); bulk loads are followed by ``bihuan metrics rebuild``.
    """

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("area"))
    kind = models.CharField(_("kind"), max_length=30)
    places = models.IntegerField(_("places"), default=0)
    # Rewritten with every change of the count (and when the area moves): see AreaStats.
    stamp = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("place count")
        verbose_name_plural = _("place counts")
        constraints = [
            models.UniqueConstraint(fields=["area", "kind"], name="area_place_count_key"),
        ]

    def __str__(self) -> str:
        return f"{self.area_id}/{self.kind}: {self.places}"


class RankingWeights(models.Model):
    """The weights of a campaign's ranking score (the row without a campaign: the default)."""

    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.CASCADE, null=True,
                                    blank=True, related_name="ranking_weights",
                                    verbose_name=_("campaign"))
    coverage = models.FloatField(_("weight of coverage"), default=0.25,
                                 validators=[MinValueValidator(0.0)])
    closure = models.FloatField(_("weight of closure rate"), default=0.2,
                                 validators=[MinValueValidator(0.0)])
    on_time = models.FloatField(_("weight of on-time rate"), default=0.2,
                                 validators=[MinValueValidator(0.0)])
    overdue = models.FloatField(_("weight of open hazards not overdue"), default=0.15,
                                 validators=[MinValueValidator(0.0)])
    recurrence = models.FloatField(_("weight of look-backs passed"), default=0.1,
                                 validators=[MinValueValidator(0.0)])
    missed_detection = models.FloatField(_("weight of hazards not missed"), default=0.1,
                                 validators=[MinValueValidator(0.0)])
    # k of the credibility weighting n / (n + k): how many observations an area
    # needs before its own rate counts as much as the mean of its siblings.
    credibility = models.FloatField(_("credibility constant"), default=20.0,
                                 validators=[MinValueValidator(0.0)])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ranking weights")
        verbose_name_plural = _("ranking weights")

    def __str__(self) -> str:
        return str(self.campaign or _("Default"))

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in WEIGHT_FIELDS}


WEIGHT_FIELDS = ("coverage", "closure", "on_time", "overdue", "recurrence", "missed_detection")

DEFAULT_WEIGHTS: dict[str, float] = getattr(settings, "BIHUAN_RANKING_WEIGHTS", {
    "coverage": 0.25, "closure": 0.2, "on_time": 0.2, "overdue": 0.15, "recurrence": 0.1,
    "missed_detection": 0.1,
})
DEFAULT_CREDIBILITY: float = getattr(settings, "BIHUAN_RANKING_CREDIBILITY", 20.0)
