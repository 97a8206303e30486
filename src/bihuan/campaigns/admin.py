from django.contrib import admin

from bihuan.campaigns.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ["code", "name", "area", "starts_on", "ends_on"]
