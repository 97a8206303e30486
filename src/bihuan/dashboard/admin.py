"""Ranking weights are configuration (admin); summary rows are derived, never edited."""

from django.contrib import admin

from bihuan.dashboard.models import RankingWeights


@admin.register(RankingWeights)
class RankingWeightsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "coverage", "closure", "on_time", "overdue", "recurrence",
                    "missed_detection", "credibility", "updated_at"]
    list_select_related = ["campaign"]
